// ptscope scan PATH...: is each file safe to load? Files and folders, by
// content; exit 0 when every file is safe, 3 when one is not (or, with
// --fail-on dangerous, when one is dangerous), 1 when one could not be read.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "choice.h"
#include "commands.h"
#include "ptscope/scan.h"
#include "scan_report.h"

namespace ptscope::cli {
namespace {

struct ScanArgs {
  std::vector<std::string> paths;
  ScanOptions options;
  Verdict fail_on = Verdict::NeedsCode;
  OutputFormat format = OutputFormat::Table;
};

int run_scan(const ScanArgs& a) {
  std::vector<ScanResult> results = scan_paths(a.paths, a.options);
  for (const ScanResult& r : results)
    if (!r.error.empty()) spdlog::error("{}", r.error);
  write_report(std::cout, ScanReport(results), a.format);
  int status = kOk;
  for (const ScanResult& r : results) {
    if (!r.error.empty()) return kFileError;
    if (r.verdict >= a.fail_on) status = kNo;
  }
  return status;
}

}  // namespace

Run setup_scan(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<ScanArgs>();
  app.add_option("paths", a->paths, "Files and folders (scanned recursively); formats are told by content")
      ->required();
  app.add_flag("--crc", a->options.crc, "Check every zip record's CRC-32, not only the pickles' (reads all data)");
  add_choice<Verdict>(app, "--fail-on", a->fail_on,
                      {{"needs-code", Verdict::NeedsCode}, {"dangerous", Verdict::Dangerous}},
                      "Exit 3 when a file is at least this (default needs-code: anything not safe)")
      ->default_str("needs-code");
  return [a, &global] {
    a->format = global.format;
    return run_scan(*a);
  };
}

}  // namespace ptscope::cli
