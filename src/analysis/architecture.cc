// One recogniser per family, tried in turn. Each looks for an anchor key,
// reads the sizes the shapes fix, and recomputes the parameter count from
// those sizes alone, so a count that matches the file's is evidence the
// reading is right.
#include "ptscope/architecture.h"

#include "architecture_keys.h"
#include "sizes.h"

namespace ptscope {
namespace {

std::string sizes(std::initializer_list<std::pair<const char*, int64_t>> vars) {
  std::string s;
  for (const auto& [k, v] : vars) s += (s.empty() ? "" : " ") + std::string(k) + "=" + std::to_string(v);
  return s;
}

// GPT-2, BERT and ViT share this block: fused or separate QKV with biases,
// output projection, two-matrix MLP with biases, two LayerNorms.
uint64_t classic_block(uint64_t e, uint64_t f) { return 4 * e * e + 2 * e * f + 9 * e + f; }
const char* kClassicBlock = "(4*E^2 + 2*E*F + 9*E + F)";

std::optional<Architecture> gpt2(const ModelKeys& k) {
  auto p = k.prefix_of("wte.weight");
  if (!p || !k.has(*p + "h.0.attn.c_attn.weight")) return std::nullopt;
  Architecture a;
  a.family = "gpt2";
  a.prefix = *p;
  a.vocab = k.dim(*p + "wte.weight", 0);
  a.hidden = k.dim(*p + "wte.weight", 1);
  a.positions = k.dim(*p + "wpe.weight", 0);
  a.layers = k.count_blocks(*p + "h.");
  a.ffn = k.dim(*p + "h.0.mlp.c_fc.weight", 1);  // Conv1D: [in, out]
  a.attention_dim = a.kv_dim = a.hidden;
  a.causal = a.dropout = true;
  std::string head = strip_suffix(*p, "transformer.") + "lm_head.weight";
  a.lm_head = k.has(head);
  bool untied = a.lm_head && !k.tied(head, *p + "wte.weight");
  a.head_tied = a.lm_head && !untied;
  uint64_t V = u(a.vocab), E = u(a.hidden), P = u(a.positions), L = u(a.layers), F = u(a.ffn);
  a.embedding_parameters = V * E + P * E;
  a.parameters_from_formula = V * E + P * E + L * classic_block(E, F) + 2 * E + (untied ? V * E : 0);
  a.formula = std::string("V*E + P*E + L*") + kClassicBlock + " + 2*E" + (untied ? " + V*E (untied head)" : "") +
              "; " + sizes({{"V", a.vocab}, {"E", a.hidden}, {"P", a.positions}, {"L", a.layers}, {"F", a.ffn}});
  return a;
}

std::optional<Architecture> bert(const ModelKeys& k) {
  auto p = k.prefix_of("embeddings.word_embeddings.weight");
  if (!p || !k.has(*p + "encoder.layer.0.attention.self.query.weight")) return std::nullopt;
  Architecture a;
  a.family = "bert";
  a.prefix = *p;
  a.vocab = k.dim(*p + "embeddings.word_embeddings.weight", 0);
  a.hidden = k.dim(*p + "embeddings.word_embeddings.weight", 1);
  a.positions = k.dim(*p + "embeddings.position_embeddings.weight", 0);
  int64_t types = k.dim(*p + "embeddings.token_type_embeddings.weight", 0);
  a.layers = k.count_blocks(*p + "encoder.layer.");
  a.ffn = k.dim(*p + "encoder.layer.0.intermediate.dense.weight", 0);
  a.attention_dim = a.kv_dim = k.dim(*p + "encoder.layer.0.attention.self.query.weight", 0);
  a.dropout = true;
  uint64_t V = u(a.vocab), E = u(a.hidden), P = u(a.positions), T = u(types), L = u(a.layers), F = u(a.ffn);
  a.embedding_parameters = (V + P + T) * E;
  a.parameters_from_formula = (V + P + T) * E + 2 * E + L * classic_block(E, F);
  a.formula = std::string("(V + P + T)*E + 2*E + L*") + kClassicBlock;
  if (k.has(*p + "pooler.dense.weight")) {
    a.parameters_from_formula += E * E + E;
    a.formula += " + E^2 + E (pooler)";
  }
  std::string outer = strip_suffix(*p, "bert.");
  outer = strip_suffix(outer, "roberta.");
  // The masked-LM head, its decoder tied to the embeddings: BertLMPredictionHead
  // (cls.predictions) or RobertaLMHead (lm_head).
  bool roberta_head = k.has(outer + "lm_head.dense.weight") && k.has(outer + "lm_head.bias");
  a.roberta = strip_suffix(*p, "roberta.") != *p || roberta_head;
  if (k.has(outer + "cls.predictions.bias") || roberta_head) {
    a.lm_head = a.head_tied = true;
    a.parameters_from_formula += E * E + 3 * E + V;
    a.formula += " + E^2 + 3*E + V (MLM head)";
  }
  if (k.has(outer + "cls.seq_relationship.weight")) {
    a.parameters_from_formula += 2 * E + 2;
    a.formula += " + 2*E + 2 (NSP head)";
  }
  a.formula += "; " + sizes({{"V", a.vocab}, {"E", a.hidden}, {"P", a.positions}, {"T", types},
                             {"L", a.layers}, {"F", a.ffn}});
  return a;
}

// A LLaMA-family layer's MLP: dense (mlp.gate_proj), or routed gated
// experts with a router, as Mixtral (block_sparse_moe.experts.N.w1/w2/w3,
// block_sparse_moe.gate) and Qwen2-MoE (mlp.experts.N.gate_proj/up_proj/
// down_proj, mlp.gate, and a shared expert with its one-output gate) name
// them. Every layer is read as layer 0 is; one that is not makes the
// formula differ from the count, which the estimate notes.
struct LlamaMlp {
  std::string dense, experts, first;  // key of the dense gate; experts' stem; first expert's gate
  std::string shared;                 // shared expert's gate_proj
};

std::optional<LlamaMlp> llama_mlp(const ModelKeys& k, const std::string& l0) {
  if (k.has(l0 + "mlp.gate_proj.weight")) return LlamaMlp{l0 + "mlp.gate_proj.weight", "", "", ""};
  if (k.has(l0 + "block_sparse_moe.experts.0.w1.weight"))
    return LlamaMlp{"", l0 + "block_sparse_moe.experts.", l0 + "block_sparse_moe.experts.0.w1.weight", ""};
  if (k.has(l0 + "mlp.experts.0.gate_proj.weight"))
    return LlamaMlp{"", l0 + "mlp.experts.", l0 + "mlp.experts.0.gate_proj.weight",
                    l0 + "mlp.shared_expert.gate_proj.weight"};
  return std::nullopt;
}

std::optional<Architecture> llama(const ModelKeys& k) {
  auto p = k.prefix_of("embed_tokens.weight");
  if (!p || !k.has(*p + "layers.0.self_attn.q_proj.weight")) return std::nullopt;
  const std::string l0 = *p + "layers.0.";
  std::optional<LlamaMlp> mlp = llama_mlp(k, l0);
  if (!mlp) return std::nullopt;
  Architecture a;
  a.family = "llama";
  a.prefix = *p;
  a.vocab = k.dim(*p + "embed_tokens.weight", 0);
  a.hidden = k.dim(*p + "embed_tokens.weight", 1);
  a.layers = k.count_blocks(*p + "layers.");
  a.attention_dim = k.dim(l0 + "self_attn.q_proj.weight", 0);
  a.kv_dim = k.dim(l0 + "self_attn.k_proj.weight", 0);
  bool moe = mlp->dense.empty();
  a.ffn = k.dim(moe ? mlp->first : mlp->dense, 0);
  if (moe) {
    a.experts = k.count_blocks(mlp->experts);
    a.shared_ffn = k.dim(mlp->shared, 0);
  }
  a.causal = a.gated_mlp = true;
  // Rotary inv_freq holds head_dim / 2 frequencies: it fixes the head count.
  if (int64_t half = k.dim(l0 + "self_attn.rotary_emb.inv_freq", 0); half > 0) {
    a.head_dim = 2 * half;
    if (a.attention_dim % a.head_dim == 0 && a.kv_dim % a.head_dim == 0) {
      a.heads = a.attention_dim / a.head_dim;
      a.kv_heads = a.kv_dim / a.head_dim;
    } else {
      a.head_dim = 0;
    }
  }
  std::string head = strip_suffix(*p, "model.") + "lm_head.weight";
  a.lm_head = true;  // an absent head is tied to the embeddings
  bool untied = k.has(head) && !k.tied(head, *p + "embed_tokens.weight");
  a.head_tied = !untied;
  bool qkv_bias = k.has(l0 + "self_attn.q_proj.bias");  // Qwen2
  uint64_t V = u(a.vocab), E = u(a.hidden), L = u(a.layers), Q = u(a.attention_dim), KV = u(a.kv_dim),
           F = u(a.ffn), X = u(a.experts), S = u(a.shared_ffn);
  // Routed experts and their router; a shared expert and its gate.
  uint64_t mlp_params = moe ? X * 3 * E * F + X * E + (S ? 3 * E * S + E : 0) : 3 * E * F;
  std::string mlp_text = moe ? std::string("X*3*E*F + X*E") + (S ? " + 3*E*S + E" : "") : "3*E*F";
  a.embedding_parameters = V * E;
  a.parameters_from_formula = V * E + L * (2 * E * Q + 2 * E * KV + mlp_params + 2 * E + (qkv_bias ? Q + 2 * KV : 0)) +
                              E + (untied ? V * E : 0);
  a.formula = "V*E + L*(2*E*Q + 2*E*KV + " + mlp_text + " + 2*E" + (qkv_bias ? " + Q + 2*KV" : "") + ") + E" +
              (untied ? " + V*E (untied head)" : "") + "; " +
              sizes({{"V", a.vocab}, {"E", a.hidden}, {"L", a.layers}, {"Q", a.attention_dim}, {"KV", a.kv_dim},
                     {"F", a.ffn}});
  if (moe) a.formula += " " + sizes({{"X", a.experts}}) + (S ? " " + sizes({{"S", a.shared_ffn}}) : "");
  return a;
}

std::optional<Architecture> t5(const ModelKeys& k) {
  auto p = k.prefix_of("shared.weight");
  if (!p || !k.has(*p + "encoder.block.0.layer.0.SelfAttention.q.weight")) return std::nullopt;
  const std::string enc = *p + "encoder.block.", dec = *p + "decoder.block.";
  Architecture a;
  a.family = "t5";
  a.prefix = *p;
  a.vocab = k.dim(*p + "shared.weight", 0);
  a.hidden = k.dim(enc + "0.layer.0.SelfAttention.q.weight", 1);
  a.attention_dim = a.kv_dim = k.dim(enc + "0.layer.0.SelfAttention.q.weight", 0);
  a.layers = k.count_blocks(enc);
  a.decoder_layers = k.count_blocks(dec);
  a.encoder_decoder = a.decoder_layers > 0;
  a.causal = a.lm_head = a.encoder_decoder;
  a.dropout = true;
  // The relative position bias has one column per head.
  const std::string bias = enc + "0.layer.0.SelfAttention.relative_attention_bias.weight";
  int64_t buckets = a.relative_buckets = k.dim(bias, 0);
  if (int64_t h = k.dim(bias, 1); h > 0 && a.attention_dim % h == 0) {
    a.heads = a.kv_heads = h;
    a.head_dim = a.attention_dim / h;
  }
  a.gated_mlp = k.has(enc + "0.layer.1.DenseReluDense.wi_0.weight");
  a.ffn = k.dim(enc + (a.gated_mlp ? "0.layer.1.DenseReluDense.wi_0.weight" : "0.layer.1.DenseReluDense.wi.weight"), 0);
  std::string head = *p + "lm_head.weight";
  bool untied = k.has(head) && !k.tied(head, *p + "shared.weight");
  a.head_tied = a.lm_head && !untied;
  uint64_t V = u(a.vocab), E = u(a.hidden), I = u(a.attention_dim), F = u(a.ffn), L = u(a.layers),
           D = u(a.decoder_layers), B = u(buckets) * u(a.heads), M = a.gated_mlp ? 3 : 2;
  a.embedding_parameters = V * E + B * (D ? 2 : 1);
  a.parameters_from_formula = V * E + L * (4 * E * I + 2 * E + M * E * F) + B + E +
                              (D ? D * (8 * E * I + 3 * E + M * E * F) + B + E : 0) + (untied ? V * E : 0);
  a.formula = std::string("V*E + L*(4*E*I + 2*E + ") + (a.gated_mlp ? "3" : "2") + "*E*F) + R + E" +
              (D ? std::string(" + D*(8*E*I + 3*E + ") + (a.gated_mlp ? "3" : "2") + "*E*F) + R + E" : "") +
              (untied ? " + V*E (untied head)" : "") + "; " +
              sizes({{"V", a.vocab}, {"E", a.hidden}, {"I", a.attention_dim}, {"F", a.ffn}, {"L", a.layers},
                     {"D", a.decoder_layers}, {"R", static_cast<int64_t>(B)}});
  return a;
}

std::optional<Architecture> vit(const ModelKeys& k) {
  auto p = k.prefix_of("conv_proj.weight");
  const std::string l0 = p ? *p + "encoder.layers.encoder_layer_0." : "";
  if (!p || !k.has(l0 + "self_attention.in_proj_weight")) return std::nullopt;
  Architecture a;
  a.family = "vit";
  a.prefix = *p;
  a.hidden = k.dim(*p + "conv_proj.weight", 0);
  a.channels = k.dim(*p + "conv_proj.weight", 1);
  a.patch = k.dim(*p + "conv_proj.weight", 2);
  a.positions = k.dim(*p + "encoder.pos_embedding", 1);
  a.layers = k.count_blocks(*p + "encoder.layers.encoder_layer_");
  a.ffn = k.dim(l0 + (k.has(l0 + "mlp.0.weight") ? "mlp.0.weight" : "mlp.linear_1.weight"), 0);
  a.attention_dim = a.kv_dim = a.hidden;
  a.classes = k.dim(*p + "heads.head.weight", 0);
  int64_t pre_logits = k.dim(*p + "heads.pre_logits.weight", 0);
  uint64_t E = u(a.hidden), C = u(a.channels), P = u(a.patch), T = u(a.positions), L = u(a.layers), F = u(a.ffn),
           K = u(a.classes), R = u(pre_logits);
  a.embedding_parameters = E + T * E;  // class token and positions are added, not multiplied
  uint64_t head = R ? R * E + R + K * R + K : K * E + K;
  a.sample_parameters = head;
  a.parameters_from_formula = E * C * P * P + E + E + T * E + L * classic_block(E, F) + 2 * E + head;
  a.formula = std::string("E*C*P^2 + E + E + T*E + L*") + kClassicBlock + " + 2*E + " +
              (R ? "R*E + R + K*R + K" : "K*E + K") + "; " +
              sizes({{"E", a.hidden}, {"C", a.channels}, {"P", a.patch}, {"T", a.positions}, {"L", a.layers},
                     {"F", a.ffn}, {"K", a.classes}});
  return a;
}

std::optional<Architecture> resnet(const ModelKeys& k) {
  auto p = k.prefix_of("layer1.0.conv1.weight");
  if (!p || !k.has(*p + "conv1.weight") || !k.has(*p + "fc.weight")) return std::nullopt;
  Architecture a;
  a.family = "resnet";
  a.prefix = *p;
  a.bottleneck = k.has(*p + "layer1.0.conv3.weight");
  for (int s = 1; s <= 4; ++s) a.stages.push_back(k.count_blocks(*p + "layer" + std::to_string(s) + "."));
  a.width = k.dim(*p + "conv1.weight", 0);
  a.channels = k.dim(*p + "conv1.weight", 1);
  a.stem_kernel = k.dim(*p + "conv1.weight", 2);
  a.classes = k.dim(*p + "fc.weight", 0);
  // conv2 of the first block is [width, width / groups, 3, 3], where
  // width = 64 * width_per_group / 64 * groups.
  int64_t w = k.dim(*p + "layer1.0.conv2.weight", 0), per_group = k.dim(*p + "layer1.0.conv2.weight", 1);
  if (a.bottleneck && w > 0 && per_group > 0 && w % per_group == 0) {
    a.groups = w / per_group;
    a.width_per_group = w / a.groups;
  }
  if (a.width <= 0 || a.channels <= 0 || a.classes <= 0 || a.stem_kernel <= 0) return std::nullopt;
  a.parameters_from_formula = resnet_parameters(a);
  a.formula = "sum over convolutions of k^2*Cin*Cout/groups + 2*C per BatchNorm + fc Cout*K + K; " +
              sizes({{"blocks", a.stages[0]}, {"", a.stages[1]}, {"", a.stages[2]}, {"", a.stages[3]},
                     {"groups", a.groups}, {"width_per_group", a.width_per_group}, {"K", a.classes}});
  return a;
}

}  // namespace

std::optional<Architecture> recognize_architecture(const Checkpoint& c) {
  ModelKeys keys(c);
  for (auto* recognise : {gpt2, bert, llama, t5, vit, resnet})
    if (auto a = recognise(keys); a && a->hidden + a->width > 0) return a;
  return std::nullopt;
}

}  // namespace ptscope
