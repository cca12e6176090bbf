// Experts are found by name alone: the expert index, or a fused tensor's
// leading expert axis, says how many there are, so a config.json that
// disagrees is caught rather than believed.
#include "ptscope/experts.h"

#include <algorithm>
#include <map>
#include <iterator>
#include <set>
#include <string_view>

#include "affixes.h"
#include "model_tensors.h"
#include "sizes.h"

namespace ptscope {
namespace {

// "model.layers.0.mlp.experts.3.up_proj.weight" -> block "model.layers.0.mlp",
// rest "3.up_proj.weight". False for names outside any experts module.
// Views of the name: a 100k-tensor model is split once per tensor.
bool split_experts(std::string_view name, std::string_view* block, std::string_view* rest) {
  constexpr std::string_view kBare = "experts.", kMark = ".experts.";
  if (name.substr(0, kBare.size()) == kBare) {
    *block = "";
    *rest = name.substr(kBare.size());
    return true;
  }
  size_t at = name.find(kMark);
  if (at == std::string_view::npos) return false;
  *block = name.substr(0, at);
  *rest = name.substr(at + kMark.size());
  return true;
}

// The expert index a ModuleList name starts with ("3.w1.weight" -> 3), and
// what follows it; -1 for a fused tensor ("gate_up_proj").
int64_t expert_index(std::string_view rest, std::string_view* member) {
  size_t digits = 0;
  int64_t index = 0;
  while (digits < rest.size() && digits < 9 && rest[digits] >= '0' && rest[digits] <= '9')
    index = index * 10 + (rest[digits++] - '0');
  if (digits == 0 || digits >= rest.size() || rest[digits] != '.') return -1;
  *member = rest.substr(digits + 1);
  return index;
}

// What sits beside the experts in their block.
constexpr std::string_view kMarks[] = {".gate.", ".router.", ".shared_expert.", ".shared_experts.",
                                       ".shared_expert_gate."};

struct Block {
  std::set<int64_t> indices;  // ModuleList experts seen
  int64_t fused_experts = 0;  // a fused tensor's leading axis
  int64_t ffn = 0;
  uint64_t routed = 0;
  bool fused = false;
};


}  // namespace

bool routed_expert_name(const std::string& name) {
  std::string_view block, rest;
  return split_experts(name, &block, &rest);
}

std::optional<Experts> find_experts(const Checkpoint& c) {
  std::vector<const Tensor*> params;
  for (const Tensor* t : unique_views(model_entries(c)))
    if (counts_as_parameter(c, *t)) params.push_back(t);
  std::map<std::string, Block, std::less<>> blocks;
  // An expert's tensors come one after another: the last block and index
  // are asked first.
  Block* last = nullptr;
  std::string_view last_name;
  for (const Tensor* t : params) {
    std::string_view block, rest, member;
    if (!split_experts(t->name, &block, &rest)) continue;
    if (!last || block != last_name) {
      auto it = blocks.find(block);
      if (it == blocks.end()) it = blocks.emplace(std::string(block), Block{}).first;
      last = &it->second;
      last_name = it->first;
    }
    Block& b = *last;
    b.routed += t->numel;
    if (int64_t i = expert_index(rest, &member); i >= 0) {
      if (b.indices.empty() || *b.indices.rbegin() != i) b.indices.insert(i);
      // The first matrix of a gated expert is [ffn, hidden].
      if (!b.ffn && (member == "w1.weight" || member == "gate_proj.weight") && t->shape.size() == 2) b.ffn = t->shape[0];
    } else if (!t->shape.empty()) {
      b.fused = true;
      // The expert axis leads: a 3-D weight fixes it over a 2-D bias.
      if (t->shape.size() >= 3 || !b.fused_experts) b.fused_experts = t->shape[0];
    }
  }
  if (blocks.empty()) return std::nullopt;

  Experts x;
  bool shared_expert = false, shared_experts = false, router = false, fused = false, mixtral = false;
  for (const Tensor* t : params) {
    // Each mark's first occurrence: marks start with '.', so only the dots
    // of the name are tried (a 100k-tensor model asked five finds each).
    std::string_view name = t->name;
    size_t first[std::size(kMarks)];
    std::fill(std::begin(first), std::end(first), std::string_view::npos);
    for (size_t at = name.find('.'); at != std::string_view::npos; at = name.find('.', at + 1)) {
      char next = at + 1 < name.size() ? name[at + 1] : '\0';
      if (next != 'g' && next != 'r' && next != 's') continue;  // no mark starts otherwise
      for (size_t k = 0; k < std::size(kMarks); ++k)
        if (first[k] == std::string_view::npos && name.substr(at, kMarks[k].size()) == kMarks[k]) first[k] = at;
    }
    for (size_t k = 0; k < std::size(kMarks); ++k) {
      std::string_view m = kMarks[k];
      size_t at = first[k];
      if (at == std::string_view::npos || blocks.find(name.substr(0, at)) == blocks.end()) continue;
      if (m == ".gate." || m == ".router.") {
        x.router_parameters += t->numel;
        router = router || m == ".router.";
        shared_experts = shared_experts || ends_with(t->name, ".e_score_correction_bias");
      } else {
        x.shared_parameters += t->numel;
        (m == ".shared_experts." ? shared_experts : shared_expert) = true;
      }
      break;
    }
  }
  for (const auto& [name, b] : blocks) {
    int64_t n = b.fused ? b.fused_experts : static_cast<int64_t>(b.indices.size());
    if (n <= 0) continue;
    ++x.moe_layers;
    x.experts = std::max(x.experts, n);
    if (!x.expert_ffn) x.expert_ffn = b.ffn;
    x.expert_parameters += b.routed;
    x.one_expert_per_layer += b.routed / u(n);
    fused = fused || b.fused;
    mixtral = mixtral || ends_with(name, "block_sparse_moe");
  }
  if (!x.moe_layers) return std::nullopt;
  x.naming = fused          ? (router ? "gpt_oss" : "fused")
             : mixtral      ? "mixtral"
             : shared_expert ? "qwen2_moe"
             : shared_experts ? "deepseek"
                              : "experts";
  return x;
}

uint64_t active_parameters(const Experts& x, uint64_t parameters, int64_t top_k) {
  uint64_t dense = parameters - std::min(parameters, x.expert_parameters);
  return dense + std::min(x.expert_parameters, u(top_k) * x.one_expert_per_layer);
}

}  // namespace ptscope
