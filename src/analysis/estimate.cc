// Inference and training memory from the parameter count and, where the
// architecture is recognised, its shape. Optimizer state per parameter:
// SGD 0, momentum 1 copy, Adam/AdamW 2 (exp_avg, exp_avg_sq), Adafactor a
// factored second moment (row + column sums for tensors of 2+ dims, full
// for the rest; no first moment by default), 8-bit Adam two uint8 states
// plus an fp32 absmax per 2048-element block, fp32 states for tensors under
// 4096 elements (bitsandbytes' min_8bit_size).
#include "ptscope/estimate.h"

#include <algorithm>

#include "estimate_experts.h"
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

// Heads from the option, the shapes, or the usual head widths: the first of
// 128, 64, 96, 80 dividing both the query and the key/value widths for the
// LLaMA family (LLaMA and Mistral 128, SmolLM 64, Phi-3 96, Phi-2 80), of
// 64, 96, 80 for the others (GPT-2, BERT, ViT, T5: 64). Powers of two come
// first because they are by far the commonest: "widest first" would read
// SmolLM-135M's q 576 / kv 192 as 6 heads of 96 (both divide) where it has
// 9 of 64. 0 when none divides.
struct Heads {
  int64_t heads = 0, kv_heads = 0;
  std::string source;
};

// config.json's heads when they divide the shapes' widths into heads of one
// width; else nothing.
Heads config_heads(const Architecture& a, const ModelConfig& c) {
  if (!c.num_attention_heads || a.attention_dim <= 0) return {};
  int64_t h = *c.num_attention_heads, kvh = c.num_key_value_heads.value_or(h);
  if (a.attention_dim % h) return {};
  int64_t d = a.attention_dim / h;
  if (a.kv_dim > 0 && a.kv_dim != kvh * d) return {};
  return {h, kvh, "config.json"};
}

Heads resolve_heads(const Architecture& a, const EstimateOptions& o) {
  auto kv = [&](int64_t h) { return a.attention_dim ? h * a.kv_dim / a.attention_dim : h; };
  if (o.heads) return {*o.heads, kv(*o.heads), "--heads"};
  if (a.heads) return {a.heads, a.kv_heads ? a.kv_heads : kv(a.heads), "shapes"};
  if (o.config)
    if (Heads h = config_heads(a, *o.config); h.heads) return h;
  bool llama = a.family == "llama";
  std::vector<int64_t> widths = llama ? std::vector<int64_t>{128, 64, 96, 80} : std::vector<int64_t>{64, 96, 80};
  for (int64_t d : widths) {
    if (a.attention_dim <= 0 || a.kv_dim <= 0 || a.attention_dim % d || a.kv_dim % d) continue;
    std::string which = llama ? "the first of 128/64/96/80" : "the first of 64/96/80";
    return {a.attention_dim / d, a.kv_dim / d,
            "head_dim " + std::to_string(d) + " assumed: " + which + " dividing q " + std::to_string(a.attention_dim) +
                " and kv " + std::to_string(a.kv_dim)};
  }
  return {};
}

// Each config.json size that disagrees with the shapes, as a note.
void check_config(const Architecture& a, const ModelConfig& c, std::vector<std::string>& notes) {
  auto check = [&](const char* field, const std::optional<int64_t>& said, int64_t shapes) {
    if (said && shapes > 0 && *said != shapes)
      notes.push_back("config.json says " + std::string(field) + " " + std::to_string(*said) + ", the shapes " +
                      std::to_string(shapes) + ": the shapes are used");
  };
  check("hidden_size", c.hidden_size, a.hidden);
  check("num_hidden_layers", c.num_hidden_layers, a.layers);
  // A mixture of experts' FFN is one expert's: moe_intermediate_size where
  // the config has it (Qwen2-MoE), else intermediate_size (Mixtral).
  if (a.experts && c.moe_intermediate_size) check("moe_intermediate_size", c.moe_intermediate_size, a.ffn);
  else check("intermediate_size", c.intermediate_size, a.ffn);
  check("vocab_size", c.vocab_size, a.vocab);
  check("num_attention_heads", c.num_attention_heads, a.heads);
  check("num_key_value_heads", c.num_key_value_heads, a.kv_heads);
  check("head_dim", c.head_dim, a.head_dim);
  if (c.num_attention_heads && a.attention_dim > 0) {
    // head_dim defaults to hidden_size / num_attention_heads (transformers).
    std::optional<int64_t> d = c.head_dim;
    if (!d && c.hidden_size && *c.hidden_size % *c.num_attention_heads == 0) d = *c.hidden_size / *c.num_attention_heads;
    int64_t h = *c.num_attention_heads, kvh = c.num_key_value_heads.value_or(h);
    if (d && h * *d != a.attention_dim)
      notes.push_back("config.json says " + std::to_string(h) + " heads x head_dim " + std::to_string(*d) + " = " +
                      std::to_string(h * *d) + ", the shapes' q width " + std::to_string(a.attention_dim) +
                      ": the shapes are used");
    else if (d && a.kv_dim > 0 && kvh * *d != a.kv_dim)
      notes.push_back("config.json says " + std::to_string(kvh) + " kv heads x head_dim " + std::to_string(*d) + " = " +
                      std::to_string(kvh * *d) + ", the shapes' kv width " + std::to_string(a.kv_dim) +
                      ": the shapes are used");
    if (!a.heads && !config_heads(a, c).heads)
      notes.push_back("config.json's heads (" + std::to_string(h) + ", kv " + std::to_string(kvh) +
                      ") do not divide the shapes' q " + std::to_string(a.attention_dim) + " and kv " +
                      std::to_string(a.kv_dim) + " into heads of one width: not used");
  }
}

