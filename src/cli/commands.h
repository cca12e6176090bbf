// One file per subcommand: each adds its CLI11 options and returns the
// function that runs it, which returns the process exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace ptscope::cli {

enum ExitStatus { kOk = 0, kFileError = 1, kUsage = 2 };

using Run = std::function<int()>;
Run setup_inspect(CLI::App& app);
Run setup_profile(CLI::App& app);
Run setup_backend(CLI::App& app);

}  // namespace ptscope::cli
