// inspect --verify: read every tensor's data through LibTorch and check it
// against what the metadata path said. Tensors are built over the file's
// own bytes (mmap, then torch::from_blob), never copied whole, and scanned
// in chunks whose pages are dropped as soon as they are read, so a 2 GB
// file does not need 2 GB of memory. TorchScript archives are also loaded
// with torch::jit::load, and its state_dict compared entry by entry.
#include <ATen/ATen.h>
#include <torch/script.h>

#include <map>
#include <optional>
#include <torch/version.h>

#include "commands.h"
#include "mapped_file.h"
#include "torch_dtypes.h"

namespace ptscope::torch_backend {
namespace {

constexpr int64_t kChunkElements = int64_t{1} << 22;


struct Scan {
  int64_t nan = 0, inf = 0;
};

// NaN and Inf in chunks along the first dimension.
Scan scan(const at::Tensor& t, const MappedFile& file) {
  Scan s;
  bool floating = at::isFloatingType(t.scalar_type()) || at::isComplexType(t.scalar_type());
  if (t.numel() == 0) return s;
  at::Tensor v = t.dim() == 0 ? t.reshape({1}) : t;
  int64_t row = v.numel() / std::max<int64_t>(v.size(0), 1);
  int64_t rows = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(row, 1));
  for (int64_t r = 0; r < v.size(0); r += rows) {
    at::Tensor chunk = v.narrow(0, r, std::min(rows, v.size(0) - r));
    if (floating) {
      s.nan += at::isnan(chunk).sum().item<int64_t>();
      s.inf += at::isinf(chunk).sum().item<int64_t>();
    } else {
      chunk.sum();  // still touch (read) every element
    }
    file.drop(chunk.data_ptr(), static_cast<size_t>(chunk.numel() * chunk.element_size()));
  }
  return s;
}

// The TorchScript module's state_dict as LibTorch loads it, against ours.
std::vector<std::string> compare_torchscript(const std::string& path, const std::vector<VerifyTensor>& tensors,
                                             std::vector<std::string>& not_checked) {
  torch::jit::Module m = torch::jit::load(path, c10::Device(c10::DeviceType::CPU));
  std::map<std::string, at::Tensor> loaded;
  for (const auto& p : m.named_parameters()) loaded[p.name] = p.value;
  for (const auto& b : m.named_buffers()) loaded[b.name] = b.value;
  std::vector<std::string> mismatches;
  size_t outside = 0;
  for (const VerifyTensor& t : tensors) {
    if (!t.in_state_dict) {
      ++outside;
      continue;
    }
    auto it = loaded.find(t.name);
    if (it == loaded.end()) {
      mismatches.push_back(t.name + ": not in the module LibTorch loaded");
      continue;
    }
    if (it->second.sizes().vec() != t.shape)
      mismatches.push_back(t.name + ": LibTorch loads shape " + c10::str(it->second.sizes()));
    loaded.erase(it);
  }
  for (const auto& [name, t] : loaded) mismatches.push_back(name + ": LibTorch loads it, ptscope did not list it");
  if (outside)
    not_checked.push_back(std::to_string(outside) +
                          " tensors outside LibTorch's state_dict (quantized packed params, __getstate__ "
                          "state): data read, names not compared");
  return mismatches;
}

}  // namespace

VerifyReply verify(const VerifyRequest& req) {
  MappedFile file(req.file, MappedFile::Mode::ReadOnly);
  VerifyReply out;
  for (const VerifyTensor& t : req.tensors) {
    std::optional<DType> dtype = dtype_from_torch_name(t.dtype);
    auto type = dtype ? view_type(*dtype) : std::nullopt;
    if (!type) {
      out.not_checked.push_back(t.name + ": LibTorch " + std::string(TORCH_VERSION) + " has no " + t.dtype);
      continue;
    }
    if (!t.file_offset) continue;  // no data in the file (meta tensors)
    uint64_t offset = *t.file_offset, nbytes = t.storage_bytes;
    if (offset > file.size() || nbytes > file.size() - offset)
      throw BackendError(t.name + ": storage lies outside the file");
    int64_t itemsize = static_cast<int64_t>(c10::elementSize(*type));
    at::Tensor storage = at::from_blob(file.data() + offset, {static_cast<int64_t>(nbytes) / itemsize},
                                       at::TensorOptions().dtype(*type));
    at::Tensor view = storage.as_strided(t.shape, t.stride, t.storage_offset);
    Scan s = scan(view, file);
    out.nan += s.nan;
    out.inf += s.inf;
    ++out.tensors_checked;
    out.elements_checked += view.numel();
    if (s.nan || s.inf) out.tensors_with_nan_or_inf.push_back({t.name, s.nan, s.inf});
  }
  if (req.torchscript) out.mismatches = compare_torchscript(req.file, req.tensors, out.not_checked);
  return out;
}

}  // namespace ptscope::torch_backend