const char* kProfileHint = "`ptscope profile FILE -i ...` measures them on a TorchScript file";

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
  // Every model-state figure is at most 16 bytes per parameter plus the
  // buffers (both below 2**62 by the readers' numel bound): checked once
  // here, they cannot wrap below.
  checked_product({m.parameters, 16}, "16 bytes for each of " + std::to_string(m.parameters) + " parameters");
  if (checked_product({m.parameters, 16}, "model state") > ~uint64_t{0} - m.buffer_bytes)
    throw Error("estimate: model state overflows 64-bit arithmetic");
  bool quantized = o.dtype == WeightType::INT8 || o.dtype == WeightType::INT4;
  uint64_t act_bytes = o.mixed_precision || o.dtype != WeightType::FP32 ? 2 : 4;
  auto line = [&](const char* section, const char* name, uint64_t v, std::string f, bool bytes = true,
                  std::vector<std::string> missing = {}) {
    r.lines.push_back({section, name, v, bytes, std::move(f), true, std::move(missing)});
  };
  auto unknown = [&](const char* section, const char* name, std::string why, bool bytes = true) {
    r.lines.push_back({section, name, 0, bytes, std::move(why), false, {}});
  };
  if (!m.from_file_roles)
    r.notes.push_back("the file does not tell parameters from buffers: every floating tensor counts as a parameter");
  r.moe = estimate_experts(c, o, m.parameters, r.notes);
  if (r.moe) experts_lines(*r.moe, m.parameters, r.lines);
  else if (o.experts_per_token)
    r.notes.push_back("--experts-per-token ignored: no tensor is a routed expert's");
  // A token passes through top-k experts: their FFN widths add up. Without
  // top-k, one expert's width is a lower bound, and the sums say so.
  const std::string experts_missing = "routed experts' activations";
  bool experts_unknown = false;
  Architecture routed;

  // The workload: activations, KV cache and FLOPs, when the architecture says.
  std::optional<Workload> work;
  bool scores_unknown = false;  // a transformer whose head count nothing fixes
  if (r.architecture) {
    const Architecture& a = *r.architecture;
    WorkloadInput in{&a, m.parameters, 0, 0, o.batch, o.image, act_bytes, o.activation_checkpointing};
    if (r.moe && r.moe->active_parameters) {
      in.parameters = *r.moe->active_parameters;
      in.active_experts = true;
    }
    if (a.experts && r.moe) {
      routed = a;
      routed.ffn = std::max<int64_t>(r.moe->top_k, 1) * a.ffn + a.shared_ffn;
      in.arch = &routed;
      experts_unknown = !r.moe->top_k;
      r.notes.push_back("activations take F = " + (r.moe->top_k ? std::to_string(r.moe->top_k) : std::string("1 (at least)")) +
                        " x the expert FFN " + std::to_string(a.ffn) +
                        (a.shared_ffn ? " + the shared expert's " + std::to_string(a.shared_ffn) : std::string()) +
                        " = " + std::to_string(routed.ffn) + ": the widths a token passes through");
    }
    if (a.family == "resnet") {
      work = resnet_workload(in);
    } else {
      Heads h = resolve_heads(a, o);
      in.heads = r.heads = h.heads;
      r.kv_heads = h.kv_heads;
      r.heads_source = h.source;
      if (!in.heads) {
        scores_unknown = true;
        r.notes.push_back("heads unknown: no tensor has a head axis and no usual head width (128/64/96/80) divides q " +
                          std::to_string(a.attention_dim) + " and kv " + std::to_string(a.kv_dim) +
                          "; the attention scores (the s^2 term) need --heads, and the totals are lower bounds");
      }
      int64_t config_seq = o.config ? o.config->max_position_embeddings.value_or(0) : 0;
      r.seq = o.seq ? *o.seq : a.positions ? a.positions : config_seq ? config_seq : 2048;
      r.seq_source = o.seq          ? "--seq"
                     : a.positions ? "positions in the file"
                     : config_seq  ? "max_position_embeddings in config.json; --seq to change"
                                   : "assumed; pass --seq";
      in.seq = r.seq;
      work = transformer_workload(in);
    }
    if (o.config) check_config(a, *o.config, r.notes);
    if (a.parameters_from_formula != m.parameters)
      r.notes.push_back("the architecture's formula gives " + std::to_string(a.parameters_from_formula) +
                        " parameters, the file holds " + std::to_string(m.parameters) +
                        ": extra or missing tensors, estimates use the file's count");
  } else {
    r.notes.push_back(std::string("architecture not recognised: activations and FLOPs depend on layer sizes and on "
                                  "how often each weight is applied (once for each token, once for each output pixel), which "
                                  "the names and shapes do not say; ") +
                      kProfileHint);
  }
  const std::string not_recognised = "architecture not recognised", scores_missing = "attention scores";

  // Inference.
  std::string wf;
  r.inference.weights = weight_bytes(o.dtype, m, o.group_size, &wf) + m.buffer_bytes;
  line("inference", "weights", r.inference.weights, wf + " + buffers as stored; P=" + std::to_string(m.parameters));
  if (work) {
    r.inference.activations = work->inference_activations;
    std::vector<std::string> act_missing;
    if (scores_unknown) act_missing.push_back(scores_missing);
    if (experts_unknown) act_missing.push_back(experts_missing);
    line("inference", "activations", work->inference_activations, work->inference_formula, true, act_missing);
    if (scores_unknown) {
      unknown("inference", "attention scores", "needs --heads: 2*e*a*s^2*b");
      r.inference.missing.push_back(scores_missing);
    }
    if (experts_unknown) {
      unknown("inference", experts_missing.c_str(), std::string(kNeedsTopK) + ": MLP 3*e*s*b*F for k - 1 more experts");
      r.inference.missing.push_back(experts_missing);
    }
    if (work->kv_cache) {
      r.inference.kv_cache = work->kv_cache;
      line("inference", "kv cache", *work->kv_cache, work->kv_formula);
    }
  } else {
    unknown("inference", "activations", not_recognised);
    r.inference.missing = {"activations", "any kv cache"};
  }
  r.inference.total = r.inference.weights + r.inference.activations.value_or(0) + r.inference.kv_cache.value_or(0);
  line("inference", "total", r.inference.total, "weights + activations + kv cache", true, r.inference.missing);

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
      std::vector<std::string> act_missing;
      if (scores_unknown) act_missing.push_back(scores_missing);
      if (experts_unknown) act_missing.push_back(experts_missing);
      line("training", "activations", *t.activations, work->training_formula, true, act_missing);
      if (scores_unknown) {
        unknown("training", "attention scores",
                std::string("needs --heads: layers x e*a*s^2*b") + (r.architecture->dropout ? " + a*s^2*b*(1+e)" : ""));
        t.missing.push_back(scores_missing);
      }
      if (experts_unknown) {
        unknown("training", experts_missing.c_str(), std::string(kNeedsTopK) + ": layers x 4*e*s*b*F for k - 1 more experts");
        t.missing.push_back(experts_missing);
      }
    } else {
      unknown("training", "activations", not_recognised);
      t.missing.push_back("activations");
    }
    uint64_t states = t.optimizer + t.master_weights;
    t.total = t.weights + t.gradients + states + t.activations.value_or(0);
    line("training", "total", t.total, "weights + gradients + master + optimizer + activations", true, t.missing);
    for (Strategy s : {Strategy::DDP, Strategy::Zero1, Strategy::Zero2, Strategy::Zero3, Strategy::FSDP}) {
      uint64_t v = per_gpu_model_states(s, t.weights, t.gradients, states, o.gpus) + t.activations.value_or(0);
      t.per_gpu_by_strategy.push_back({s, v});
      if (s == o.strategy) t.per_gpu = v;
    }
    static const char* kShard[] = {"W + G + O + A", "W + G + O/N + A", "W + (G + O)/N + A", "(W + G + O)/N + A",
                                   "(W + G + O)/N + A"};
    line("per gpu", strategy_name(o.strategy), t.per_gpu,
         std::string(kShard[static_cast<int>(o.strategy)]) + ", N=" + std::to_string(o.gpus), true, t.missing);
  }

  // FLOPs: per token only for models of tokens; nothing but what the
  // architecture gives (an unrecognised model's weights may be applied once
  // per sample, per token or per output pixel).
  uint64_t train_factor = o.activation_checkpointing ? 4 : 3;
  std::string train_text =
      o.activation_checkpointing ? "4 x forward (backward 2x, recompute 1x)" : "3 x forward (backward 2x)";
  if (!work) {
    r.flops.unknown = "architecture not recognised: how often each weight is applied (once for each sample, "
                      "each token or each output pixel) is not in the file; " + std::string(kProfileHint);
    r.flops.no_per_token = "architecture not recognised: whether the model reads tokens is not known";
    unknown("flops", "forward per sample", not_recognised, false);
    unknown("flops", "training per sample", "needs forward", false);
    unknown("flops", "forward per batch", "needs forward", false);
    return r;
  }
  if (r.moe && !r.moe->active_parameters) {  // which experts a token uses is not known
    r.flops.no_per_token = r.flops.unknown = kNeedsTopK;
    for (const char* name : {"forward per token", "training per token", "forward per sample", "training per sample",
                             "forward per batch"})
      unknown("flops", name, kNeedsTopK, false);
    return r;
  }
  bool per_token = r.architecture->family != "resnet";
  uint64_t fwd_sample = work->forward_per_sample;
  if (per_token) {
    uint64_t fwd_token = work->forward_per_token.value_or(0);
    r.flops.forward_per_token = fwd_token;
    r.flops.training_per_token = train_factor * fwd_token;
    line("flops", "forward per token", fwd_token, work->flops_formula, false);
    line("flops", "training per token", train_factor * fwd_token, train_text, false);
  } else {
    r.flops.no_per_token = "a CNN has no tokens";
  }
  r.flops.forward_per_sample = fwd_sample;
  r.flops.training_per_sample = train_factor * fwd_sample;
  r.flops.training_per_sample = checked_product({train_factor, fwd_sample}, "training FLOPs per sample");
  r.flops.forward_per_batch = checked_product({fwd_sample, u(o.batch)}, "FLOPs per batch");
  r.flops.training_per_batch = checked_product({train_factor, fwd_sample, u(o.batch)}, "training FLOPs per batch");
  std::string sample = per_token ? "per token x s=" + std::to_string(r.seq) : work->flops_formula;
  line("flops", "forward per sample", fwd_sample, sample, false);
  line("flops", "training per sample", train_factor * fwd_sample, std::to_string(train_factor) + " x forward", false);
  line("flops", "forward per batch", *r.flops.forward_per_batch, "per sample x b=" + std::to_string(o.batch), false);
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

std::optional<WeightType> file_precision(const Checkpoint& c) {
  if (auto q = stored_precision(c)) return q;
  uint64_t by_type[3] = {0, 0, 0};  // fp32, fp16, bf16
  uint64_t other = 0;
  for (const Tensor* t : unique_views(model_entries(c))) {
    if (!counts_as_parameter(c, *t)) continue;
    uint64_t bytes = t->numel * dtype_size(t->dtype);
    switch (t->dtype) {
      case DType::Float32: by_type[0] += bytes; break;
      case DType::Float16: by_type[1] += bytes; break;
      case DType::BFloat16: by_type[2] += bytes; break;
      default: other += bytes;
    }
  }
  size_t best = std::max_element(by_type, by_type + 3) - by_type;
  if (by_type[best] == 0 || by_type[best] < other) return std::nullopt;
  static const WeightType kTypes[] = {WeightType::FP32, WeightType::FP16, WeightType::BF16};
  return kTypes[best];
}

}  // namespace ptscope
