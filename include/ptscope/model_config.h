// A model folder's config.json (Hugging Face): the fields ptscope reads,
// each only where present with the expected type. Never trusted: the
// shapes in the files decide every count; the config fills in what they
// leave open (head counts, a default dtype and sequence length) and is
// checked against them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ptscope {

struct ModelConfig {
  std::string file;  // the config.json read
  std::optional<std::string> model_type, torch_dtype, quant_method;
  // num_experts: num_local_experts, num_experts or n_routed_experts; moe_intermediate_size: one routed
  // expert's FFN width (Qwen2-MoE, DeepSeek); bits: quantization_config.bits
  std::optional<int64_t> hidden_size, num_attention_heads, num_key_value_heads, head_dim, intermediate_size,
      num_hidden_layers, vocab_size, max_position_embeddings, sliding_window, num_experts, num_experts_per_tok,
      moe_intermediate_size, bits;
  std::optional<bool> tie_word_embeddings;
};

// At most this many bytes of config.json are read.
constexpr uint64_t kMaxConfigBytes = 4u << 20;

// Parses config.json's text. Throws ptscope::Error when it is not a JSON
// object or nests deeper than 64 levels; a field of another type than
// expected, or an integer outside [1, 2^40], is left unset.
ModelConfig parse_model_config(const std::string& text);

// `dir`/config.json when there is one. Never throws: a config that cannot
// be read or parsed is nullopt with the reason, one line, in `*problem`.
std::optional<ModelConfig> read_model_config(const std::string& dir, std::string* problem);

}  // namespace ptscope
