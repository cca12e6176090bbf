#include "ptscope/checkpoint.h"

namespace ptscope {

const char* format_name(Format f) {
  switch (f) {
    case Format::TorchZip: return "torch-zip";
    case Format::TorchLegacy: return "torch-legacy";
    case Format::TorchScript: return "torchscript";
    case Format::Safetensors: return "safetensors";
    case Format::DistributedCheckpoint: return "torch-dcp";
  }
  return "?";
}

const char* role_name(Role r) {
  switch (r) {
    case Role::Unknown: return "unknown";
    case Role::Parameter: return "parameter";
    case Role::Buffer: return "buffer";
    case Role::Optimizer: return "optimizer";
    case Role::Other: return "other";
    case Role::Quantized: return "quantized";
    case Role::QuantMeta: return "quantization metadata";
  }
  return "?";
}

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::Strided: return "strided";
    case Layout::SparseCoo: return "sparse_coo";
    case Layout::SparseCsr: return "sparse_csr";
    case Layout::SparseCsc: return "sparse_csc";
    case Layout::SparseBsr: return "sparse_bsr";
    case Layout::SparseBsc: return "sparse_bsc";
  }
  return "?";
}

}  // namespace ptscope
