#include "built_model.h"

#include <torch/version.h>

#include <limits>

#include "mapped_file.h"
#include "model_parts.h"
#include "torch_dtypes.h"

namespace ptscope::torch_backend {


Weights::Weights(const ModelBuild& build, at::ScalarType dtype, c10::Device device) : dtype_(dtype), device_(device) {
  for (const std::string& f : build.files) files_.push_back(std::make_shared<MappedFile>(f, MappedFile::Mode::CopyOnWrite));
  for (const ModelTensor& t : build.tensors) table_[t.name] = &t;
}

Weights::~Weights() = default;

at::Tensor Weights::fetch(const std::string& name, const std::vector<int64_t>* shape, bool required) {
  if (auto it = fetched_.find(name); it != fetched_.end()) return it->second;
  auto it = table_.find(name);
  if (it == table_.end()) {
    if (required) throw BackendError("the state_dict has no '" + name + "', which the model needs");
    return {};
  }
  const ModelTensor& t = *it->second;
  if (shape && t.shape != *shape)
    throw BackendError("'" + name + "' has shape " + c10::str(at::IntArrayRef(t.shape)) + ", the model needs " +
                       c10::str(at::IntArrayRef(*shape)));
  std::optional<DType> d = dtype_from_torch_name(t.dtype);
  std::optional<at::ScalarType> type = d ? view_type(*d) : std::nullopt;
  if (!type) throw BackendError("'" + name + "' is " + t.dtype + ", which LibTorch " + TORCH_VERSION + " cannot hold");
  if (t.file < 0 || static_cast<size_t>(t.file) >= files_.size())
    throw BackendError("'" + name + "' names no file of the request");
  std::shared_ptr<MappedFile> file = files_[static_cast<size_t>(t.file)];
  int64_t item = static_cast<int64_t>(c10::elementSize(*type));
  // The view's extent must lie inside the storage, and the storage inside the file.
  int64_t extent = t.storage_offset + 1;
  for (size_t i = 0; i < t.shape.size(); ++i) extent += (t.shape[i] - 1) * t.stride.at(i);
  bool empty = std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end();
  if (t.file_offset > file->size() || t.storage_bytes > file->size() - t.file_offset ||
      (!empty && static_cast<uint64_t>(extent * item) > t.storage_bytes))
    throw BackendError("'" + name + "': its bytes lie outside the file");
  std::string place = std::to_string(t.file) + ":" + std::to_string(t.file_offset) + ":" +
                      std::to_string(t.storage_offset) + ":" + t.dtype + c10::str(at::IntArrayRef(t.shape)) +
                      c10::str(at::IntArrayRef(t.stride));
  if (auto same = by_place_.find(place); same != by_place_.end()) {
    used_.insert(name);
    return fetched_[name] = same->second;
  }
  // The mapping lives as long as any tensor over it.
  at::Tensor v = at::from_blob(
      file->data() + t.file_offset + t.storage_offset * item, t.shape, t.stride, [file](void*) {},
      at::TensorOptions().dtype(*type));
  if (at::isFloatingType(*type) && *type != dtype_) v = v.to(dtype_);
  if (!device_.is_cpu()) v = v.to(device_);
  fetched_[name] = by_place_[place] = v;
  used_.insert(name);
  return v;
}

at::Tensor Weights::param(const std::string& name, std::vector<int64_t> shape) {
  at::Tensor t = fetch(name, &shape, true);
  for (const at::Tensor& p : params_)
    if (p.is_same(t)) return t;
  params_.push_back(t);
  return t;
}

at::Tensor Weights::maybe_param(const std::string& name, std::vector<int64_t> shape) {
  return has(name) ? param(name, std::move(shape)) : at::Tensor();
}

at::Tensor Weights::buffer(const std::string& name, std::vector<int64_t> shape) {
  at::Tensor t = fetch(name, &shape, true);
  buffers_.push_back(t);
  return t;
}

void Weights::keep_buffer(const std::string& name) {
  if (has(name)) buffers_.push_back(fetch(name, nullptr, true));
}

double lowest_value(at::ScalarType t) {
  switch (t) {
    case at::kHalf: return static_cast<double>(std::numeric_limits<c10::Half>::lowest());
    case at::kBFloat16: return static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
    case at::kDouble: return std::numeric_limits<double>::lowest();
    default: return std::numeric_limits<float>::lowest();
  }
}

BuiltModel build_model(const ModelBuild& b, at::ScalarType dtype, c10::Device device) {
  auto w = std::make_unique<Weights>(b, dtype, device);
  Weights& weights = *w;
  BuiltModel out;
  if (b.family == "resnet") out.model = build_resnet(b, std::move(w));
  else if (b.family == "llama") out.model = build_llama(b, std::move(w));
  else if (b.family == "gpt2") out.model = build_gpt2(b, std::move(w));
  else if (b.family == "vit") out.model = build_vit(b, std::move(w));
  else if (b.family == "bert") out.model = build_bert(b, std::move(w));
  else if (b.family == "t5") out.model = build_t5(b, std::move(w));
  else throw BackendError("the plugin cannot build a " + b.family + " model yet (resnet, llama, gpt2, vit, bert, t5)");
  out.summary = b.family;
  if (b.family == "resnet") {
    out.summary += ", blocks";
    for (int64_t n : b.stages) out.summary += " " + std::to_string(n);
    out.summary += b.bottleneck ? " (bottleneck)" : " (basic)";
  } else {
    out.summary += ", " + std::to_string(b.layers) + " layers, hidden " + std::to_string(b.hidden);
  }
  if (b.family == "bert" && b.padding_idx >= 0)
    out.summary += " (RoBERTa: positions from " + std::to_string(b.padding_idx + 1) + ")";
  if (b.family == "t5")
    out.summary += (b.decoder_layers ? ", " + std::to_string(b.decoder_layers) + " decoder layers" : ", encoder only") +
                   std::string(b.gated_mlp ? ", gated " : ", ") + b.activation +
                   (b.decoder_layers ? (b.head_tied ? ", head tied" : ", head untied") : "");
  if (b.heads)
    out.summary += ", " + std::to_string(b.heads) + " heads" +
                   (b.kv_heads != b.heads ? " (" + std::to_string(b.kv_heads) + " kv)" : "") + " from " +
                   b.heads_source;
  if (b.experts)
    out.summary += ", " + std::to_string(b.experts) + " experts per MoE layer, top " +
                   std::to_string(b.experts_per_token) + (b.shared_expert_ffn ? ", a shared expert" : "");
  if (!b.rope.type.empty()) out.summary += ", rope_scaling " + b.rope.type + " factor " + c10::str(b.rope.factor);
  if (b.sliding_window > 0) out.summary += ", sliding window " + std::to_string(b.sliding_window);
  size_t unused = weights.unused();
  if (unused) out.summary += "; " + std::to_string(unused) + " tensors of the file unused";
  return out;
}

}  // namespace ptscope::torch_backend
