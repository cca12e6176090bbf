// ptscope profile FILE --input SHAPE[:DTYPE]...: run a TorchScript model
// through the LibTorch plugin and report FLOPs/MACs per op and module,
// activation memory and latency. The file is read by the core first, so a
// state_dict is turned away before LibTorch is loaded.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "dtype_names.h"
#include "progress.h"
#include "backend.h"
#include "ptscope/error.h"
#include "ptscope/estimate.h"
#include "reader.h"
#include "report.h"

namespace ptscope::cli {
namespace {

using json = nlohmann::ordered_json;

struct ProfileArgs {
  std::string file;
  std::vector<std::string> inputs;
  int64_t batch = 0;
  int warmup = 3, iters = 10;
  std::string dtype = "fp32", optimizer = "adam", device = "cpu";
  bool train = false, counter_overhead = false, max_batch = false, progress = false;
  uint64_t memory_limit = 0;
  OutputFormat format = OutputFormat::Table;
};

// "1x3x224x224" or "1x128:int64" -> {"shape": [...], "dtype": ...}.
json parse_input(const std::string& spec) {
  std::string dims = spec.substr(0, spec.find(':'));
  json dtype = nullptr;
  if (dims.size() != spec.size()) dtype = spec.substr(dims.size() + 1);
  std::vector<int64_t> shape;
  std::stringstream in(dims);
  std::string d;
  while (std::getline(in, d, 'x')) {
    if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos || d.size() > 12)
      throw CLI::ValidationError("--input", "'" + spec + "' is not SHAPE[:DTYPE], e.g. 1x3x224x224 or 1x128:int64");
    shape.push_back(std::stoll(d));
  }
  return {{"shape", shape}, {"dtype", dtype}};
}

// "1.814 G (1,814,078,976)"
std::string count(uint64_t n) {
  return n < 1000 ? with_commas(n) : si_prefixed(n, "", 3) + " (" + with_commas(n) + ")";
}

std::string ms(const json& lat) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "median %.3f ms (p10 %.3f, p90 %.3f, mean %.3f) over %d iters; %.1f samples/s",
                lat["median_ms"].get<double>(), lat["p10_ms"].get<double>(), lat["p90_ms"].get<double>(),
                lat["mean_ms"].get<double>(), lat["iters"].get<int>(), lat["throughput"].get<double>());
  return buf;
}

void field(const std::string& name, const std::string& value) { write_field(std::cout, name, value); }

TextTable ops_table(const json& r) {
  TextTable t{{"kind", "name", "count", "macs", "flops"}, {false, false, true, true, true}, {}};
  for (const auto& [name, op] : r["ops"].items())
    t.rows.push_back({"op", name, std::to_string(op["count"].get<uint64_t>()),
                      std::to_string(op["macs"].get<uint64_t>()), std::to_string(op["flops"].get<uint64_t>())});
  for (const auto& [name, m] : r["modules"].items())
    t.rows.push_back({"module", name, "", std::to_string(m["macs"].get<uint64_t>()),
                      std::to_string(m["flops"].get<uint64_t>())});
  return t;
}

void write_device_and_estimate(const json& r) {
  const json& mem = r.contains("train") ? r["train"] : r;
  if (mem.contains("peak_allocated_bytes"))
    field("CUDA allocator", "peak allocated " + human_bytes(mem["peak_allocated_bytes"]) + ", peak reserved " +
                                human_bytes(mem["peak_reserved_bytes"]));
  if (r.contains("gpu_name") && !r["gpu_name"].is_null()) field("GPU", r["gpu_name"].get<std::string>());
  if (r.contains("process_bytes"))
    field("process", r["process_bytes"].is_null() ? "unknown: " + r["process_bytes_unavailable"].get<std::string>()
                                                   : human_bytes(r["process_bytes"]) + " on the GPU (NVML, as nvidia-smi)");
  if (r.contains("estimate") && !r["estimate"]["activation_bytes"].is_null()) {
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.3f", r["estimate"]["measured_over_estimate"].get<double>());
    field("estimate", human_bytes(r["estimate"]["activation_bytes"]) + " activations from the file alone (" +
                          r["estimate"]["architecture"].get<std::string>() + "); measured/estimate " + ratio);
  }
}

