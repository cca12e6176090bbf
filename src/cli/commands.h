// One file per subcommand: each adds its CLI11 options and returns the
// function that runs it, which returns the process exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "report.h"

namespace ptscope::cli {

// 0 done and clean; 1 a file could not be read; 2 usage; 3 the answer is
// "no" (NaN or Inf found, LibTorch disagrees with the metadata; later an
// unsafe file, checkpoints that differ, an inconsistent index). An
// unreadable file outranks a "no".
enum ExitStatus { kOk = 0, kFileError = 1, kUsage = 2, kNo = 3 };

using Run = std::function<int()>;

// -f/--format, -v/--verbose, -q/--quiet: the same for every command and
// accepted before or after its name, so declared once, on the top-level app
// (main.cc), which every command falls through to. Set once parsing is done.
struct GlobalOptions {
  OutputFormat format = OutputFormat::Table;
  bool verbose = false;
  bool quiet = false;
  bool progress = false;  // stderr is a terminal and not --quiet
};

Run setup_inspect(CLI::App& app, const GlobalOptions& global);
Run setup_profile(CLI::App& app, const GlobalOptions& global);
Run setup_estimate(CLI::App& app, const GlobalOptions& global);
Run setup_backend(CLI::App& app, const GlobalOptions& global);
Run setup_scan(CLI::App& app, const GlobalOptions& global);
Run setup_diff(CLI::App& app, const GlobalOptions& global);

}  // namespace ptscope::cli
