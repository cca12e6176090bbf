// A TorchScript archive (torch.jit.save) as profile's Runnable: loaded by
// torch::jit::load, run by its interpreter, its forward's arguments checked
// against the schema, per-layer parameters from its module tree.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <string>

#include "runnable.h"

namespace ptscope::torch_backend {

// The archive on `device`, floating weights converted to `float_type`;
// BackendError with LibTorch's last line when it does not load.
std::unique_ptr<Runnable> load_script_model(const std::string& file, at::ScalarType float_type, c10::Device device);

// The op every submodule call of a counted TorchScript forward is followed
// by (ScriptModel::for_counting): module_output(name, type, output), `name`
// the submodule's path from its caller. The op counter reads it; it counts
// for nothing.
constexpr const char* kModuleOutputOp = "ptscope::module_output";

}  // namespace ptscope::torch_backend
