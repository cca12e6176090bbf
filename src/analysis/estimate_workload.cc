// Activation memory follows Korthikanti et al. 2022 ("Reducing Activation
// Recomputation in Large Transformer Models", eq. 1: s*b*h*(34 + 5*a*s/h)
// bytes per layer at 2-byte activations with dropout), generalised to any
// element size, query/key/value widths (grouped-query attention), FFN width,
// gated MLPs and models without dropout. FLOPs follow Kaplan et al. 2020:
// 2 per parameter per token, plus attention over the context.
#include "estimate_workload.h"
#include "sizes.h"

#include <algorithm>
#include <cmath>

namespace ptscope {
namespace {

std::string n(uint64_t v) { return std::to_string(v); }

struct Dims {
  uint64_t e, s, b, h, q, kv, f, a, V;
  bool dropout, gated;
};

// Saved for backward by one attention block whose keys come from s_kv
// positions: QKV input, Q, K, V, softmax output, projection input, and the
// dropout masks and output where the family trains with dropout.
uint64_t attention_saved(const Dims& d, uint64_t s_kv) {
  uint64_t bytes = d.e * d.s * d.b * (d.h + 2 * d.q) + d.e * s_kv * d.b * 2 * d.kv + d.e * d.a * d.s * s_kv * d.b;
  if (d.dropout) bytes += d.a * d.s * s_kv * d.b * (1 + d.e) + d.s * d.b * d.h;
  return bytes;
}

// MLP input, then two FFN-wide tensors (activation input and output), or
// four with a gate (gate, up, activated gate, product).
uint64_t mlp_saved(const Dims& d) {
  return d.e * d.s * d.b * (d.h + (d.gated ? 4 : 2) * d.f) + (d.dropout ? d.s * d.b * d.h : 0);
}

}  // namespace

Workload transformer_workload(const WorkloadInput& in) {
  const Architecture& a = *in.arch;
  Dims d{in.element_bytes, u(in.seq), u(in.batch), u(a.hidden), u(a.attention_dim), u(a.kv_dim), u(a.ffn),
         u(in.heads), u(a.vocab), a.dropout, a.gated_mlp};
  uint64_t L = u(a.layers), D = u(a.decoder_layers);
  // One bound over every term below: each is at most e*s*b times a width,
  // times a*s for the scores, times the layers, and the sums have fewer
  // than 64 terms. If the bound fits, nothing below wraps.
  uint64_t width = std::max({d.h, d.q + 2 * d.kv, 4 * d.f, d.V, uint64_t{1}});
  checked_product({std::max<uint64_t>(d.e, 4), std::max<uint64_t>(d.s, 1), std::max<uint64_t>(d.b, 1), width,
                   std::max<uint64_t>(d.a, 1) * std::max<uint64_t>(d.s, 1) + 1, L + 2 * D + 4, 64},
                  "activation memory at --seq " + std::to_string(in.seq) + " --batch " + std::to_string(in.batch));
  checked_product({std::max<uint64_t>(in.parameters, d.V * d.h) + (L + 2 * D + 4) * 8 * d.q * std::max<uint64_t>(d.s, 1),
                   std::max<uint64_t>(d.s, 1), 8},
                  "FLOPs at --seq " + std::to_string(in.seq));
  uint64_t sbh = d.s * d.b * d.h;
  Workload w;

  // Training: every layer's saved tensors, or with checkpointing only each
  // layer's input plus one layer being recomputed.
  uint64_t enc_layer = attention_saved(d, d.s) + mlp_saved(d) + 2 * d.e * sbh;
  uint64_t dec_layer = 2 * attention_saved(d, d.s) + mlp_saved(d) + 3 * d.e * sbh;
  uint64_t extras = d.e * sbh * (D ? 2 : 1) + (a.dropout ? sbh : 0) + (a.lm_head ? d.e * sbh + 4 * d.s * d.b * d.V : 0);
  if (a.family == "vit") {
    uint64_t side = u(a.patch) * static_cast<uint64_t>(std::lround(std::sqrt(static_cast<double>(d.s ? d.s - 1 : 0))));
    extras += d.e * d.b * u(a.channels) * side * side;  // the image, kept for the patch projection's gradient
  }
  std::string layer_text = "per layer " + n(enc_layer) + " B" + (D ? ", per decoder layer " + n(dec_layer) + " B" : "");
  if (in.checkpointing) {
    w.training_activations = (L + D) * d.e * sbh + std::max(enc_layer, D ? dec_layer : 0) + extras;
    w.training_formula = "layers x e*s*b*h (each layer's input) + one layer recomputed + final norm, logits; " + layer_text;
  } else {
    w.training_activations = L * enc_layer + D * dec_layer + extras;
    w.training_formula = std::string("layers x (attention e*s*b*(h + 2*q + 2*kv) + e*a*s^2*b") +
                         (a.dropout ? " + dropout a*s^2*b*(1+e) + s*b*h" : "") + " + MLP e*s*b*(h + " +
                         (a.gated_mlp ? "4" : "2") + "*F) + norms 2*e*s*b*h)" +
                         (a.lm_head ? " + fp32 logits 4*s*b*V" : "") + "; " + layer_text;
  }

  // Inference keeps nothing for backward: the peak is the residual stream
  // and its normalised copy plus the largest transient of one layer.
  uint64_t attn_peak = d.e * d.s * d.b * (d.q + 2 * d.kv) + 2 * d.e * d.a * d.s * d.s * d.b;
  uint64_t mlp_peak = (d.gated ? 3 : 2) * d.e * d.s * d.b * d.f;
  uint64_t logits = a.lm_head ? d.e * d.s * d.b * d.V : 0;
  w.inference_activations = d.e * sbh * (a.encoder_decoder ? 3 : 2) + std::max({attn_peak, mlp_peak, logits});
  w.inference_formula = std::string("e*s*b*h x ") + (a.encoder_decoder ? "3" : "2") +
                        " + max(QKV e*s*b*(q + 2*kv) + scores 2*e*a*s^2*b, MLP " + (d.gated ? "3" : "2") +
                        "*e*s*b*F" + (a.lm_head ? ", logits e*s*b*V" : "") + ")";

  if (a.causal) {
    uint64_t cached_layers = D ? D : L;
    w.kv_cache = 2 * cached_layers * d.kv * d.s * d.b * d.e * (D ? 2 : 1);
    w.kv_formula = D ? "2 x 2*D*kv*s*b*e (self and cross attention)" : "2*L*kv*s*b*e";
  }

  // FLOPs: lookups cost nothing, a tied output head multiplies by the
  // embedding matrix once more; attention reads s keys per token, s/2 on
  // average under a causal mask.
  uint64_t matmul = in.parameters - std::min(in.parameters, a.embedding_parameters) + (a.head_tied ? d.V * d.h : 0);
  uint64_t per_sample_params = std::min(matmul, a.sample_parameters);
  uint64_t attention = D ? (4 * L + 2 * D + 4 * D) * d.s * d.q : (a.causal ? 2 : 4) * L * d.s * d.q;
  w.forward_per_sample = 2 * (matmul - per_sample_params) * d.s + attention * d.s + 2 * per_sample_params;
  w.forward_per_token = d.s ? w.forward_per_sample / d.s : 0;
  w.flops_formula = std::string("2*N' + ") + (D ? "(4*L + 6*D)" : a.causal ? "2*L" : "4*L") +
                    "*s*q per token, N' = " + n(matmul) + " (" +
                    (in.active_experts ? "active parameters: top-k routed experts, router, shared and dense layers" : "parameters") +
                    " - lookup tables" +
                    (a.head_tied ? " + tied output head V*h" : "") + ")";
  return w;
}

Workload resnet_workload(const WorkloadInput& in) {
  const Architecture& a = *in.arch;
  std::vector<ConvLayer> layers = resnet_layers(a, in.image);
  uint64_t e = in.element_bytes, b = u(in.batch), macs = 0, saved = 0, peak = 0;
  // ResNet's sizes come from the recognised family (bounded); the batch and
  // image size come from the command line.
  checked_product({std::max<uint64_t>(b, 1), std::max<uint64_t>(e, 8), uint64_t{1} << 12,
                   std::max<uint64_t>(u(in.image), 1), std::max<uint64_t>(u(in.image), 1), uint64_t{1} << 16},
                  "activation memory at --batch " + std::to_string(in.batch) + " --image " + std::to_string(in.image));
  for (const ConvLayer& l : layers) {
    uint64_t out = u(l.out_channels) * u(l.out_size) * u(l.out_size);
    uint64_t input = u(l.in_channels) * u(l.in_size) * u(l.in_size);
    macs += out * u(l.kernel) * u(l.kernel) * u(l.in_channels / std::max<int64_t>(l.groups, 1));
    saved += 2 * out;  // convolution output (BatchNorm's input) and the normalised, activated output
    peak = std::max(peak, input + 2 * out + u(l.kept));
  }
  const ConvLayer& stem = layers.front();
  uint64_t pooled = u(stem.out_channels) * u((stem.out_size + 1) / 2) * u((stem.out_size + 1) / 2);
  uint64_t image = u(a.channels) * u(in.image) * u(in.image);
  Workload w;
  w.training_activations = b * (e * (image + saved + pooled) + 8 * pooled);
  w.training_formula = "b*(e*(image + 2 x every conv output + max-pool output) + 8 x max-pool indices)";
  w.inference_activations = b * e * peak;
  w.inference_formula = "b*e*max over convolutions of (input + 2 x output + the residual kept beside them)";
  w.forward_per_sample = 2 * macs;
  w.flops_formula = "2 x sum of conv MACs out^2*k^2*Cin/groups*Cout + fc Cin*K, at " + std::to_string(in.image) +
                    "x" + std::to_string(in.image);
  return w;
}

}  // namespace ptscope
