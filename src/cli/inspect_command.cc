// ptscope inspect FILE...: everything the metadata says, without LibTorch
// and without reading tensor data.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "progress.h"
#include "backend.h"
#include "html_page.h"
#include "html_reports.h"
#include "inspect_report.h"
#include "numbers.h"
#include "ptscope/error.h"
#include "ptscope/load.h"
#include "ptscope/scan.h"

namespace ptscope::cli {
namespace {

struct InspectArgs {
  std::vector<std::string> files;
  InspectViews views;
  OutputFormat format = OutputFormat::Table;
  bool verify = false;
  bool progress = false;
  std::string html;  // --html FILE: the first file's page
};

VerifyTensor verify_tensor(const Checkpoint& c, const Tensor& t, std::string name) {
  const Storage* s = t.storage >= 0 ? &c.storages[static_cast<size_t>(t.storage)] : nullptr;
  VerifyTensor v;
  v.name = std::move(name);
  v.dtype = dtype_name(t.dtype);
  v.shape = t.shape;
  v.stride = t.stride;
  v.storage_offset = t.storage_offset;
  if (s && s->file_offset) v.file_offset = *s->file_offset;
  v.storage_bytes = s ? s->nbytes : 0;
  v.in_state_dict = c.format != Format::TorchScript || t.declared;
  return v;
}

// What the LibTorch plugin needs to rebuild every tensor over the file's
// bytes: the metadata path's own answer, for LibTorch to check. A sparse
// tensor is checked through what the file stores for it, its indices and
// values, each named "entry (part)".
VerifyRequest verify_request(const Checkpoint& c) {
  VerifyRequest req;
  req.file = c.path;
  req.torchscript = c.format == Format::TorchScript;
  for (const Tensor& t : c.tensors) {
    if (t.layout == Layout::Strided) {
      req.tensors.push_back(verify_tensor(c, t, t.name));
      continue;
    }
    for (const Tensor& part : t.parts)
      req.tensors.push_back(verify_tensor(c, part, t.name + " (" + part.name + ")"));
  }
  return req;
}

// Loads LibTorch once, for the first file that needs it.
const Backend& backend() {
  static std::unique_ptr<Backend> b = Backend::load();
  return *b;
}

void verify_one(InspectedFile& f) {
  const Checkpoint& c = f.inspection->checkpoint;
  try {
    // The plugin reads one file at the offsets its reader found.
    if (f.inspection->index) throw Error("--verify reads single files: give the shard files themselves");
    if (c.metadata.count("byteorder") && c.metadata.at("byteorder") == "big")
      throw Error("big-endian tensor data cannot be verified");
    f.verify = backend().verify(verify_request(c));
  } catch (const Error& e) {
    f.error = e.in_file(f.path).describe();
    spdlog::error("{}", f.error);
    return;
  }
  // Findings, not read errors: the file was read, and the answer is "no".
  for (const std::string& m : f.verify->mismatches)
    spdlog::error("{}: LibTorch disagrees with the metadata: {}", f.path, m);
  if (f.verify->nan || f.verify->inf)
    spdlog::warn("{}: {} NaN and {} Inf values in {}", f.path, f.verify->nan, f.verify->inf,
                 counted(f.verify->tensors_with_nan_or_inf.size(), "tensor"));
}

bool answer_is_no(const InspectedFile& f) {
  if (f.inspection && f.inspection->index && !f.inspection->index->problems.empty()) return true;
  if (f.inspection && f.inspection->deepspeed && !f.inspection->deepspeed->problems.empty()) return true;
  return f.verify && (f.verify->nan || f.verify->inf || !f.verify->mismatches.empty());
}

// The verdict of the least safe file: scan's reading, metadata only.
void add_safety(InspectedFile& f, ScanResult r) {
  if (!f.safety || !r.error.empty() || (f.safety->error.empty() && r.verdict > f.safety->verdict))
    f.safety = std::move(r);
}
void add_safety(InspectedFile& f, const std::vector<std::string>& files) {
  for (ScanResult& r : scan_paths(files)) add_safety(f, std::move(r));
}

InspectedFile inspect_one(const std::string& path, const InspectViews& views) {
  InspectedFile f;
  f.path = path;
  auto start = std::chrono::steady_clock::now();
  // A single file is scanned as it is read, one pass over its object
  // pickle for both; a folder's files are known once it is read.
  std::error_code ec;
  bool one_file = std::filesystem::is_regular_file(path, ec);
  ScanResult safety;
  try {
    f.inspection = inspect(one_file ? load_model_scanned(path, safety) : load_model(path), views);
  } catch (const Error& e) {
    if (one_file) add_safety(f, std::move(safety));
    f.error = e.describe();
    spdlog::error("{}", f.error);
    return f;
  }
  if (one_file) add_safety(f, std::move(safety));
  // The rest: a folder's files, or the shards a single index file names.
  std::vector<std::string> files;
  for (const InspectedPart& part : f.inspection->parts)
    if (!one_file || part.path != path) files.push_back(part.path);
  if (!one_file && files.empty()) files.push_back(f.inspection->checkpoint.path);
  if (!files.empty()) add_safety(f, files);
  // Findings, not read errors: every file was read, and the answer is "no".
  if (!f.inspection->config_problem.empty()) spdlog::warn("{}", f.inspection->config_problem);
  if (f.inspection->index)
    for (const std::string& p : f.inspection->index->problems) spdlog::error("{}: {}", path, p);
  if (f.inspection->deepspeed)
    for (const std::string& p : f.inspection->deepspeed->problems) spdlog::error("{}: {}", path, p);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  spdlog::debug("{}: {} tensors, {} storages, read in {:.2f} ms", path, f.inspection->checkpoint.tensors.size(),
                f.inspection->checkpoint.storages.size(), ms.count());
  return f;
}

int run_inspect(const InspectArgs& a) {
  bool delimited = a.format == OutputFormat::Csv || a.format == OutputFormat::Tsv;
  if (delimited && int(a.views.tensors) + int(a.views.tree) + int(a.views.bytes) > 1) {
    spdlog::error("--format csv/tsv writes one table: choose one of --tensors, --tree, --bytes");
    return kUsage;
  }
  if (!a.html.empty() && a.files.size() != 1) {
    spdlog::error("--html writes one page: give one file");
    return kUsage;
  }
  std::vector<InspectedFile> files;
  // One small file reads in milliseconds: progress for several, or for
  // LibTorch reading every tensor.
  Progress progress(a.progress && (a.files.size() > 1 || a.verify));
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < a.files.size(); ++i) {
    const std::string& path = a.files[i];
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.update(progress_line("reading " + path, i, a.files.size(), seconds));
    files.push_back(inspect_one(path, a.views));
    if (a.verify && files.back().inspection) {
      progress.update(progress_line("verifying " + path + " with LibTorch", i, a.files.size(), seconds), true);
      verify_one(files.back());
    }
  }
  progress.clear();
  write_report(std::cout, InspectReport(files, a.views), a.format);
  if (!a.html.empty() && files.front().inspection) write_html_file(a.html, inspect_html(*files.front().inspection));
  int status = kOk;
  for (const InspectedFile& f : files) {
    if (!f.error.empty()) return kFileError;
    if (answer_is_no(f)) status = kNo;
  }
  return status;
}

}  // namespace

Run setup_inspect(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<InspectArgs>();
  app.add_option("files", a->files, "Checkpoint files (.pt/.pth zip or legacy, TorchScript, safetensors), model folders or shard index files")
      ->required();
  app.add_flag("--tensors", a->views.tensors, "List every tensor entry with its role and the rule behind it");
  auto* tree = app.add_flag("--tree", a->views.tree, "numel and bytes per module prefix");
  app.add_option("--depth", a->views.depth, "Module depth for --tree")
      ->check(CLI::Range(1, 64))
      ->needs(tree)
      ->capture_default_str();
  app.add_flag("--bytes", a->views.bytes, "Label every byte range of the file");
  app.add_option("--html", a->html, "Also write a self-contained HTML page (treemap, byte map, tensor table) to this file");
  app.add_flag("--verify", a->verify,
               "Also read every tensor's data through LibTorch: check it against the metadata, count NaN/Inf");
  return [a, &global] {
    a->format = global.format;
    a->progress = global.progress;
    return run_inspect(*a);
  };
}

}  // namespace ptscope::cli
