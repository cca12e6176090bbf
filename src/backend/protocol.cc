#include "protocol.h"

namespace ptscope {

std::optional<DType> profile_dtype(const std::string& name) {
  if (name == "fp32") return DType::Float32;
  if (name == "fp16") return DType::Float16;
  if (name == "bf16") return DType::BFloat16;
  return dtype_from_torch_name(name);
}

std::optional<WeightType> profile_weight_type(const std::string& dtype) {
  std::optional<DType> d = profile_dtype(dtype);
  if (d == DType::Float32) return WeightType::FP32;
  if (d == DType::Float16) return WeightType::FP16;
  if (d == DType::BFloat16) return WeightType::BF16;
  return std::nullopt;
}

std::optional<Optimizer> profile_optimizer(const std::string& name) {
  if (name == "sgd") return Optimizer::Momentum;  // the plugin's SGD keeps a momentum buffer
  if (name == "adam") return Optimizer::Adam;
  if (name == "adamw") return Optimizer::AdamW;
  return std::nullopt;
}

double default_norm_eps(const std::string& family) {
  if (family == "llama" || family == "vit" || family == "t5") return 1e-6;
  if (family == "bert") return 1e-12;
  return 1e-5;  // gpt2 (LayerNorm), resnet (BatchNorm2d)
}

namespace {

// An optional field: written only when set.
template <typename T>
void put(ProtocolJson& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
// Read a field if present; `v` keeps its default (the struct's) otherwise.
template <typename T>
void take(const ProtocolJson& j, const char* key, T& v) {
  v = j.value(key, v);
}

}  // namespace

// As NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT, for ordered_json (the
// macro of nlohmann 3.11.2 is for nlohmann::json only): fields in this
// order, a missing one keeps the struct's default.
#define PTSCOPE_FIELDS(Type, ...)                                                                    \
  void to_json(ProtocolJson& nlohmann_json_j, const Type& nlohmann_json_t) {                        \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))                        \
  }                                                                                                  \
  void from_json(const ProtocolJson& nlohmann_json_j, Type& nlohmann_json_t) {                      \
    Type nlohmann_json_default_obj;                                                                  \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM_WITH_DEFAULT, __VA_ARGS__))         \
  }

PTSCOPE_FIELDS(InputSpec, shape, dtype)
PTSCOPE_FIELDS(ModelTensor, name, dtype, shape, stride, storage_offset, file_offset, storage_bytes, file)
PTSCOPE_FIELDS(RopeScaling, type, factor, low_freq_factor, high_freq_factor, attention_factor, beta_fast, beta_slow,
               original_max_positions)
PTSCOPE_FIELDS(ModelBuild, family, layers, hidden, heads, kv_heads, head_dim, ffn, vocab, positions, heads_source, lm_head, head_tied,
               norm_eps, rope_theta, stages, bottleneck, groups, width_per_group, classes, channels, stem_kernel, patch,
               padding_idx, files, tensors, decoder_layers, relative_buckets, relative_max_distance, gated_mlp, activation,
               experts, expert_ffn, shared_expert_ffn, experts_per_token, norm_topk_prob, rope, max_positions,
               sliding_window, dropout_embedding, dropout_attention, dropout_hidden)
PTSCOPE_FIELDS(ProfileRequest, file, build, inputs, batch, warmup, iters, dtype, train, optimizer, device,
               counter_overhead, max_batch, memory_limit, max_batch_limit, save_io)
PTSCOPE_FIELDS(Latency, median_ms, p10_ms, p90_ms, mean_ms, iters, warmup, throughput, threads)
PTSCOPE_FIELDS(InputInfo, name, shape, dtype, bytes)
PTSCOPE_FIELDS(ParameterCount, tensors, numel, bytes)
PTSCOPE_FIELDS(OpCount, count, macs, flops)
PTSCOPE_FIELDS(ModuleCount, macs, flops)
PTSCOPE_FIELDS(LayerRow, name, type, depth, output_shape, parameters, macs, flops, activation_bytes)
PTSCOPE_FIELDS(VerifyTensor, name, dtype, shape, stride, storage_offset, file_offset, storage_bytes,
               in_state_dict)
PTSCOPE_FIELDS(VerifyRequest, file, torchscript, tensors)
PTSCOPE_FIELDS(NanInf, name, nan, inf)
PTSCOPE_FIELDS(VerifyReply, tensors_checked, elements_checked, nan, inf, tensors_with_nan_or_inf, not_checked,
               mismatches)
#undef PTSCOPE_FIELDS

// A try that ran out of memory has no peak; one that ran has no error.
void to_json(ProtocolJson& j, const MaxBatchTry& v) {
  j["batch"] = v.batch;
  put(j, "peak_bytes", v.peak_bytes);
  put(j, "error", v.error);
  j["fits"] = v.fits;
}
void from_json(const ProtocolJson& j, MaxBatchTry& v) {
  take(j, "batch", v.batch);
  take(j, "peak_bytes", v.peak_bytes);
  take(j, "error", v.error);
  take(j, "fits", v.fits);
}

void to_json(ProtocolJson& j, const MaxBatch& v) {
  j["batch"] = v.batch;
  j["peak_bytes"] = v.peak_bytes;
  j["limit_bytes"] = v.limit_bytes;
  j["tries"] = v.tries;
}
void from_json(const ProtocolJson& j, MaxBatch& v) {
  take(j, "batch", v.batch);
  take(j, "peak_bytes", v.peak_bytes);
  take(j, "limit_bytes", v.limit_bytes);
  take(j, "tries", v.tries);
}

