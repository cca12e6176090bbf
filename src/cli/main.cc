// ptscope: inspect PyTorch checkpoints without loading them.
// Results go to stdout, diagnostics to stderr; exit status 0 on success,
// 1 when a file could not be read, 2 on a usage error.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>


#include "commands.h"
#include "ptscope/error.h"

int main(int argc, char** argv) {
  auto log = spdlog::stderr_color_mt("ptscope");
  log->set_pattern("ptscope: %^%l%$: %v");
  spdlog::set_default_logger(log);

  CLI::App app{"ptscope: inspect PyTorch checkpoints (.pt/.pth, TorchScript, safetensors) "
               "without loading or running them"};
  app.set_version_flag("--version", PTSCOPE_VERSION);
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log what is being read to stderr");
  auto* inspect = app.add_subcommand("inspect", "Count parameters, tensors and bytes; map every byte");
  auto* profile = app.add_subcommand("profile", "Run a TorchScript model: FLOPs, activation memory, latency");
  auto* estimate = app.add_subcommand("estimate", "Memory for inference and training, FLOPs per token, from the file alone");
  auto* backend = app.add_subcommand("backend", "Load the LibTorch backend and report on it");
  const std::pair<CLI::App*, ptscope::cli::Run> runs[] = {
      {inspect, ptscope::cli::setup_inspect(*inspect)},
      {profile, ptscope::cli::setup_profile(*profile)},
      {estimate, ptscope::cli::setup_estimate(*estimate)},
      {backend, ptscope::cli::setup_backend(*backend)},
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : ptscope::cli::kUsage;
  }
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
  try {
    for (auto& [sub, run] : runs)
      if (sub->parsed()) return run();
  } catch (const ptscope::Error& e) {
    spdlog::error("{}", e.describe());
    return ptscope::cli::kFileError;
  } catch (const std::exception& e) {  // a bug of ours: still one line, never an abort
    spdlog::error("internal error: {}", e.what());
    return ptscope::cli::kFileError;
  }
  return ptscope::cli::kUsage;
}
