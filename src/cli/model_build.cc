#include "model_build.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "ptscope/architecture.h"
#include "ptscope/error.h"
#include "ptscope/estimate.h"
#include "ptscope/model_config.h"

namespace ptscope::cli {
namespace {

// The families the plugin builds (src/torch_backend/*_model.cc).
const std::set<std::string> kBuilt = {"resnet", "llama", "gpt2", "vit", "bert", "t5"};

// What recognize_architecture looks for, for the error on a state_dict it
// does not recognise.
constexpr const char* kLookedFor =
    "looked for GPT-2 (wte.weight, h.0.attn.c_attn.weight), the LLaMA family (embed_tokens.weight, "
    "layers.0.self_attn.q_proj.weight), BERT (embeddings.word_embeddings.weight), T5 (shared.weight), "
    "ViT (conv_proj.weight) and ResNet (conv1.weight, layer1.0.conv1.weight, fc.weight)";

std::string found(const Checkpoint& c) {
  std::string s;
  size_t shown = 0;
  for (const Tensor& t : c.tensors) {
    if (shown == 3) break;
    s += (shown++ ? ", " : "") + t.name;
  }
  return std::to_string(c.tensors.size()) + (c.tensors.size() == 1 ? " tensor" : " tensors") +
         (s.empty() ? "" : " (" + s + (c.tensors.size() > 3 ? ", ..." : "") + ")");
}

// Model types whose embeddings count positions from the padding index, as
// RobertaEmbeddings does (XLM-RoBERTa and CamemBERT are RoBERTa's code).
const std::set<std::string> kRobertaTypes = {"roberta", "xlm-roberta", "camembert"};

// T5Config (configuration_t5.py, v4.39): relative_attention_max_distance;
// feed_forward_proj "[gated-]ACT", whose "gated-gelu" means gelu_new;
// tie_word_embeddings, true unless it says false. What it does not say
// stays as the file's names and sharing have it.
void t5_config(const nlohmann::json& j, ModelBuild& b) {
  if (auto it = j.find("relative_attention_max_distance"); it != j.end() && it->is_number_integer())
    b.relative_max_distance = it->get<int64_t>();
  if (auto it = j.find("feed_forward_proj"); it != j.end() && it->is_string()) {
    std::string proj = it->get<std::string>();
    size_t dash = proj.rfind('-');
    b.activation = proj == "gated-gelu" ? "gelu_new" : proj.substr(dash == std::string::npos ? 0 : dash + 1);
  }
  auto tie = j.find("tie_word_embeddings");
  b.head_tied = b.lm_head && (tie == j.end() || !tie->is_boolean() || tie->get<bool>());
}

// Qwen2MoeConfig.norm_topk_prob (default false): whether Qwen2-MoE
// renormalises the top-k routing weights.
void norm_topk_prob(const nlohmann::json& j, ModelBuild& b) {
  if (auto it = j.find("norm_topk_prob"); b.experts && it != j.end() && it->is_boolean() && it->get<bool>())
    b.norm_topk_prob = true;
}

// The LLaMA family's config.json beyond its sizes: rope_scaling as
// transformers' modeling_rope_utils.py reads it ("rope_type", else the
// older "type"; linear, dynamic, llama3, yarn; "default" is none), and
// max_position_embeddings, which dynamic NTK and yarn scale from (as
// ModelConfig read it). sliding_window (ModelConfig's): Mistral's whenever
// it is given; Qwen2's only with use_sliding_window true (Qwen2Config's
// default is false).
void llama_config(const nlohmann::json& j, const ModelConfig& c, ModelBuild& b) {
  b.max_positions = c.max_position_embeddings.value_or(0);
  auto use = j.find("use_sliding_window");
  bool said = use != j.end() && use->is_boolean();
  bool used = c.model_type == "qwen2" ? said && use->get<bool>() : !(said && !use->get<bool>());
  if (c.sliding_window && used) b.sliding_window = *c.sliding_window;
  auto rs = j.find("rope_scaling");
  if (rs == j.end() || !rs->is_object()) return;
  RopeScaling& r = b.rope;
  auto text = [&](const char* key) {
    auto it = rs->find(key);
    return it != rs->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  r.type = text("rope_type").empty() ? text("type") : text("rope_type");
  if (r.type == "default") r.type.clear();
  if (!r.type.empty() && r.type != "linear" && r.type != "dynamic" && r.type != "llama3" && r.type != "yarn")
    throw Error("config.json's rope_scaling has rope_type '" + r.type +
                "', which profile cannot build (it applies linear, dynamic, llama3, yarn)");
  auto number = [&](const char* key, double& out) {
    auto it = rs->find(key);
    if (it != rs->end() && it->is_number()) out = it->get<double>();
  };
  number("factor", r.factor);
  number("low_freq_factor", r.low_freq_factor);
  number("high_freq_factor", r.high_freq_factor);
  number("attention_factor", r.attention_factor);
  number("beta_fast", r.beta_fast);
  number("beta_slow", r.beta_slow);
  double original = 0;
  number("original_max_position_embeddings", original);
  r.original_max_positions = static_cast<int64_t>(original);
  if (r.type == "llama3" && (r.original_max_positions <= 0 || r.high_freq_factor <= r.low_freq_factor))
    throw Error("config.json's llama3 rope_scaling needs original_max_position_embeddings and "
                "high_freq_factor > low_freq_factor");
  if (!r.type.empty() && r.factor <= 0) throw Error("config.json's rope_scaling factor must be positive");
  // Later transformers versions read these for yarn (DeepSeek-V3's mscale,
  // a factor from max_position_embeddings / original): refused rather than
  // built as v4.44 does without them.
  if (r.type == "yarn" && (rs->contains("mscale") || rs->contains("mscale_all_dim") ||
                           (r.original_max_positions > 0 && r.original_max_positions != b.max_positions)))
    throw Error("config.json's yarn rope_scaling has mscale or an original_max_position_embeddings other than "
                "max_position_embeddings, which profile cannot build");
}

// The dropout probabilities a --train step applies where HF's modules in
// train mode do: config.json's, else the config class's defaults
// (GPT2Config embd/attn/resid_pdrop 0.1; BertConfig hidden_dropout_prob and
// attention_probs_dropout_prob 0.1; T5Config dropout_rate 0.1;
// LlamaConfig attention_dropout 0). ResNet and torchvision's ViT (dropout
// 0 by default, and a state_dict has no config) get none.
void dropout_config(const nlohmann::json* j, const std::string& family, ModelBuild& b) {
  auto p = [&](const char* key, double fallback) {
    if (j) {
      auto it = j->find(key);
      if (it != j->end() && it->is_number() && it->get<double>() >= 0 && it->get<double>() < 1)
        return it->get<double>();
    }
    return fallback;
  };
  if (family == "gpt2") {
    b.dropout_embedding = p("embd_pdrop", 0.1);
    b.dropout_attention = p("attn_pdrop", 0.1);
    b.dropout_hidden = p("resid_pdrop", 0.1);
  } else if (family == "bert") {
    b.dropout_embedding = b.dropout_hidden = p("hidden_dropout_prob", 0.1);
    b.dropout_attention = p("attention_probs_dropout_prob", 0.1);
  } else if (family == "t5") {
    b.dropout_embedding = b.dropout_attention = b.dropout_hidden = p("dropout_rate", 0.1);
  } else if (family == "llama") {
    b.dropout_attention = p("attention_dropout", 0.0);
  }
}

// The sizes config.json gives that ModelConfig does not read: each only
// where it is a number. A config that cannot be read adds nothing. For
// bert, config.json's model_type, when it has one, says whether it is
// RoBERTa (the shapes alone cannot tell a bare RobertaModel).
void config_numbers(const Model& m, const Architecture& a, ModelBuild& b) {
  const std::string& family = a.family;
  double pad = 1;  // RobertaConfig.pad_token_id
  bool roberta = a.roberta;
  dropout_config(nullptr, family, b);
  if (m.config) {
    std::ifstream f(m.config->file);
    nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_object()) {
      auto number = [&](const char* key, double& out) {
        auto it = j.find(key);
        if (it != j.end() && it->is_number() && it->get<double>() > 0) out = it->get<double>();
      };
      const char* eps = family == "gpt2" || family == "t5" ? "layer_norm_epsilon"
                        : family == "bert"                 ? "layer_norm_eps"
                                                           : "rms_norm_eps";
      number(eps, b.norm_eps);
      number("rope_theta", b.rope_theta);
      number("pad_token_id", pad);
      if (auto t = j.find("model_type"); t != j.end() && t->is_string()) roberta = kRobertaTypes.count(*t) > 0;
      if (family == "t5") t5_config(j, b);
      norm_topk_prob(j, b);
      if (family == "llama") llama_config(j, *m.config, b);
      dropout_config(&j, family, b);
    }
  }
  if (family == "bert" && roberta) b.padding_idx = static_cast<int64_t>(pad);
}

// "model.layers.0..." -> "layers.0...": names as the family's own modules
// spell them; the heads sit beside the prefix ("model.", "transformer.",
// "bert."): lm_head, and BERT's cls.predictions.
std::optional<std::string> own_name(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) == 0) return name.substr(prefix.size());
  size_t dot = prefix.size() > 1 ? prefix.rfind('.', prefix.size() - 2) : std::string::npos;
  std::string outer = dot == std::string::npos ? "" : prefix.substr(0, dot + 1);
  for (const char* head : {"lm_head.", "cls."})
    if (name.rfind(outer + head, 0) == 0) return name.substr(outer.size());
  return std::nullopt;
}