void write_table_report(const json& r) {
  const json& lat = r.contains("train") ? r["train"]["latency"] : r["latency"];
  std::cout << r["file"].get<std::string>() << '\n';
  field("device", r["device"].get<std::string>() + ", " + r["dtype"].get<std::string>() + ", batch " +
                      std::to_string(r["batch"].get<int64_t>()) + ", " +
                      std::to_string(lat.value("threads", 0)) + " threads");
  for (const auto& i : r["inputs"]) {
    std::string shape;
    for (const auto& d : i["shape"]) shape += (shape.empty() ? "" : "x") + std::to_string(d.get<int64_t>());
    field("input " + i["name"].get<std::string>(), shape + " " + i["dtype"].get<std::string>());
  }
  field("weights", human_bytes(r["weights_bytes"]));
  field("inputs", human_bytes(r["inputs_bytes"]));
  if (r.contains("train")) {
    const json& t = r["train"];
    field("optimizer", t["optimizer"].get<std::string>());
    field("peak memory", human_bytes(t["peak_bytes"]));
    field("  parameters", human_bytes(t["parameters_bytes"]));
    field("  gradients", human_bytes(t["gradients_bytes"]));
    field("  optimizer", human_bytes(t["optimizer_state_bytes"]));
    field("  activations", human_bytes(t["activations_bytes"]) + " saved for backward");
    field("fwd+bwd peak", human_bytes(t["forward_backward_peak_bytes"]) +
                              " above weights (activations, gradients, backward's transients)");
    field("rule of thumb", human_bytes(t["rule_of_thumb_bytes"]) + " (parameters x (1 + 1 + optimizer moments) + activations)");
    field("step latency", ms(t["latency"]));
    write_device_and_estimate(r);
    return;
  }
  field("MACs", count(r["macs"]));
  field("FLOPs", count(r["flops"]) + " forward");
  field("FLOPs fwd+bwd", count(r["flops_fwd_bwd_estimate"]) + " (estimate: 3x forward)");
  field("activations", human_bytes(r["activation_peak_bytes"]) + " peak during the forward, above weights and inputs");
  field("latency", ms(r["latency"]));
  write_device_and_estimate(r);
  if (r.contains("max_batch")) {
    const json& mb = r["max_batch"];
    std::string limit = mb["limit_bytes"].is_null() ? "out of memory" : "over " + human_bytes(mb["limit_bytes"]);
    field("max batch", std::to_string(mb["batch"].get<int64_t>()) +
                           (mb["peak_bytes"].is_null() ? "" : ", peak " + human_bytes(mb["peak_bytes"])) + " (" +
                           std::to_string(mb["tries"].size()) + " tries; a larger batch ran " + limit + ")");
  }
  if (!r["ops_without_formula"].empty()) {
    std::string names;
    for (const auto& n : r["ops_without_formula"]) names += (names.empty() ? "" : ", ") + n.get<std::string>();
    field("not priced", names);
  }
  std::cout << "\n  ops and top-level modules\n";
  write_table(std::cout, ops_table(r), "    ");
}

// The file-alone estimate for the same batch and input size, beside the
// measurement: how far the formulas are from what LibTorch allocated.
json estimate_beside(const Checkpoint& c, const ProfileArgs& a, const json& r) {
  EstimateOptions o;
  o.dtype = weight_type_from_name(a.dtype).value_or(WeightType::FP32);
  o.batch = r["batch"].get<int64_t>();
  o.optimizer = a.optimizer == "sgd" ? Optimizer::Momentum : a.optimizer == "adamw" ? Optimizer::AdamW : Optimizer::Adam;
  const json& shape = r["inputs"][0]["shape"];
  if (shape.size() == 2 && r["inputs"][0]["dtype"] == "int64") o.seq = shape[1].get<int64_t>();  // token ids
  if (shape.size() == 4) o.image = shape[2].get<int64_t>();
  Estimate e = estimate(c, o);
  std::optional<uint64_t> est = a.train ? e.training.activations : e.inference.activations;
  int64_t measured = a.train ? r["train"]["activations_bytes"].get<int64_t>() : r["activation_peak_bytes"].get<int64_t>();
  json j = {{"architecture", e.architecture ? json(e.architecture->family) : json(nullptr)},
            {"activation_bytes", est ? json(*est) : json(nullptr)},
            {"measured_over_estimate", est && *est ? json(static_cast<double>(measured) / static_cast<double>(*est))
                                                   : json(nullptr)}};
  if (a.train) {
    j["optimizer_bytes"] = e.training.optimizer;
    j["gradient_bytes"] = e.training.gradients;
  }
  return j;
}

