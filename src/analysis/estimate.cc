// Inference and training memory from the parameter count and, where the
// architecture is recognised, its shape. Optimizer state per parameter:
// SGD 0, momentum 1 copy, Adam/AdamW 2 (exp_avg, exp_avg_sq), Adafactor a
// factored second moment (row + column sums for tensors of 2+ dims, full
// for the rest; no first moment by default), 8-bit Adam two uint8 states
// plus an fp32 absmax per 2048-element block, fp32 states for tensors under
// 4096 elements (bitsandbytes' min_8bit_size).
#include "ptscope/estimate.h"

#include <algorithm>

#include "estimate_workload.h"
#include "model_tensors.h"
#include "ptscope/error.h"
#include "sizes.h"

namespace ptscope {
namespace {


uint64_t float_bytes(WeightType w) { return w == WeightType::FP32 ? 4 : 2; }

uint64_t optimizer_bytes(const ModelSizes& m, Optimizer opt, uint64_t state_bytes, std::string& formula) {
  switch (opt) {
    case Optimizer::SGD: formula = "none"; return 0;
    case Optimizer::Momentum: formula = "P*s (momentum)"; return m.parameters * state_bytes;
    case Optimizer::Adam:
    case Optimizer::AdamW: formula = "2*P*s (exp_avg, exp_avg_sq)"; return 2 * m.parameters * state_bytes;
    case Optimizer::Adafactor:
      formula = "factored second moment: rows + columns of each matrix, vectors in full, x s";
      return m.adafactor_state * state_bytes;
    case Optimizer::Adam8bit: {
      uint64_t big = m.parameters - m.small_parameters;
      formula = "2 bytes + 2 fp32 absmax per 2048 elements; 2*4 bytes for tensors under 4096 elements";
      return 2 * big + 8 * ceil_div(big, 2048) + 8 * m.small_parameters;
    }
  }
  return 0;
}

// Heads from the shapes, the option, or the usual head width of the family.
int64_t resolve_heads(const Architecture& a, const EstimateOptions& o, std::string& source) {
  if (o.heads) {
    source = "--heads";
    return *o.heads;
  }
  if (a.heads) {
    source = "shapes";
    return a.heads;
  }
  int64_t head_dim = a.family == "llama" ? 128 : 64;
  if (a.attention_dim % head_dim) return 0;
  source = "assumed head_dim " + std::to_string(head_dim) + ": the shapes do not fix it; pass --heads";
  return a.attention_dim / head_dim;
}

// What a file without a model holds, for the error: "optimizer state only".
std::string held_instead(const Checkpoint& c) {
  if (c.tensors.empty()) return "no tensors";
  std::vector<std::string> kinds;
  for (const Group& g : c.groups) {
    std::string k = g.kind == "optimizer" || g.kind == "rng" ? g.kind + " state" : g.kind;
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  }
  if (kinds.empty()) return "no model tensors";
  std::string s;
  for (const std::string& k : kinds) s += (s.empty() ? "" : ", ") + k;
  return s + " only";
}

}  // namespace

uint64_t per_gpu_model_states(Strategy s, uint64_t w, uint64_t g, uint64_t o, int64_t gpus) {
  uint64_t n = gpus > 0 ? static_cast<uint64_t>(gpus) : 1;
  switch (s) {
    case Strategy::DDP: return w + g + o;
    case Strategy::Zero1: return w + g + ceil_div(o, n);
    case Strategy::Zero2: return w + ceil_div(g + o, n);
    case Strategy::Zero3:
    case Strategy::FSDP: return ceil_div(w + g + o, n);
  }
  return 0;
}

Estimate estimate(const Checkpoint& c, const EstimateOptions& o) {
  if (model_entries(c).empty())
    throw Error("holds no model state (" + held_instead(c) + "): nothing to estimate");
  Estimate r;
  r.sizes = model_sizes(c);
  r.architecture = recognize_architecture(c);
  const ModelSizes& m = r.sizes;
  bool quantized = o.dtype == WeightType::INT8 || o.dtype == WeightType::INT4;
  uint64_t act_bytes = o.mixed_precision || o.dtype != WeightType::FP32 ? 2 : 4;
  auto line = [&](const char* section, const char* name, uint64_t v, std::string f, bool bytes = true) {
    r.lines.push_back({section, name, v, bytes, std::move(f)});
  };
  if (!m.from_file_roles)
    r.notes.push_back("the file does not tell parameters from buffers: every floating tensor counts as a parameter");

  // The workload: activations, KV cache and FLOPs, when the architecture says.
  std::optional<Workload> work;
  if (r.architecture) {
    const Architecture& a = *r.architecture;
    WorkloadInput in{&a, m.parameters, 0, 0, o.batch, o.image, act_bytes, o.activation_checkpointing};
    if (a.family == "resnet") {
      work = resnet_workload(in);
    } else {
      in.heads = r.heads = resolve_heads(a, o, r.heads_source);
      if (r.heads && a.attention_dim) r.kv_heads = r.heads * a.kv_dim / a.attention_dim;
      if (!in.heads) r.notes.push_back("heads unknown: attention scores (the s^2 term) left out; pass --heads");
      r.seq = o.seq ? *o.seq : a.positions ? a.positions : 2048;
      r.seq_source = o.seq ? "--seq" : a.positions ? "positions in the file" : "assumed; pass --seq";
      in.seq = r.seq;
      work = transformer_workload(in);
    }
    if (a.parameters_from_formula != m.parameters)
      r.notes.push_back("the architecture's formula gives " + std::to_string(a.parameters_from_formula) +
                        " parameters, the file holds " + std::to_string(m.parameters) +
                        ": extra or missing tensors, estimates use the file's count");
  } else {
    r.notes.push_back("architecture not recognised: activations, KV cache and attention FLOPs skipped "
                      "(they need layer sizes); FLOPs assume every parameter is used once per token");
  }

  // Inference.
  std::string wf;
  r.inference.weights = weight_bytes(o.dtype, m, o.group_size, &wf) + m.buffer_bytes;
  line("inference", "weights", r.inference.weights, wf + " + buffers as stored; P=" + std::to_string(m.parameters));
  if (work) {
    r.inference.activations = work->inference_activations;
    line("inference", "activations", work->inference_activations, work->inference_formula);
    if (work->kv_cache) {
      r.inference.kv_cache = work->kv_cache;
      line("inference", "kv cache", *work->kv_cache, work->kv_formula);
    }
  }
  r.inference.total = r.inference.weights + r.inference.activations.value_or(0) + r.inference.kv_cache.value_or(0);
  line("inference", "total", r.inference.total, "weights + activations + kv cache");

  // Training.
  Estimate::Training& t = r.training;
  if (quantized) {
    t.possible = false;
    r.notes.push_back("training skipped: int8/int4 weights are trained through adapters (QLoRA), not modelled");
  } else {
    uint64_t wb = o.mixed_precision ? 2 : float_bytes(o.dtype), sb = o.mixed_precision ? 4 : wb;
    t.weights = wb * m.parameters + m.buffer_bytes;
    t.gradients = wb * m.parameters;
    t.master_weights = o.mixed_precision ? 4 * m.parameters : 0;
    std::string of;
    t.optimizer = optimizer_bytes(m, o.optimizer, sb, of);
    line("training", "weights", t.weights, "P*" + std::to_string(wb) + " + buffers");
    line("training", "gradients", t.gradients, "P*" + std::to_string(wb));
    if (o.mixed_precision) line("training", "master weights", t.master_weights, "P*4 (fp32 copy)");
    line("training", "optimizer state", t.optimizer, of + ", s=" + std::to_string(sb));
    if (work) {
      t.activations = work->training_activations;
      line("training", "activations", *t.activations, work->training_formula);
    }
    uint64_t states = t.optimizer + t.master_weights;
    t.total = t.weights + t.gradients + states + t.activations.value_or(0);
    line("training", "total", t.total, "weights + gradients + master + optimizer + activations");
    for (Strategy s : {Strategy::DDP, Strategy::Zero1, Strategy::Zero2, Strategy::Zero3, Strategy::FSDP}) {
      uint64_t v = per_gpu_model_states(s, t.weights, t.gradients, states, o.gpus) + t.activations.value_or(0);
      t.per_gpu_by_strategy.push_back({s, v});
      if (s == o.strategy) t.per_gpu = v;
    }
    static const char* kShard[] = {"W + G + O + A", "W + G + O/N + A", "W + (G + O)/N + A", "(W + G + O)/N + A",
                                   "(W + G + O)/N + A"};
    line("per gpu", strategy_name(o.strategy), t.per_gpu,
         std::string(kShard[static_cast<int>(o.strategy)]) + ", N=" + std::to_string(o.gpus));
  }

  // FLOPs.
  uint64_t fwd_token = work ? work->forward_per_token.value_or(0) : 2 * m.parameters;
  uint64_t fwd_sample = work ? work->forward_per_sample : 2 * m.parameters;
  uint64_t train_factor = o.activation_checkpointing ? 4 : 3;
  bool per_token = !work || r.architecture->family != "resnet";
  std::string flops_formula = work ? work->flops_formula : "2*P";
  if (per_token) {
    r.flops.forward_per_token = fwd_token;
    r.flops.training_per_token = train_factor * fwd_token;
    line("flops", "forward per token", fwd_token, flops_formula, false);
    line("flops", "training per token", train_factor * fwd_token,
         o.activation_checkpointing ? "4 x forward (backward 2x, recompute 1x)" : "3 x forward (backward 2x)", false);
  }
  r.flops.forward_per_sample = fwd_sample;
  r.flops.training_per_sample = train_factor * fwd_sample;
  r.flops.forward_per_batch = fwd_sample * u(o.batch);
  r.flops.training_per_batch = train_factor * fwd_sample * u(o.batch);
  std::string sample = per_token && r.seq ? "per token x s=" + std::to_string(r.seq) : per_token ? "per token" : flops_formula;
  line("flops", "forward per sample", fwd_sample, sample, false);
  line("flops", "training per sample", train_factor * fwd_sample, std::to_string(train_factor) + " x forward", false);
  line("flops", "forward per batch", r.flops.forward_per_batch, "per sample x b=" + std::to_string(o.batch), false);
  return r;
}

const char* optimizer_name(Optimizer o) {
  static const char* kNames[] = {"sgd", "momentum", "adam", "adamw", "adafactor", "adam8bit"};
  return kNames[static_cast<int>(o)];
}
const char* strategy_name(Strategy s) {
  static const char* kNames[] = {"ddp", "zero1", "zero2", "zero3", "fsdp"};
  return kNames[static_cast<int>(s)];
}

std::optional<WeightType> stored_precision(const Checkpoint& c) {
  if (c.logical.empty()) return std::nullopt;
  double bits = 0;
  for (const LogicalTensor& l : c.logical) bits = std::max(bits, l.bits);
  if (bits <= 4) return WeightType::INT4;
  if (bits <= 8) return WeightType::INT8;
  return std::nullopt;
}

}  // namespace ptscope
