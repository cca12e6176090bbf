// Memory and FLOPs estimates from the checkpoint alone: inference, training
// under an optimizer and a sharding strategy, FLOPs per token. Every figure
// carries the formula that produced it; see README "estimate" for sources.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptscope/architecture.h"
#include "ptscope/checkpoint.h"
#include "ptscope/experts.h"
#include "ptscope/model_config.h"
#include "ptscope/model_sizes.h"
#include "ptscope/precision.h"

namespace ptscope {

enum class Optimizer { SGD, Momentum, Adam, AdamW, Adafactor, Adam8bit };
enum class Strategy { DDP, Zero1, Zero2, Zero3, FSDP };

const char* optimizer_name(Optimizer o);
const char* strategy_name(Strategy s);

struct EstimateOptions {
  WeightType dtype = WeightType::FP32;
  int64_t group_size = kDefaultGroupSize;       // int4: one fp16 scale per this many weights
  Optimizer optimizer = Optimizer::AdamW;
  bool mixed_precision = false;    // 16-bit weights and gradients, fp32 master copy
  int64_t batch = 1;               // per GPU
  std::optional<int64_t> seq;      // tokens per sample; default: what the file fixes
  std::optional<int64_t> heads;    // when the shapes do not fix it
  std::optional<int64_t> experts_per_token;  // top-k routing, ahead of config.json's num_experts_per_tok
  int64_t image = 224;             // resnet input size
  int64_t gpus = 1;
  Strategy strategy = Strategy::DDP;
  bool activation_checkpointing = false;
  // A folder's config.json: heads where the shapes do not fix them, the
  // default --seq (max_position_embeddings) where they fix none; each of its
  // sizes that disagrees with the shapes is a note, the shapes win.
  std::optional<ModelConfig> config;
};

// One reported figure: a value and how it was computed. A figure is never
// silently smaller than it should be: one that cannot be estimated is not
// `known` (its formula says why), and a sum that leaves terms out lists
// them in `missing` (its value is then a lower bound).
struct Line {
  std::string section;   // "experts", "inference", "training", "per gpu", "flops"
  std::string name;
  uint64_t value = 0;
  bool bytes = true;     // false: FLOPs, or a parameter count where `count`
  std::string formula;   // for an unknown figure: the reason
  bool known = true;
  std::vector<std::string> missing;  // terms left out: value is "at least"
  bool count = false;    // a number of parameters
};


struct Estimate {
  ModelSizes sizes;
  std::optional<Architecture> architecture;
  int64_t heads = 0, kv_heads = 0;  // resolved (0: unknown)
  std::string heads_source;    // "shapes", "--heads", "config.json", "head_dim N assumed: ..."; "" when unknown
  int64_t seq = 0;             // tokens used (0: no sequence model)
  std::string seq_source;

  // A mixture of experts: every expert is resident in memory (the weights
  // and training figures count them all), each token uses top_k of them.
  struct Moe {
    Experts experts;
    int64_t top_k = 0;           // experts per token; 0: unknown
    std::string top_k_source;    // "--experts-per-token", "config.json"; "" when unknown
    std::optional<uint64_t> active_parameters;  // per token; unknown without top_k
    uint64_t expert_bytes = 0;   // the routed experts' weights at the chosen precision
    std::string expert_bytes_formula;
  };
  std::optional<Moe> moe;

  struct Inference {
    uint64_t weights = 0;
    std::optional<uint64_t> activations, kv_cache;
    uint64_t total = 0;
    std::vector<std::string> missing;  // terms total leaves out ("attention scores (needs --heads)")
  } inference;
  struct Training {
    bool possible = true;
    uint64_t weights = 0, gradients = 0, optimizer = 0, master_weights = 0;
    std::optional<uint64_t> activations;
    uint64_t total = 0;        // one GPU, no sharding
    uint64_t per_gpu = 0;      // under the chosen strategy
    std::vector<std::pair<Strategy, uint64_t>> per_gpu_by_strategy;
    std::vector<std::string> missing;  // terms total and per_gpu leave out
  } training;
  struct Flops {
    std::optional<uint64_t> forward_per_token, training_per_token;
    std::optional<uint64_t> forward_per_sample, training_per_sample;
    std::optional<uint64_t> forward_per_batch, training_per_batch;
    std::string no_per_token;  // why there is no per-token figure ("a CNN has no tokens")
    std::string unknown;       // why there is no per-sample figure
  } flops;

  std::vector<Line> lines;          // every figure above, with its formula
  std::vector<std::string> notes;   // assumptions made and estimates skipped
};

// Throws Error when the file holds no model state (an optimizer, scheduler
// or rng file): nothing to estimate.
Estimate estimate(const Checkpoint& c, const EstimateOptions& o);

// The precision a quantized file's weights are stored at, which `estimate`
// uses when no --dtype is given: int4 where every quantized weight has 4 bits
// or fewer, int8 where the widest has 8; nothing for a file without
// quantized weights (Checkpoint::logical) or wider ones.
std::optional<WeightType> stored_precision(const Checkpoint& c);

// The precision `estimate` assumes when no --dtype is given: the stored
// bits of a quantized file (stored_precision), else the floating dtype
// (fp32, fp16 or bf16) most of the model's parameter bytes are in; nothing
// when those are in another dtype (fp64, integers).
std::optional<WeightType> file_precision(const Checkpoint& c);

// Memory of one sharding strategy, as the ZeRO paper (Rajbhandari et al.
// 2020) partitions it: weights W, gradients G and optimizer state O (with
// the master copy) over N GPUs.
uint64_t per_gpu_model_states(Strategy s, uint64_t weights, uint64_t grads, uint64_t optimizer, int64_t gpus);

}  // namespace ptscope
