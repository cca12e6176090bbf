// Conformance with checkpoints other projects wrote with torch 2.x
// (../shared/corpus, or $PTSCOPE_CORPUS): every file against the numbers
// Python's torch computed for it in expected.jsonl. Skipped, saying so,
// where the corpus is absent.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "byte_map.h"
#include "module_tree.h"
#include "ptscope/summary.h"
#include "ptscope/error.h"
#include "reader.h"
#include "fixture_files.h"

namespace ptscope {
namespace {

using json = nlohmann::json;

std::string corpus_dir() {
  const char* env = std::getenv("PTSCOPE_CORPUS");
  return env && *env ? env : test::source_path("../shared/corpus");
}

// file name -> path, over the corpus's subfolders.
std::map<std::string, std::string> corpus_files() {
  std::map<std::string, std::string> files;
  std::string root = corpus_dir();
  DIR* top = opendir(root.c_str());
  if (!top) return files;
  while (dirent* d = readdir(top)) {
    std::string sub = root + "/" + d->d_name;
    if (d->d_name[0] == '.') continue;
    if (DIR* inner = opendir(sub.c_str())) {
      while (dirent* f = readdir(inner))
        if (f->d_name[0] != '.' && std::string(f->d_name) != "SOURCES.tsv")
          files[f->d_name] = sub + "/" + f->d_name;
      closedir(inner);
    }
  }
  closedir(top);
  return files;
}

// describe() of the error loading `path`, or "no error".
std::string load_error(const std::string& path) {
  try {
    load_checkpoint(path);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

// What ptscope says, after "<path>: ", about the corpus files torch cannot load.
const std::map<std::string, std::string> load_errors = {
    {"reader_broken.pt",  // "abc"
     "not a PyTorch checkpoint: no zip signature, safetensors header or pickle protocol "
     "marker at byte 0"},
};

TEST(Corpus, EveryFileMatchesTorch) {
  auto files = corpus_files();
  if (files.empty()) GTEST_SKIP() << "no corpus at " << corpus_dir() << ": conformance not checked";
  std::ifstream lines(corpus_dir() + "/expected.jsonl");
  std::string line;
  std::set<std::string> checked;
  while (std::getline(lines, line)) {
    json want = json::parse(line);
    std::string name = want["file"];
    SCOPED_TRACE(name);
    ASSERT_TRUE(files.count(name)) << "expected.jsonl names a file the corpus lacks";
    checked.insert(name);
    if (want.contains("error")) {
      // torch's own message (want["error"]) is not ours: ptscope's exact
      // text for each file torch cannot load is listed here.
      ASSERT_TRUE(load_errors.count(name)) << "no expected ptscope error for " << name;
      EXPECT_EQ(files[name] + ": " + load_errors.at(name), load_error(files[name]));
      continue;
    }
    Checkpoint c = load_checkpoint(files[name]);
    Summary s = summarize(c);
    EXPECT_EQ(format_name(c.format), want["format"].get<std::string>());
    EXPECT_EQ(c.file_bytes, want["size"].get<uint64_t>());
    EXPECT_EQ(s.all.tensors, want["tensors"].get<uint64_t>());
    EXPECT_EQ(s.all.numel, want["numel"].get<uint64_t>());
    EXPECT_EQ(s.all.bytes, want["bytes"].get<uint64_t>());
    EXPECT_EQ(s.storage_bytes, want["storage_bytes"].get<uint64_t>());
    if (want.contains("dtype_numel")) {
      json dtypes = json::object();
      for (const auto& [dt, n] : s.dtypes) dtypes[dt] = n.numel;
      EXPECT_EQ(dtypes, want["dtype_numel"]);
    }
    if (want.contains("parameters")) {  // TorchScript: exact, from the archive
      ASSERT_TRUE(s.parameters && s.buffers);
      EXPECT_EQ(s.parameters->numel, want["parameters"].get<uint64_t>());
      EXPECT_EQ(s.parameters->tensors, want["parameter_tensors"].get<uint64_t>());
      EXPECT_EQ(s.buffers->numel, want["buffers"].get<uint64_t>());
      EXPECT_EQ(s.buffers->tensors, want["buffer_tensors"].get<uint64_t>());
    }
    uint64_t mapped = 0;
    for (const ByteMapRow& r : byte_map(byte_ranges(c))) mapped += r.bytes;
    EXPECT_EQ(mapped, c.file_bytes);
  }
  for (const auto& [name, path] : files)
    EXPECT_TRUE(checked.count(name)) << name << " has no line in expected.jsonl";
}

}  // namespace
}  // namespace ptscope
