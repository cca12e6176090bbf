#include "model_folder.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <sstream>
#include <thread>

#include "affixes.h"
#include "byte_source.h"
#include "dcp_reader.h"
#include "deepspeed_folder.h"
#include "ptscope/error.h"
#include "ptscope/load.h"
#include "reader.h"
#include "scan_source.h"
#include "zip_share.h"

namespace ptscope {
namespace {

namespace fs = std::filesystem;


bool is_index(const std::string& name) { return ends_with(name, ".index.json"); }

std::string extension(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? "" : name.substr(dot);
}

// Regular files in `dir`, by name.
std::vector<std::string> file_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
  if (ec) throw Error("cannot list the folder: " + ec.message()).in_file(dir.string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_index_text(const std::string& path) {
  std::optional<std::string> text;
  try {
    text = read_small_file(path, kMaxIndexBytes);
  } catch (const Error&) {
    throw Error("cannot open the shard index").in_file(path);
  }
  if (!text) throw Error("shard index is larger than 64 MiB").in_file(path);
  return *text;
}

ModelFiles from_index(const fs::path& index_path) {
  ModelFiles m;
  m.index_file = index_path.string();
  try {
    m.index = parse_shard_index(read_index_text(m.index_file));
  } catch (const Error& e) {
    throw e.file().empty() ? e.in_file(m.index_file) : e;
  }
  fs::path dir = index_path.parent_path();
  std::vector<std::string> shard_exts;
  for (const std::string& s : m.index->shards) {
    m.shard_names.push_back(s);
    m.shard_paths.push_back((dir / s).string());
    if (std::find(shard_exts.begin(), shard_exts.end(), extension(s)) == shard_exts.end())
      shard_exts.push_back(extension(s));
  }
  for (const std::string& name : file_names(dir.empty() ? fs::path(".") : dir))
    if (!is_index(name) &&
        std::find(shard_exts.begin(), shard_exts.end(), extension(name)) != shard_exts.end() &&
        std::find(m.shard_names.begin(), m.shard_names.end(), name) == m.shard_names.end())
      m.unlisted.push_back(name);
  return m;
}

ModelFiles from_folder(const fs::path& dir) {
  std::vector<std::string> names = file_names(dir);
  // safetensors first: a repository often carries both formats of the same weights.
  for (const char* tail : {".safetensors.index.json", ".bin.index.json"}) {
    std::vector<std::string> found;
    for (const std::string& n : names)
      if (ends_with(n, tail)) found.push_back(n);
    if (found.empty()) continue;
    std::string pick = found.front();
    std::string usual = std::string(tail) == ".bin.index.json" ? "pytorch_model.bin.index.json"
                                                                : "model.safetensors.index.json";
    if (std::find(found.begin(), found.end(), usual) != found.end()) pick = usual;
    return from_index(dir / pick);
  }
  ModelFiles m;
  for (const std::vector<std::string>& exts :
       {std::vector<std::string>{".safetensors"}, std::vector<std::string>{".bin", ".pt", ".pth"}}) {
    for (const std::string& n : names)
      if (std::find(exts.begin(), exts.end(), extension(n)) != exts.end()) {
        m.shard_names.push_back(n);
        m.shard_paths.push_back((dir / n).string());
      }
    if (!m.shard_names.empty()) return m;
  }
  throw Error("no shard index and no .safetensors, .bin, .pt or .pth file in the folder").in_file(dir.string());
}

}  // namespace

ModelFiles find_model_files(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return from_folder(path);
  if (is_index(path)) return from_index(path);
  ModelFiles m;
  m.single_file = true;
  m.shard_names.push_back(path);
  m.shard_paths.push_back(path);
  return m;
}

std::vector<std::optional<Checkpoint>> read_shards(const std::vector<std::string>& paths,
                                                   const std::vector<RootVisitor>& visitors) {
  std::vector<std::optional<Checkpoint>> out(paths.size());
  std::vector<std::exception_ptr> errors(paths.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < paths.size();) {
      std::error_code ec;
      if (!fs::exists(paths[i], ec)) continue;
      try {
        out[i] = load_checkpoint(paths[i], i < visitors.size() ? visitors[i] : RootVisitor{});
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  size_t n = std::min<size_t>(paths.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

Model load_model(const std::string& path) {
  if (is_dcp_folder(path)) return load_dcp_folder(path);  // torch.distributed.checkpoint
  if (is_deepspeed_folder(path)) return load_deepspeed_folder(path);
  ModelFiles files = find_model_files(path);
  Model m;
  m.path = path;
  if (files.single_file) {
    m.files.push_back(load_checkpoint(path));
    return m;
  }
  std::vector<std::optional<Checkpoint>> read = read_shards(files.shard_paths);
  IndexCheck check;
  check.file = files.index_file;
  check.checked = files.index.has_value();
  if (files.index) {
    std::vector<const Checkpoint*> shards;
    for (const auto& c : read) shards.push_back(c ? &*c : nullptr);
    check.problems = check_shard_index(*files.index, files.shard_names, shards, files.unlisted);
  }
  for (auto& c : read)
    if (c) m.files.push_back(std::move(*c));
  m.index = std::move(check);
  std::error_code ec;
  std::string dir = fs::is_directory(path, ec) ? path : fs::path(files.index_file).parent_path().string();
  m.config = read_model_config(dir, &m.config_problem);
  return m;
}

Model load_model_scanned(const std::string& path, ScanResult& safety, const ScanOptions& options) {
  std::error_code ec;
  std::unique_ptr<ByteSource> src;
  if (fs::is_regular_file(path, ec) && !is_index(path)) {
    try {
      src = open_file(path);
    } catch (const Error&) {
      // scan_file says why, as the read below does
    }
  }
  if (!src) {
    safety = scan_file(path, options);
    return load_model(path);
  }
  ZipShare share;
  safety = scan_source(*src, path, options, &share);
  Model m;
  m.path = path;
  m.files.push_back(read_checkpoint(*src, path, RootVisitor{}, &share));
  return m;
}

}  // namespace ptscope