int run_profile(const ProfileArgs& a) {
  if (a.max_batch && a.device == "cpu" && a.memory_limit == 0) {
    spdlog::error("--max-batch on the CPU needs --memory-limit: the machine would swap long before LibTorch fails");
    return kUsage;
  }
  json req = {{"file", a.file}, {"inputs", json::array()}, {"batch", a.batch},
              {"warmup", a.warmup}, {"iters", a.iters}, {"dtype", a.dtype},
              {"train", a.train}, {"optimizer", a.optimizer},
              {"counter_overhead", a.counter_overhead}, {"device", a.device},
              {"max_batch", a.max_batch}, {"memory_limit", a.memory_limit}};
  try {
    for (const std::string& s : a.inputs) req["inputs"].push_back(parse_input(s));
  } catch (const CLI::ValidationError& e) {
    spdlog::error("{}", e.what());
    return kUsage;
  }
  Checkpoint c = load_checkpoint(a.file);
  if (c.format != Format::TorchScript)
    throw Error(std::string("holds a ") + format_name(c.format) +
                " checkpoint (tensors only): there is no architecture to run; use `ptscope inspect` "
                "to count its parameters")
        .in_file(a.file);
  auto backend = Backend::load();
  spdlog::debug("backend {} (LibTorch {})", backend->path(), backend->api().torch_version());
  json r;
  std::string detail;
  Progress progress(a.progress);
  progress.update("running " + a.file + " on " + a.device + (a.max_batch ? ", searching the largest batch" : ""));
  try {
    r = backend->call("profile", req, &detail);
    progress.clear();
  } catch (const Error& e) {
    if (!detail.empty()) spdlog::debug("LibTorch's full message:\n{}", detail);
    throw e.in_file(a.file);
  }
  if (!c.tensors.empty() && !r["inputs"].empty()) r["estimate"] = estimate_beside(c, a, r);
  switch (a.format) {
    case OutputFormat::Table: write_table_report(r); break;
    case OutputFormat::Json: std::cout << r.dump(2) << '\n'; break;
    case OutputFormat::Csv:
    case OutputFormat::Tsv:
      write_delimited(std::cout, ops_table(r), a.format == OutputFormat::Csv ? ',' : '\t');
      break;
  }
  return kOk;
}

}  // namespace

Run setup_profile(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<ProfileArgs>();
  app.add_option("file", a->file, "TorchScript archive (torch.jit.save)")->required();
  // Any spelling of the dtype in, torch's canonical name out to the plugin.
  app.add_option("-i,--input", a->inputs, "One per forward argument: SHAPE[:DTYPE], e.g. 1x3x224x224 or 1x128:int64")
      ->required()
      ->transform(CLI::Validator(
          [](std::string& spec) {
            size_t colon = spec.find(':');
            if (colon == std::string::npos) return std::string();
            std::optional<std::string> dtype = torch_dtype_name(spec.substr(colon + 1));
            if (!dtype) return "'" + spec + "': unknown dtype '" + spec.substr(colon + 1) + "'";
            spec = spec.substr(0, colon + 1) + *dtype;
            return std::string();
          },
          "", "input dtype"));
  app.add_option("-b,--batch", a->batch, "Replace the first dimension of every input")->check(CLI::Range(1, 1 << 20));
  app.add_option("--warmup", a->warmup, "Untimed runs first")->check(CLI::Range(0, 10000))->capture_default_str();
  app.add_option("--iters", a->iters, "Timed runs")->check(CLI::Range(1, 100000))->capture_default_str();
  std::string dtypes;
  for (const std::string& n : float_dtype_names()) dtypes += (dtypes.empty() ? "{" : ",") + n;
  app.add_option("--dtype", a->dtype, "Convert the module and floating inputs first (spellings: " + dtype_aliases() + ")")
      ->transform(CLI::Validator(
          [](std::string& d) {
            std::optional<DType> t = float_dtype_from_name(d);
            if (!t) return "'" + d + "' is not one of " + dtype_aliases();
            d = dtype_name(*t);
            return std::string();
          },
          "", "dtype"))
      ->type_name(dtypes + "}")
      ->default_val("fp32");
  auto* train = app.add_flag("--train", a->train, "One forward + backward + optimizer step instead of a forward");
  app.add_option("--optimizer", a->optimizer, "With --train")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}))->needs(train)->capture_default_str();
  app.add_option("--device", a->device, "cpu, cuda or cuda:N")
      ->check([](const std::string& d) {
        bool ok = d == "cpu" || d == "cuda" ||
                  (d.rfind("cuda:", 0) == 0 && d.size() > 5 && d.size() < 9 &&
                   d.find_first_not_of("0123456789", 5) == std::string::npos);
        return ok ? std::string() : "'" + d + "' is not cpu, cuda or cuda:N";
      })
      ->capture_default_str();
  app.add_flag("--counter-overhead", a->counter_overhead, "Also time the forward with the FLOP counter on (benchmarks)");
  app.add_flag("--max-batch", a->max_batch,
               "Also find the largest batch whose forward fits (out of memory, or over --memory-limit)")
      ->excludes(train);
  app.add_option("--memory-limit", a->memory_limit,
                 "With --max-batch: bytes the forward may use, weights and inputs included (e.g. 2GB, 512MiB)")
      ->transform(CLI::AsSizeValue(true));
  return [a, &global] {
    a->format = global.format;
    a->progress = global.progress;
    return run_profile(*a);
  };
}

}  // namespace ptscope::cli
