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
#include "ptscope/backend.h"
#include "ptscope/error.h"
#include "ptscope/reader.h"
#include "ptscope/report.h"

namespace ptscope::cli {
namespace {

using json = nlohmann::ordered_json;

struct ProfileArgs {
  std::string file;
  std::vector<std::string> inputs;
  int64_t batch = 0;
  int warmup = 3, iters = 10;
  std::string dtype = "fp32", optimizer = "adam", device = "cpu";
  bool train = false, counter_overhead = false;
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

// "1.814 G (1,814,078,976)": decimal prefixes, as FLOP counts are quoted.
std::string count(uint64_t n) {
  static const char* prefix[] = {"", " k", " M", " G", " T", " P"};
  double v = static_cast<double>(n);
  int p = 0;
  while (v >= 1000 && p < 5) {
    v /= 1000;
    ++p;
  }
  if (p == 0) return with_commas(n);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f%s (%s)", v, prefix[p], with_commas(n).c_str());
  return buf;
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
    return;
  }
  field("MACs", count(r["macs"]));
  field("FLOPs", count(r["flops"]) + " forward");
  field("FLOPs fwd+bwd", count(r["flops_fwd_bwd_estimate"]) + " (estimate: 3x forward)");
  field("activations", human_bytes(r["activation_peak_bytes"]) + " peak during the forward, above weights and inputs");
  field("latency", ms(r["latency"]));
  if (!r["ops_without_formula"].empty()) {
    std::string names;
    for (const auto& n : r["ops_without_formula"]) names += (names.empty() ? "" : ", ") + n.get<std::string>();
    field("not priced", names);
  }
  std::cout << "\n  ops and top-level modules\n";
  write_table(std::cout, ops_table(r), "    ");
}

int run_profile(const ProfileArgs& a) {
  json req = {{"file", a.file}, {"inputs", json::array()}, {"batch", a.batch},
              {"warmup", a.warmup}, {"iters", a.iters}, {"dtype", a.dtype},
              {"train", a.train}, {"optimizer", a.optimizer},
              {"counter_overhead", a.counter_overhead}, {"device", a.device}};
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
  try {
    r = backend->call("profile", req, &detail);
  } catch (const Error& e) {
    if (!detail.empty()) spdlog::debug("LibTorch's full message:\n{}", detail);
    throw e.in_file(a.file);
  }
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

Run setup_profile(CLI::App& app) {
  auto a = std::make_shared<ProfileArgs>();
  app.add_option("file", a->file, "TorchScript archive (torch.jit.save)")->required();
  app.add_option("-i,--input", a->inputs, "One per forward argument: SHAPE[:DTYPE], e.g. 1x3x224x224 or 1x128:int64")
      ->required();
  app.add_option("-b,--batch", a->batch, "Replace the first dimension of every input")->check(CLI::Range(1, 1 << 20));
  app.add_option("--warmup", a->warmup, "Untimed runs first")->check(CLI::Range(0, 10000))->capture_default_str();
  app.add_option("--iters", a->iters, "Timed runs")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--dtype", a->dtype, "Convert the module and floating inputs first")
      ->check(CLI::IsMember({"fp32", "fp16", "bf16"}))->capture_default_str();
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
  add_format_option(app, a->format);
  return [a] { return run_profile(*a); };
}

}  // namespace ptscope::cli
