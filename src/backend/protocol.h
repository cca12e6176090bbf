// What crosses the plugin seam, typed: the requests the CLI sends and the
// replies the plugin fills, for `profile` and `verify`. They still travel as
// JSON through the one-function C table (backend.h), so the ABI does not
// change when a field is added; this header is the only place their names
// are spelled, and each default is written once, in its struct. A field a
// request or reply leaves out takes that default.
//
// Optional fields: absent from the JSON unless noted "null when ...", where
// the key is always written and null stands for "unknown".
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ptscope/dtype.h"
#include "ptscope/estimate.h"

// nlohmann 3.11.2 has no std::optional: null stands for nullopt.
namespace nlohmann {
template <typename T>
struct adl_serializer<std::optional<T>> {
  template <typename J>
  static void to_json(J& j, const std::optional<T>& v) {
    if (v) j = *v;
    else j = nullptr;
  }
  template <typename J>
  static void from_json(const J& j, std::optional<T>& v) {
    if (j.is_null()) v = std::nullopt;
    else v = j.template get<T>();
  }
};
}  // namespace nlohmann

namespace ptscope {

// ---- profile ----

struct InputSpec {
  std::vector<int64_t> shape;
  std::optional<std::string> dtype;  // null: follow ProfileRequest::dtype
};

// ---- profile of a state_dict: the model the plugin builds ----

// One weight as the file stores it, for the plugin to map (as verify does).
struct ModelTensor {
  std::string name, dtype;  // the name without the architecture's prefix; torch's dtype name
  std::vector<int64_t> shape, stride;
  int64_t storage_offset = 0;  // elements
  uint64_t file_offset = 0;    // where its storage starts in files[file]
  uint64_t storage_bytes = 0;
  int64_t file = 0;            // index into ModelBuild::files
};

// config.json's rope_scaling, as transformers' modeling_rope_utils.py reads
// it: rope_type (or the older "type") linear, dynamic, llama3 or yarn; the
// fields each type uses; 0 where config.json does not say.
struct RopeScaling {
  std::string type;
  double factor = 1, low_freq_factor = 0, high_freq_factor = 0, attention_factor = 0, beta_fast = 0, beta_slow = 0;
  int64_t original_max_positions = 0;
};

// What the plugin builds from a state_dict: the family the core recognised
// (architecture.h) and its sizes, never re-derived in the plugin. Sizes a
// file does not fix (eps, rope theta) come from config.json when it says,
// else HF's / torchvision's defaults below.
struct ModelBuild {
  std::string family;  // resnet, llama, gpt2, vit, bert, t5
  int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0, vocab = 0, positions = 0;
  std::string heads_source;       // as the estimate resolved them
  bool lm_head = false;           // the model ends in a projection to the vocabulary (logits)
  bool head_tied = false;         // ... whose matrix is the embedding's
  double norm_eps = 0;            // 0: the family's default (kDefaultNormEps)
  double rope_theta = 10000.0;    // LlamaConfig's default
  // resnet: blocks per stage, bottleneck blocks, groups x width_per_group
  std::vector<int64_t> stages;
  bool bottleneck = false;
  int64_t groups = 1, width_per_group = 64;
  int64_t classes = 0, channels = 0, stem_kernel = 7;  // resnet (hidden: the stem's width), vit
  int64_t patch = 0;                                   // vit
  // bert: RoBERTa's pad_token_id, from which its positions count (padding
  // index + 1 onwards, create_position_ids_from_input_ids); -1: BERT's 0, 1, ...
  int64_t padding_idx = -1;
  // t5: decoder blocks (0: an encoder only), the relative position bias's
  // buckets (its rows) and max distance, gated FFN (wi_0, wi_1) and its
  // activation (config's feed_forward_proj); head_tied: lm_head is `shared`
  // rescaled by d_model^-0.5 (config's tie_word_embeddings).
  int64_t decoder_layers = 0, relative_buckets = 0, relative_max_distance = 128;
  bool gated_mlp = false;
  std::string activation;
  // llama with a mixture of experts (moe_block.h): routed experts per MoE
  // layer (0: dense MLPs), one expert's and the shared expert's FFN widths
  // (0: no shared expert), experts each token is routed to, and whether the
  // top-k weights are renormalised to sum to 1 (Mixtral always; Qwen2-MoE
  // when config.json's norm_topk_prob says so).
  int64_t experts = 0, expert_ffn = 0, shared_expert_ffn = 0, experts_per_token = 0;
  bool norm_topk_prob = false;
  // llama: config.json's rope_scaling (rope_type "" when it has none) and
  // max_position_embeddings (dynamic NTK's threshold, yarn's original length);
  // sliding_window > 0: a key more than that many positions back is masked.
  RopeScaling rope;
  int64_t max_positions = 0, sliding_window = 0;
  // Dropout probabilities applied only in a --train step, where HF's modules
  // (in train mode) apply them: embeddings (GPT-2's embd_pdrop; BERT's and
  // T5's hidden one), attention weights, and the residual branches / hidden
  // outputs. From config.json, else the config class's defaults.
  double dropout_embedding = 0, dropout_attention = 0, dropout_hidden = 0;
  std::vector<std::string> files;
  std::vector<ModelTensor> tensors;
};

// Each family's normalisation epsilon when neither the file nor its config
// says: LlamaConfig.rms_norm_eps, GPT2Config.layer_norm_epsilon,
// torchvision's BatchNorm2d default and its ViT's LayerNorm(eps=1e-6),
// BertConfig / RobertaConfig.layer_norm_eps, T5Config.layer_norm_epsilon (1e-6).
double default_norm_eps(const std::string& family);

struct ProfileRequest {
  std::string file;
  std::optional<ModelBuild> build;  // null: `file` is TorchScript
  std::vector<InputSpec> inputs;  // one per forward argument
  int64_t batch = 0;              // > 0: replaces every input's first dimension
  int warmup = 3, iters = 10;
  std::string dtype = "float32";  // see profile_dtype
  bool train = false;
  std::string optimizer = "adam";  // see profile_optimizer; with train
  std::string device = "cpu";      // cpu, cuda, cuda:N
  bool counter_overhead = false;
  bool max_batch = false;
  uint64_t memory_limit = 0;       // with max_batch; 0: until out of memory
  int64_t max_batch_limit = 65536; // the largest batch max_batch tries
  std::string save_io;             // a path: the inputs and the first forward's output, torch.load-able
};

struct Latency {
  double median_ms = 0, p10_ms = 0, p90_ms = 0, mean_ms = 0;
  int iters = 0, warmup = 0;
  double throughput = 0;  // samples/s at the median
  int threads = 0;
};

struct InputInfo {
  std::string name;
  std::vector<int64_t> shape;
  std::string dtype;
  uint64_t bytes = 0;
};

// The module's unique parameters (a tied weight once), as
// model.parameters() counts them.
struct ParameterCount {
  uint64_t tensors = 0, numel = 0, bytes = 0;
};

// On CUDA: the caching allocator's peaks, every block included.
struct CudaPeaks {
  int64_t peak_allocated_bytes = 0, peak_reserved_bytes = 0;
};

struct OpCount {
  uint64_t count = 0, macs = 0, flops = 0;
};
struct ModuleCount {
  uint64_t macs = 0, flops = 0;
};

// One row of the per-layer table, in forward order: a module's inclusive
// counts (its submodules' rows, one depth deeper, add up to at most it).
struct LayerRow {
  std::string name, type;
  int64_t depth = 0;                  // 0: a child of the model
  std::vector<int64_t> output_shape;  // empty when not known (several outputs)
  uint64_t parameters = 0;            // numel; a tied weight under its first user only
  uint64_t macs = 0, flops = 0;
  uint64_t activation_bytes = 0;      // its output's bytes
};

struct MaxBatchTry {
  int64_t batch = 0;
  std::optional<int64_t> peak_bytes;  // absent when it ran out of memory
  std::optional<std::string> error;   // "out of memory"
  bool fits = false;
};

struct MaxBatch {
  int64_t batch = 0;                    // the largest that fit; 0: none
  std::optional<int64_t> peak_bytes;    // null when none fit
  std::optional<uint64_t> limit_bytes;  // null without --memory-limit
  std::vector<MaxBatchTry> tries;
};

// What nvidia-smi shows for the process (NVML), on CUDA only.
struct GpuProcess {
  std::optional<uint64_t> process_bytes;  // null when NVML could not say
  std::string process_bytes_unavailable;  // why, when it could not
  std::optional<std::string> gpu_name;    // null when unknown
};

// One forward pass (no --train).
struct Forward {
  uint64_t macs = 0, flops = 0, flops_fwd_bwd_estimate = 0;
  std::map<std::string, OpCount> ops;          // "aten::conv2d" -> counts
  std::map<std::string, ModuleCount> modules;  // top-level submodules
  std::vector<LayerRow> layers;                // every module, forward order
  std::vector<std::string> ops_without_formula;
  int64_t activation_peak_bytes = 0;
  std::optional<int64_t> allocator_peak_bytes;  // CPU: the counting allocator
  std::optional<CudaPeaks> cuda;
  Latency latency;
  std::optional<Latency> latency_with_counter;
  std::optional<MaxBatch> max_batch;
  std::optional<GpuProcess> gpu;
};

// One forward + backward + optimizer step (--train).
struct Train {
  std::string optimizer;
  int64_t peak_bytes = 0;
  uint64_t parameters_bytes = 0, buffers_bytes = 0, gradients_bytes = 0, optimizer_state_bytes = 0;
  int64_t activations_bytes = 0, forward_backward_peak_bytes = 0;
  uint64_t rule_of_thumb_bytes = 0;
  Latency latency;
  std::optional<CudaPeaks> cuda;
};

// Forward-pass fields sit at the top level of the JSON, beside the common
// ones; `train` is an object of its own. Exactly one of the two is set.
struct ProfileReply {
  std::string file, device, dtype;
  int64_t batch = 0;
  std::vector<InputInfo> inputs;
  ParameterCount parameters;
  uint64_t weights_bytes = 0;  // parameters and buffers
  uint64_t inputs_bytes = 0;
  std::optional<std::string> built;  // a state_dict: what the plugin built ("llama, 2 layers, ...")
  std::optional<double> build_ms;    // ... and how long mapping and building took
  std::optional<Train> train;
  std::optional<Forward> forward;
};

// ---- verify ----

struct VerifyTensor {
  std::string name, dtype;  // torch's dtype name
  std::vector<int64_t> shape, stride;
  int64_t storage_offset = 0;            // elements
  std::optional<uint64_t> file_offset;   // null: no data in the file
  uint64_t storage_bytes = 0;
  // TorchScript: LibTorch's named_parameters()/named_buffers() should hold
  // it (declared); packed quantized params are read and scanned, not compared.
  bool in_state_dict = true;
};

struct VerifyRequest {
  std::string file;
  bool torchscript = false;  // also load it with torch::jit::load and compare
  std::vector<VerifyTensor> tensors;
};

struct NanInf {
  std::string name;
  int64_t nan = 0, inf = 0;
};

struct VerifyReply {
  int64_t tensors_checked = 0, elements_checked = 0, nan = 0, inf = 0;
  std::vector<NanInf> tensors_with_nan_or_inf;
  std::vector<std::string> not_checked;  // "name: why"
  std::vector<std::string> mismatches;   // "name: what LibTorch loaded"
};

// ---- the names profile takes, in one place ----

// --dtype: torch's names (float32, float16, bfloat16, ...) and, for now,
// the short fp32/fp16/bf16.
std::optional<DType> profile_dtype(const std::string& name);
// The estimate's weight type for a profile dtype: floating 32 and 16 bits.
std::optional<WeightType> profile_weight_type(const std::string& dtype);
// --optimizer: sgd (with momentum), adam, adamw.
std::optional<Optimizer> profile_optimizer(const std::string& name);

// ---- JSON, for the seam and the reporters ----

using ProtocolJson = nlohmann::ordered_json;

#define PTSCOPE_PROTOCOL_JSON(Type)                \
  void to_json(ProtocolJson& j, const Type& v);    \
  void from_json(const ProtocolJson& j, Type& v);
PTSCOPE_PROTOCOL_JSON(InputSpec)
PTSCOPE_PROTOCOL_JSON(ModelTensor)
PTSCOPE_PROTOCOL_JSON(RopeScaling)
PTSCOPE_PROTOCOL_JSON(ModelBuild)
PTSCOPE_PROTOCOL_JSON(ProfileRequest)
PTSCOPE_PROTOCOL_JSON(Latency)
PTSCOPE_PROTOCOL_JSON(InputInfo)
PTSCOPE_PROTOCOL_JSON(ParameterCount)
PTSCOPE_PROTOCOL_JSON(OpCount)
PTSCOPE_PROTOCOL_JSON(ModuleCount)
PTSCOPE_PROTOCOL_JSON(LayerRow)
PTSCOPE_PROTOCOL_JSON(MaxBatchTry)
PTSCOPE_PROTOCOL_JSON(MaxBatch)
PTSCOPE_PROTOCOL_JSON(Train)
PTSCOPE_PROTOCOL_JSON(ProfileReply)
PTSCOPE_PROTOCOL_JSON(VerifyTensor)
PTSCOPE_PROTOCOL_JSON(VerifyRequest)
PTSCOPE_PROTOCOL_JSON(NanInf)
PTSCOPE_PROTOCOL_JSON(VerifyReply)
#undef PTSCOPE_PROTOCOL_JSON

}  // namespace ptscope
