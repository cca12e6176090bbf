// ptscope diff A B: what changed between two checkpoints. Values are read
// from the files (src/values), never through LibTorch.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "diff_report.h"
#include "file_values.h"
#include "html_page.h"
#include "html_reports.h"
#include "ptscope/error.h"
#include "ptscope/load.h"

namespace ptscope::cli {
namespace {

struct DiffArgs {
  std::string a, b, html;
  bool structure = false;
};

int run_diff(const DiffArgs& args, const GlobalOptions& global) {
  Model a, b;
  for (auto [path, model] : {std::pair{&args.a, &a}, std::pair{&args.b, &b}}) {
    try {
      *model = load_model(*path);
    } catch (const Error& e) {
      spdlog::error("{}", e.describe());
      return kFileError;
    }
  }
  FileValues values;
  Diff d;
  try {
    d = diff_models(a, b, args.structure ? nullptr : &values);
  } catch (const Error& e) {  // a storage that cannot be read after all
    spdlog::error("{}", e.describe());
    return kFileError;
  }
  DiffReport report(d);
  write_report(std::cout, report, global.format);
  if (!args.html.empty()) write_html_file(args.html, diff_html(d));
  return d.same() ? kOk : kNo;
}

}  // namespace

Run setup_diff(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<DiffArgs>();
  app.add_option("a", a->a, "The first checkpoint: a file, model folder or shard index")->required();
  app.add_option("b", a->b, "The second, compared against the first")->required();
  app.add_flag("--structure", a->structure, "Compare names, shapes and dtypes only; read no tensor data");
  app.add_option("--html", a->html, "Also write a self-contained HTML page of the diff to this file");
  return [a, &global] { return run_diff(*a, global); };
}

}  // namespace ptscope::cli
