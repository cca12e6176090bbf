// Which well-known architecture a checkpoint holds, read from its key names
// and shapes alone, and the parameter count that architecture implies.
//
// Families: gpt2 (HF GPT2), bert (HF BERT/RoBERTa), llama (HF LLaMA,
// Mistral, Qwen2: grouped-query attention, gated MLP; Mixtral and Qwen2-MoE:
// the MLP a mixture of gated experts), t5 (HF T5, v1.0 and
// gated v1.1), vit (torchvision VisionTransformer), resnet (torchvision
// ResNet/ResNeXt/Wide ResNet). Keys may sit under any prefix ("module.",
// "model.", a nested checkpoint's group).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptscope/checkpoint.h"

namespace ptscope {

struct Architecture {
  std::string family;
  std::string prefix;          // what the family's own key names follow
  int64_t layers = 0;          // transformer blocks (t5: encoder blocks)
  int64_t decoder_layers = 0;  // t5 decoder blocks
  int64_t relative_buckets = 0;  // t5: rows of the relative position bias
  int64_t hidden = 0;
  // Attention: widths are fixed by the shapes; the head count is only where
  // a tensor has one axis per head (t5's relative bias, rotary inv_freq).
  int64_t heads = 0, kv_heads = 0, head_dim = 0;  // 0: not fixed by the shapes
  int64_t attention_dim = 0;   // query projection width: heads x head_dim
  int64_t kv_dim = 0;          // key/value projection width: kv_heads x head_dim
  int64_t ffn = 0, vocab = 0;  // ffn: a mixture of experts' is one expert's
  int64_t experts = 0;         // routed experts per layer; 0: a dense MLP
  int64_t shared_ffn = 0;      // a shared expert's FFN width (Qwen2-MoE); 0: none
  int64_t positions = 0;       // learned positions (vit: tokens); 0 when none
  int64_t classes = 0;         // vit / resnet classifier outputs
  int64_t patch = 0, channels = 0;  // vit patch size, input channels
  bool causal = false;         // autoregressive decoder: KV cache, causal attention
  bool encoder_decoder = false;
  bool gated_mlp = false;      // SwiGLU / GEGLU: three FFN matrices
  bool dropout = false;        // the family trains with dropout (masks kept)
  bool lm_head = false;        // projects to the vocabulary at every position
  bool head_tied = false;      // ... with the input embedding's matrix
  // bert: a RoBERTa checkpoint (under "roberta.", or with RobertaLMHead's
  // lm_head.dense): positions count from the padding index, and its masked-LM
  // head is named lm_head. A bare RobertaModel without that prefix reads as
  // BERT here; config.json's model_type tells them apart (profile).
  bool roberta = false;
  uint64_t embedding_parameters = 0;  // lookup tables: no multiply per token
  uint64_t sample_parameters = 0;     // applied once per sample (vit classifier)
  uint64_t parameters_from_formula = 0;
  std::string formula;         // how parameters_from_formula was computed

  // resnet
  std::vector<int64_t> stages;  // blocks per stage
  bool bottleneck = false;
  int64_t width = 0, groups = 1, width_per_group = 64, stem_kernel = 7;
};

// The architecture of the checkpoint's model tensors (its "model" group when
// nested), or nullopt when no family matches.
std::optional<Architecture> recognize_architecture(const Checkpoint& c);

// torchvision ResNet, layer by layer, for an image of `image` x `image`
// pixels: what every convolution and the classifier compute and produce.
struct ConvLayer {
  int64_t in_channels = 0, out_channels = 0, kernel = 1, stride = 1, groups = 1;
  int64_t in_size = 0, out_size = 0;  // height = width
  int64_t kept = 0;            // elements alive beside its input and output (the residual)
};
std::vector<ConvLayer> resnet_layers(const Architecture& a, int64_t image);
uint64_t resnet_parameters(const Architecture& a);

}  // namespace ptscope
