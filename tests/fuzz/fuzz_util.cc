#include "fuzz_util.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <streambuf>
#include <vector>

#include "estimate_report.h"
#include "inspect_report.h"
#include "ptscope/error.h"
#include "ptscope/estimate.h"

namespace ptscope::fuzz {
namespace fs = std::filesystem;

namespace {

// Discards everything, but as a real stream buffer: every character is
// formatted and handed over, unlike an ostream without a buffer, which
// stops at the first write.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "ptscope-fuzz-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The estimate the CLI makes without options (the file's own precision),
// and a training run that takes every other branch: mixed precision,
// ZeRO-3 over 8 GPUs, activation checkpointing, int4 weights.
void estimate_and_report(const Model& m) {
  Checkpoint c = m.index ? merge_checkpoints(m.files, m.path) : m.files.front();
  EstimateOptions plain;
  plain.config = m.config;
  if (std::optional<WeightType> w = stored_precision(c)) plain.dtype = *w;
  else if (std::optional<WeightType> f = file_precision(c)) plain.dtype = *f;
  EstimateOptions training = plain;
  training.dtype = WeightType::INT4;
  training.mixed_precision = true;
  training.strategy = Strategy::Zero3;
  training.gpus = 8;
  training.batch = 4;
  training.seq = 4096;
  training.activation_checkpointing = true;
  for (const EstimateOptions& o : {plain, training}) {
    std::vector<EstimatedFile> files;
    try {
      files.push_back({c, estimate(c, o)});
    } catch (const Error&) {  // no model state in the file: an answer
      continue;
    }
    write_all_formats(EstimateReport(files, o, Units::Both));
  }
}

}  // namespace

void write_all_formats(const Report& r) {
  static NullBuffer buffer;
  static std::ostream out(&buffer);
  for (OutputFormat f : {OutputFormat::Table, OutputFormat::Json, OutputFormat::Csv, OutputFormat::Tsv})
    write_report(out, r, f);
}

const std::string& scratch_dir() {
  static ScratchDir dir;
  return dir.path;
}

void empty_scratch_dir() {
  for (const fs::directory_entry& e : fs::directory_iterator(scratch_dir())) fs::remove_all(e.path());
}

void write_file(const std::string& path, const uint8_t* data, size_t size) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) std::abort();  // the harness's own failure, not the input's
}

void inspect_and_report(Model model) {
  if (model.files.empty()) return;
  estimate_and_report(model);
  InspectViews all;
  all.tensors = all.tree = all.bytes = true;
  all.depth = 3;
  std::vector<InspectedFile> files;
  files.push_back({model.path, inspect(std::move(model), all), "", std::nullopt, std::nullopt});
  // The summary, then each view alone (CSV/TSV write one view at a time).
  InspectViews only_tensors, only_tree, only_bytes;
  only_tensors.tensors = only_tree.tree = only_bytes.bytes = true;
  for (const InspectViews& v : {InspectViews{}, only_tensors, only_tree, only_bytes, all})
    write_all_formats(InspectReport(files, v));
}

}  // namespace ptscope::fuzz
