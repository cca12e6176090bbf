// One file per subcommand: each adds its CLI11 options and returns the
// function that runs it, which returns the process exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "report.h"

namespace ptscope::cli {

enum ExitStatus { kOk = 0, kFileError = 1, kUsage = 2 };

using Run = std::function<int()>;

// -f/--format table|json|csv|tsv, the same on every subcommand.
inline void add_format_option(CLI::App& app, OutputFormat& format) {
  static const std::map<std::string, OutputFormat> formats = {
      {"table", OutputFormat::Table}, {"json", OutputFormat::Json},
      {"csv", OutputFormat::Csv}, {"tsv", OutputFormat::Tsv}};
  app.add_option("-f,--format", format, "Output format: table, json, csv, tsv")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->default_str("table");
}
Run setup_inspect(CLI::App& app);
Run setup_profile(CLI::App& app);
Run setup_estimate(CLI::App& app);
Run setup_backend(CLI::App& app);

}  // namespace ptscope::cli
