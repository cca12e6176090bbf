#include "ptscope/model_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "byte_source.h"
#include "ptscope/error.h"

namespace ptscope {
namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 64;
constexpr int64_t kMaxValue = int64_t{1} << 40;

void set_int(const json& j, const char* key, std::optional<int64_t>& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return;
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(kMaxValue)) return;
  int64_t v = it->get<int64_t>();
  if (v >= 1 && v <= kMaxValue) out = v;
}

// transformers' own spellings of the same sizes: each config class's
// attribute_map (GPT2Config, T5Config, BloomConfig, FalconConfig, OPTConfig,
// GPTJConfig, ...) aliases the canonical name to the one its JSON holds.
// The canonical name wins where both are present.
void set_int_any(const json& j, std::initializer_list<const char*> keys, std::optional<int64_t>& out) {
  for (const char* k : keys) {
    set_int(j, k, out);
    if (out) return;
  }
}

void set_string(const json& j, const char* key, std::optional<std::string>& out) {
  auto it = j.find(key);
  if (it != j.end() && it->is_string() && it->get_ref<const std::string&>().size() <= 256)
    out = it->get<std::string>();
}

}  // namespace

ModelConfig parse_model_config(const std::string& text) {
  // Depth is checked while parsing, before anything is built from it.
  int depth = 0;
  bool too_deep = false;
  json::parser_callback_t cb = [&](int d, json::parse_event_t e, json&) {
    if (e == json::parse_event_t::object_start || e == json::parse_event_t::array_start) {
      depth = d + 1;
      if (depth > kMaxDepth) too_deep = true;
    }
    return !too_deep;
  };
  json j = json::parse(text, cb, /*allow_exceptions=*/false);
  if (too_deep) throw Error("nests deeper than " + std::to_string(kMaxDepth) + " levels");
  if (j.is_discarded()) throw Error("not valid JSON");
  if (!j.is_object()) throw Error("not a JSON object");
  ModelConfig c;
  set_string(j, "model_type", c.model_type);
  set_string(j, "torch_dtype", c.torch_dtype);
  set_int_any(j, {"hidden_size", "n_embd", "d_model"}, c.hidden_size);
  set_int_any(j, {"num_attention_heads", "n_head", "num_heads", "encoder_attention_heads"}, c.num_attention_heads);
  set_int_any(j, {"num_key_value_heads", "num_kv_heads", "multi_query_group_num"}, c.num_key_value_heads);
  set_int_any(j, {"head_dim", "d_kv"}, c.head_dim);
  set_int_any(j, {"intermediate_size", "n_inner", "d_ff", "ffn_dim", "encoder_ffn_dim"}, c.intermediate_size);
  set_int_any(j, {"num_hidden_layers", "n_layer", "num_layers", "encoder_layers"}, c.num_hidden_layers);
  set_int(j, "vocab_size", c.vocab_size);
  set_int_any(j, {"max_position_embeddings", "n_positions", "n_ctx", "seq_length"}, c.max_position_embeddings);
  set_int(j, "sliding_window", c.sliding_window);
  set_int(j, "num_local_experts", c.num_experts);
  if (!c.num_experts) set_int(j, "num_experts", c.num_experts);
  if (!c.num_experts) set_int(j, "n_routed_experts", c.num_experts);  // DeepSeek-V2/V3
  set_int(j, "num_experts_per_tok", c.num_experts_per_tok);
  set_int(j, "moe_intermediate_size", c.moe_intermediate_size);
  if (auto it = j.find("tie_word_embeddings"); it != j.end() && it->is_boolean()) c.tie_word_embeddings = it->get<bool>();
  if (auto q = j.find("quantization_config"); q != j.end() && q->is_object()) {
    set_string(*q, "quant_method", c.quant_method);
    set_int(*q, "bits", c.bits);
  }
  return c;
}

std::optional<ModelConfig> read_model_config(const std::string& dir, std::string* problem) {
  namespace fs = std::filesystem;
  fs::path path = (dir.empty() ? fs::path(".") : fs::path(dir)) / "config.json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  auto fail = [&](const std::string& why) -> std::optional<ModelConfig> {
    if (problem) *problem = path.string() + ": " + why + "; ignored";
    return std::nullopt;
  };
  std::optional<std::string> text;
  try {
    text = read_small_file(path.string(), kMaxConfigBytes);
  } catch (const Error&) {
    return fail("cannot open");
  }
  if (!text) return fail("larger than 4 MiB");
  try {
    ModelConfig c = parse_model_config(*text);
    c.file = path.string();
    return c;
  } catch (const Error& e) {
    return fail(e.message());
  } catch (const std::exception& e) {
    return fail(std::string("cannot be parsed: ") + e.what());
  }
}

}  // namespace ptscope
