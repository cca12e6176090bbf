// The NVML reader against a fake libnvidia-ml (tests/fake_nvml.cc): every
// way NVML can be missing or refuse, and the process's own entry found.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "nvml.h"

namespace ptscope {
namespace {

struct FakeNvml : testing::Test {
  void SetUp() override {
    for (const char* v : {"FAKE_NVML_INIT", "FAKE_NVML_PROCS", "FAKE_NVML_PAD"}) unsetenv(v);
  }
  ProcessGpuMemory read() { return process_gpu_memory(static_cast<unsigned>(getpid()), FAKE_NVML); }
  std::string me(unsigned long long bytes) { return std::to_string(getpid()) + ":" + std::to_string(bytes); }
};

TEST_F(FakeNvml, Missing) {
  ProcessGpuMemory r = process_gpu_memory(1, "/nonexistent/libnvidia-ml.so.1");
  EXPECT_FALSE(r.bytes);
  EXPECT_EQ(r.unavailable.rfind("NVML not loaded: /nonexistent/libnvidia-ml.so.1: cannot open shared object file", 0),
            0u)
      << r.unavailable;
}

TEST_F(FakeNvml, InitFails) {
  setenv("FAKE_NVML_INIT", "9", 1);
  ProcessGpuMemory r = read();
  EXPECT_FALSE(r.bytes);
  EXPECT_EQ(r.unavailable, "NVML nvmlInit failed: Driver Not Loaded");
}

TEST_F(FakeNvml, FindsThisProcess) {
  setenv("FAKE_NVML_PROCS", ("1:5," + me(536870912) + ",7:9").c_str(), 1);
  ProcessGpuMemory r = read();
  ASSERT_TRUE(r.bytes) << r.unavailable;
  EXPECT_EQ(*r.bytes, 536870912u);
  EXPECT_EQ(r.gpu_name, "Fake H100 #0");
}

TEST_F(FakeNvml, LongProcessListIsFetchedAgain) {
  setenv("FAKE_NVML_PAD", "300", 1);
  setenv("FAKE_NVML_PROCS", me(123456).c_str(), 1);
  ProcessGpuMemory r = read();
  ASSERT_TRUE(r.bytes) << r.unavailable;
  EXPECT_EQ(*r.bytes, 123456u);
}

TEST_F(FakeNvml, NotListed) {
  setenv("FAKE_NVML_PROCS", "1:5", 1);
  ProcessGpuMemory r = read();
  EXPECT_FALSE(r.bytes);
  EXPECT_EQ(r.unavailable, "this process is not in NVML's list of compute processes (another PID namespace?)");
}

TEST_F(FakeNvml, MemoryNotAvailable) {
  setenv("FAKE_NVML_PROCS", me(~0ull).c_str(), 1);
  ProcessGpuMemory r = read();
  EXPECT_FALSE(r.bytes);
  EXPECT_EQ(r.unavailable, "NVML does not report per-process memory here (no permission, or a vGPU/MIG slice)");
}

}  // namespace
}  // namespace ptscope
