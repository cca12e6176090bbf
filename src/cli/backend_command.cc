// ptscope backend: loads the LibTorch plugin and says what it found. The
// one command so far that pays LibTorch's start-up cost, on purpose.
#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>

#include "commands.h"
#include "backend.h"

namespace ptscope::cli {

Run setup_backend(CLI::App& app, const GlobalOptions& global) {
  (void)app;
  (void)global;
  return [] {
    auto start = std::chrono::steady_clock::now();
    auto backend = Backend::load();
    double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const PtscopeBackendV1& api = backend->api();
    std::cout << "plugin        " << backend->path() << '\n'
              << "libtorch      " << api.torch_version() << '\n'
              << "cuda devices  " << api.cuda_device_count() << '\n'
              << "selftest      sum(arange(100)) = " << api.selftest(100) << '\n'
              << "load time     " << load_ms << " ms\n";
    return kOk;
  };
}

}  // namespace ptscope::cli