namespace {

void put_cuda(ProtocolJson& j, const std::optional<CudaPeaks>& c) {
  if (!c) return;
  j["peak_allocated_bytes"] = c->peak_allocated_bytes;
  j["peak_reserved_bytes"] = c->peak_reserved_bytes;
}
void take_cuda(const ProtocolJson& j, std::optional<CudaPeaks>& c) {
  if (!j.contains("peak_allocated_bytes")) return;
  c.emplace();
  take(j, "peak_allocated_bytes", c->peak_allocated_bytes);
  take(j, "peak_reserved_bytes", c->peak_reserved_bytes);
}

// The forward's fields sit beside the common ones, at the top level.
void put_forward(ProtocolJson& j, const Forward& f) {
  j["macs"] = f.macs;
  j["flops"] = f.flops;
  j["flops_fwd_bwd_estimate"] = f.flops_fwd_bwd_estimate;
  j["ops"] = f.ops;
  j["modules"] = f.modules;
  j["layers"] = f.layers;
  j["ops_without_formula"] = f.ops_without_formula;
  j["activation_peak_bytes"] = f.activation_peak_bytes;
  put(j, "allocator_peak_bytes", f.allocator_peak_bytes);
  put_cuda(j, f.cuda);
  j["latency"] = f.latency;
  put(j, "latency_with_counter", f.latency_with_counter);
  put(j, "max_batch", f.max_batch);
  if (f.gpu) {
    j["process_bytes"] = f.gpu->process_bytes;
    if (!f.gpu->process_bytes) j["process_bytes_unavailable"] = f.gpu->process_bytes_unavailable;
    j["gpu_name"] = f.gpu->gpu_name;
  }
}

void take_forward(const ProtocolJson& j, Forward& f) {
  take(j, "macs", f.macs);
  take(j, "flops", f.flops);
  take(j, "flops_fwd_bwd_estimate", f.flops_fwd_bwd_estimate);
  take(j, "ops", f.ops);
  take(j, "modules", f.modules);
  take(j, "layers", f.layers);
  take(j, "ops_without_formula", f.ops_without_formula);
  take(j, "activation_peak_bytes", f.activation_peak_bytes);
  take(j, "allocator_peak_bytes", f.allocator_peak_bytes);
  take_cuda(j, f.cuda);
  take(j, "latency", f.latency);
  take(j, "latency_with_counter", f.latency_with_counter);
  take(j, "max_batch", f.max_batch);
  if (j.contains("process_bytes")) {
    f.gpu.emplace();
    take(j, "process_bytes", f.gpu->process_bytes);
    take(j, "process_bytes_unavailable", f.gpu->process_bytes_unavailable);
    take(j, "gpu_name", f.gpu->gpu_name);
  }
}

}  // namespace

void to_json(ProtocolJson& j, const Train& v) {
  j["optimizer"] = v.optimizer;
  j["peak_bytes"] = v.peak_bytes;
  j["parameters_bytes"] = v.parameters_bytes;
  j["buffers_bytes"] = v.buffers_bytes;
  j["gradients_bytes"] = v.gradients_bytes;
  j["optimizer_state_bytes"] = v.optimizer_state_bytes;
  j["activations_bytes"] = v.activations_bytes;
  j["forward_backward_peak_bytes"] = v.forward_backward_peak_bytes;
  j["rule_of_thumb_bytes"] = v.rule_of_thumb_bytes;
  j["latency"] = v.latency;
  put_cuda(j, v.cuda);
}
void from_json(const ProtocolJson& j, Train& v) {
  take(j, "optimizer", v.optimizer);
  take(j, "peak_bytes", v.peak_bytes);
  take(j, "parameters_bytes", v.parameters_bytes);
  take(j, "buffers_bytes", v.buffers_bytes);
  take(j, "gradients_bytes", v.gradients_bytes);
  take(j, "optimizer_state_bytes", v.optimizer_state_bytes);
  take(j, "activations_bytes", v.activations_bytes);
  take(j, "forward_backward_peak_bytes", v.forward_backward_peak_bytes);
  take(j, "rule_of_thumb_bytes", v.rule_of_thumb_bytes);
  take(j, "latency", v.latency);
  take_cuda(j, v.cuda);
}

void to_json(ProtocolJson& j, const ProfileReply& v) {
  j["file"] = v.file;
  j["device"] = v.device;
  j["dtype"] = v.dtype;
  j["batch"] = v.batch;
  j["inputs"] = v.inputs;
  j["parameters"] = v.parameters;
  j["weights_bytes"] = v.weights_bytes;
  j["inputs_bytes"] = v.inputs_bytes;
  put(j, "built", v.built);
  put(j, "build_ms", v.build_ms);
  put(j, "train", v.train);
  if (v.forward) put_forward(j, *v.forward);
}
void from_json(const ProtocolJson& j, ProfileReply& v) {
  take(j, "file", v.file);
  take(j, "device", v.device);
  take(j, "dtype", v.dtype);
  take(j, "batch", v.batch);
  take(j, "inputs", v.inputs);
  take(j, "parameters", v.parameters);
  take(j, "weights_bytes", v.weights_bytes);
  take(j, "inputs_bytes", v.inputs_bytes);
  take(j, "built", v.built);
  take(j, "build_ms", v.build_ms);
  take(j, "train", v.train);
  if (j.contains("macs")) take_forward(j, v.forward.emplace());
}

}  // namespace ptscope