// The experts the estimate found (find_experts: by name, in every layer, so
// a Qwen2-MoE whose first layers are dense is seen too) and its top-k
// (--experts-per-token, else config.json's num_experts_per_tok). Mixtral's
// and Qwen2-MoE's ModuleList layouts are built; fused or DeepSeek experts
// (grouped routing, its score correction) are not.
void mixture_of_experts(const Architecture& a, const Estimate::Moe& m, const Checkpoint& c, ModelBuild& b) {
  const Experts& x = m.experts;
  std::string what = "holds a " + a.family + " state_dict with a mixture of experts (" + std::to_string(x.experts) +
                     " per layer)";
  if (a.family != "llama" || (x.naming != "mixtral" && x.naming != "qwen2_moe" && x.naming != "experts"))
    throw Error(what + " named as " + x.naming + "'s, which profile cannot build yet (it builds Mixtral's and "
                "Qwen2-MoE's)");
  if (!m.top_k)
    throw Error(what + " but no experts per token: give --experts-per-token (or config.json's num_experts_per_tok)");
  b.experts = x.experts;
  b.expert_ffn = x.expert_ffn;
  b.shared_expert_ffn = a.shared_ffn;
  // Layer 0 may be dense (Qwen2-MoE's mlp_only_layers): the first shared expert then.
  const std::string shared = ".shared_expert.gate_proj.weight";
  for (const Tensor& t : c.tensors)
    if (!b.shared_expert_ffn && t.shape.size() == 2 && t.name.size() > shared.size() &&
        t.name.compare(t.name.size() - shared.size(), shared.size(), shared) == 0)
      b.shared_expert_ffn = t.shape[0];
  b.experts_per_token = m.top_k;
  b.norm_topk_prob = x.naming == "mixtral";  // MixtralSparseMoeBlock always renormalises
}

}  // namespace

