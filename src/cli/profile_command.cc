// ptscope profile FILE --input SHAPE[:DTYPE]...: run a TorchScript model,
// or a state_dict's model the plugin builds, through the LibTorch plugin and
// report FLOPs/MACs per op, module and layer, activation memory and latency.
// The file is read by the core first, so a state_dict of no architecture
// profile builds is turned away before LibTorch is loaded.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "deadline.h"
#include "dtype_names.h"
#include "model_build.h"
#include "progress.h"
#include "backend.h"
#include "profile_estimate.h"
#include "profile_report.h"
#include "ptscope/error.h"
#include "ptscope/load.h"
#include "report.h"
#include "table.h"

namespace ptscope::cli {
namespace {

// The plugin's defaults, for the options that take them as they are.
const ProfileRequest kDefaults;

struct ProfileArgs {
  std::string file;
  std::vector<std::string> inputs;
  int64_t batch = kDefaults.batch;
  int warmup = kDefaults.warmup, iters = kDefaults.iters;
  std::string dtype = kDefaults.dtype, optimizer = kDefaults.optimizer, device = kDefaults.device;
  bool train = false, counter_overhead = false, max_batch = false, progress = false;
  std::string save_io;
  int64_t experts_per_token = 0;  // 0: config.json's num_experts_per_tok
  int depth = 3;  // per-layer rows this many levels deep, as torchinfo's default
  uint64_t memory_limit = kDefaults.memory_limit;
  // Seconds LibTorch may run the file's code (load, warm-up, timed runs,
  // batch search): generous, since a real model on a CPU can take minutes.
  unsigned timeout = 900;
  OutputFormat format = OutputFormat::Table;
};

// "1x3x224x224" or "1x128:int64"
InputSpec parse_input(const std::string& spec) {
  std::string dims = spec.substr(0, spec.find(':'));
  InputSpec in;
  if (dims.size() != spec.size()) in.dtype = spec.substr(dims.size() + 1);
  std::stringstream ds(dims);
  std::string d;
  while (std::getline(ds, d, 'x')) {
    if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos || d.size() > 12)
      throw CLI::ValidationError("--input", "'" + spec + "' is not SHAPE[:DTYPE], e.g. 1x3x224x224 or 1x128:int64");
    in.shape.push_back(std::stoll(d));
  }
  return in;
}

int run_profile(const ProfileArgs& a) {
  if (a.max_batch && a.device == "cpu" && a.memory_limit == 0) {
    spdlog::error("--max-batch on the CPU needs --memory-limit: the machine would swap long before LibTorch fails");
    return kUsage;
  }
  ProfileRequest req;
  req.file = a.file;
  req.batch = a.batch;
  req.warmup = a.warmup;
  req.iters = a.iters;
  req.dtype = a.dtype;
  req.train = a.train;
  req.optimizer = a.optimizer;
  req.device = a.device;
  req.counter_overhead = a.counter_overhead;
  req.max_batch = a.max_batch;
  req.memory_limit = a.memory_limit;
  try {
    for (const std::string& s : a.inputs) req.inputs.push_back(parse_input(s));
  } catch (const CLI::ValidationError& e) {
    spdlog::error("{}", e.what());
    return kUsage;
  }
  // A TorchScript archive runs as it is; a state_dict (file or folder) is
  // recognised here and built by the plugin (model_build.h).
  Model model = load_model(a.file);
  Checkpoint c = model.files.size() == 1 ? model.files[0] : merge_checkpoints(model.files, a.file);
  if (c.format != Format::TorchScript) {
    try {
      req.build = model_build(model, c,
                              a.experts_per_token ? std::optional<int64_t>(a.experts_per_token) : std::nullopt);
    } catch (const Error& e) {
      throw e.in_file(a.file);
    }
  }
  req.save_io = a.save_io;
  auto backend = Backend::load();
  spdlog::debug("backend {} (LibTorch {})", backend->path(), backend->api().torch_version());
  ProfileReply r;
  std::string detail;
  Progress progress(a.progress);
  progress.update("running " + a.file + " on " + a.device + (a.max_batch ? ", searching the largest batch" : ""));
  try {
    // The forward is the file's own code: one that never returns is ended
    // with one error line, not waited on.
    Deadline deadline(a.timeout, std::string(a.progress ? "\r\033[K" : "") + "ptscope: error: " +
                                     printable(a.file) + ": LibTorch ran longer than --timeout " +
                                     std::to_string(a.timeout) + " s: stopped\n");
    r = backend->profile(req, &detail);
    progress.clear();
  } catch (const Error& e) {
    if (!detail.empty()) spdlog::debug("LibTorch's full message:\n{}", detail);
    throw e.in_file(a.file);
  }
  if (r.forward) {
    auto& layers = r.forward->layers;
    layers.erase(std::remove_if(layers.begin(), layers.end(), [&](const LayerRow& l) { return l.depth >= a.depth; }),
                 layers.end());
  }
  std::vector<ProfiledFile> files;
  std::optional<EstimateBeside> estimate = estimate_beside(c, r);
  files.push_back({std::move(r), std::move(estimate)});
  write_report(std::cout, ProfileReport(files), a.format);
  return kOk;
}

}  // namespace

Run setup_profile(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<ProfileArgs>();
  app.add_option("file", a->file,
                 "TorchScript archive (torch.jit.save), or a state_dict file or model folder of a family "
                 "profile builds (resnet, vit, llama, gpt2, bert/roberta)")
      ->required();
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
  app.add_option("--timeout", a->timeout,
                 "Seconds LibTorch may run the model (load, warm-up, timed runs) before ptscope stops it; 0: no limit")
      ->check(CLI::Range(0, 7 * 24 * 3600))
      ->capture_default_str();
  app.add_option("--depth", a->depth, "Per-layer table: modules this many levels deep (1: the model's children)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--save-io", a->save_io,
                 "Write the inputs and the first forward's output to this file (torch.load reads it), to compare "
                 "with a reference implementation");
  app.add_option("--experts-per-token", a->experts_per_token,
                 "Mixture of experts: experts each token is routed to (default: config.json's num_experts_per_tok)")
      ->check(CLI::Range(1, 1 << 20));
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
