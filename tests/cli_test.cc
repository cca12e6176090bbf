// The ptscope executable end to end: what users see on stdout and stderr,
// and the exit statuses the README documents (0 ok, 1 unreadable file,
// 2 usage error).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Outcome {
  int status;
  std::string out, err;
};

Outcome ptscope(const std::string& args, const std::string& env = "") {
  std::string err_file = testing::TempDir() + "ptscope_stderr.txt";
  std::string cmd = "cd " PTSCOPE_SOURCE_DIR " && " + env + " " PTSCOPE_BINARY " " + args +
                    " 2>" + err_file;
  Outcome r{-1, "", ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (FILE* e = fopen(err_file.c_str(), "r")) {
    while ((n = fread(buf, 1, sizeof buf, e)) > 0) r.err.append(buf, n);
    fclose(e);
  }
  return r;
}

TEST(Cli, InspectTable) {
  Outcome r = ptscope("inspect fixtures/tied_lm.pt");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("torch-zip"), std::string::npos);
  EXPECT_NE(r.out.find("tied            emb.weight, head.weight"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(Cli, InspectJsonHasTheDocumentedFields) {
  Outcome r = ptscope("inspect --format json fixtures/training_checkpoint.pt");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"file", "format", "file_bytes", "tensors", "numel", "unique_numel",
                          "tensor_bytes", "storage_bytes", "overhead_bytes", "parameters",
                          "buffers", "dtypes", "byte_map", "groups"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["format"], "torch-zip");
  EXPECT_EQ(j["groups"][1]["name"], "optimizer");
  uint64_t mapped = 0;
  for (const auto& row : j["byte_map"]) mapped += row["bytes"].get<uint64_t>();
  EXPECT_EQ(mapped, j["file_bytes"].get<uint64_t>());
}

TEST(Cli, CsvHasRawIntegersAndOneHeader) {
  Outcome r = ptscope("inspect --format csv fixtures/cnn_state_dict.pt fixtures/model.safetensors");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("file,format,file_bytes,", 0), 0u);
  EXPECT_NE(r.out.find("fixtures/cnn_state_dict.pt,torch-zip,7023,15,668,"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
}

TEST(Cli, TensorsCsvNamesTheRule) {
  Outcome r = ptscope("inspect --format tsv --tensors fixtures/cnn_state_dict.pt");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("bn1.running_mean\tfloat32\t[8]\t8\t32\tbuffer\tbatchnorm running stat"),
            std::string::npos)
      << r.out;
}

TEST(Cli, MissingFileIsExitOneWithTheFileNamed) {
  Outcome r = ptscope("inspect fixtures/does_not_exist.pt");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ptscope: error: fixtures/does_not_exist.pt: cannot open: No such file or directory\n");
}

TEST(Cli, OneBadFileDoesNotStopTheOthers) {
  Outcome r = ptscope("inspect --format json fixtures/README.md fixtures/views.pt");
  EXPECT_EQ(r.status, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_TRUE(j[0].contains("error"));
  EXPECT_EQ(j[1]["tensors"], 6);
  EXPECT_NE(r.err.find("fixtures/README.md: not a PyTorch checkpoint"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at byte 0"), std::string::npos) << r.err;
}

TEST(Cli, UsageErrorsAreExitTwo) {
  EXPECT_EQ(ptscope("inspect").status, 2);
  EXPECT_EQ(ptscope("inspect --format xml fixtures/views.pt").status, 2);
  EXPECT_EQ(ptscope("inspect --depth 3 fixtures/views.pt").status, 2);  // --depth needs --tree
  EXPECT_EQ(ptscope("inspect --format csv --tensors --bytes fixtures/views.pt").status, 2);
  EXPECT_EQ(ptscope("frobnicate").status, 2);
  EXPECT_EQ(ptscope("--help").status, 0);
}

// inspect must never pay LibTorch's start-up: the dynamic loader's own log
// lists every library the process maps, dlopen()ed ones included.
TEST(Cli, InspectNeverLoadsLibTorch) {
  Outcome r = ptscope("inspect fixtures/scripted_cnn.pt", "LD_DEBUG=files");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.err.find("libspdlog"), std::string::npos) << "LD_DEBUG gave no log";
  EXPECT_EQ(r.err.find("libtorch"), std::string::npos);
  EXPECT_EQ(r.err.find("libc10"), std::string::npos);
}

TEST(Cli, BackendLoadsLibTorchOnDemand) {
  Outcome r = ptscope("backend");
  if (r.status != 0 && r.err.find("cannot load the LibTorch backend") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch: " << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("libtorch      1."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sum(arange(100)) = 4950"), std::string::npos) << r.out;
}

}  // namespace