ModelBuild model_build(const Model& model, const Checkpoint& merged, std::optional<int64_t> experts_per_token) {
  std::optional<Architecture> a = recognize_architecture(merged);
  if (!a)
    throw Error("holds a " + std::string(format_name(merged.format)) +
                " state_dict of no architecture profile can build: " + kLookedFor + "; found " + found(merged));
  if (!kBuilt.count(a->family))
    throw Error("holds a " + a->family +
                " state_dict, which profile cannot build yet (it builds resnet, llama, gpt2, vit, bert, t5)");
  ModelBuild b;
  b.family = a->family;
  b.layers = a->layers;
  b.hidden = a->family == "resnet" ? a->width : a->hidden;
  b.ffn = a->ffn;
  b.vocab = a->vocab;
  b.positions = a->positions;
  b.lm_head = a->lm_head;
  b.head_tied = a->head_tied;
  b.stages = a->stages;
  b.bottleneck = a->bottleneck;
  b.groups = a->groups;
  b.width_per_group = a->width_per_group;
  b.classes = a->classes;
  b.channels = a->channels;
  b.stem_kernel = a->stem_kernel;
  b.patch = a->patch;
  b.decoder_layers = a->decoder_layers;
  b.relative_buckets = a->relative_buckets;
  b.gated_mlp = a->gated_mlp;
  if (a->family == "t5") b.activation = a->gated_mlp ? "gelu_new" : "relu";  // T5 v1.1's and T5's
  if (a->attention_dim) {
    EstimateOptions o;
    o.config = model.config;
    o.experts_per_token = experts_per_token;
    Estimate e = estimate(merged, o);
    b.heads = e.heads;
    b.kv_heads = e.kv_heads;
    b.heads_source = e.heads_source;
    b.head_dim = e.heads ? a->attention_dim / e.heads : 0;
    if (e.moe) mixture_of_experts(*a, *e.moe, merged, b);
  }
  config_numbers(model, *a, b);
  for (size_t f = 0; f < model.files.size(); ++f) {
    const Checkpoint& c = model.files[f];
    if (c.metadata.count("byteorder") && c.metadata.at("byteorder") == "big")
      throw Error("big-endian tensor data cannot be built into a model");
    b.files.push_back(c.path);
    for (const Tensor& t : c.tensors) {
      std::optional<std::string> name = own_name(t.name, a->prefix);
      if (!name || t.layout != Layout::Strided || t.storage < 0) continue;
      const Storage& s = c.storages[static_cast<size_t>(t.storage)];
      if (!s.file_offset) continue;  // no data in the file
      ModelTensor m;
      m.name = *name;
      m.dtype = dtype_name(t.dtype);
      m.shape = t.shape;
      m.stride = t.stride;
      m.storage_offset = static_cast<int64_t>(t.storage_offset);
      m.file_offset = *s.file_offset;
      m.storage_bytes = s.nbytes;
      m.file = static_cast<int64_t>(f);
      b.tensors.push_back(std::move(m));
    }
  }
  return b;
}

}  // namespace ptscope::cli
