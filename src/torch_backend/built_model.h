// A state_dict's model, built in LibTorch's C++ API from the sizes the core
// recognised (ModelBuild, protocol.h) over the file's own bytes: each weight
// is a view of the mapped file (copied once only when --dtype or --device
// asks for another type or place). The forwards follow the reference
// implementations, file by file: resnet_model.cc, llama_model.cc,
// gpt2_model.cc, vit_model.cc, bert_model.cc, t5_model.cc.
#pragma once

#include <memory>
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "protocol.h"
#include "runnable.h"

namespace ptscope::torch_backend {

struct BuiltModel {
  std::unique_ptr<Runnable> model;
  std::string summary;  // "llama: 2 layers, hidden 64, 4 heads (2 kv, from shapes), ..."
};

// Throws BackendError for a family it cannot build, or a weight the forward
// needs that the file lacks (or has in another shape).
BuiltModel build_model(const ModelBuild& build, at::ScalarType dtype, c10::Device device);

}  // namespace ptscope::torch_backend
