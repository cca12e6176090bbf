#include "roles.h"

#include <string_view>

namespace ptscope {
namespace {

// Views: every tensor of the file is classified.
std::string_view last_component(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

bool known_buffer_name(std::string_view leaf) {
  static constexpr std::string_view kNames[] = {
      "position_ids", "token_type_ids", "inv_freq", "relative_position_index",
      "masked_bias", "causal_mask", "attn_mask", "mask", "anchors", "anchor_grid",
      "freqs_cis", "cos_cached", "sin_cached", "_float_tensor", "running_std",
  };
  for (std::string_view n : kNames)
    if (leaf == n) return true;
  return false;
}

struct Rule {
  const char* name;
  Role role;
  bool (*match)(const Tensor&, std::string_view leaf);
};

const Rule kRules[] = {
    {"nn.Parameter object", Role::Parameter,
     [](const Tensor& t, std::string_view) { return t.parameter_object; }},
    {"batchnorm running stat", Role::Buffer,
     [](const Tensor&, std::string_view l) { return l == "running_mean" || l == "running_var"; }},
    {"num_batches_tracked", Role::Buffer,
     [](const Tensor&, std::string_view l) { return l == "num_batches_tracked"; }},
    {"non-float dtype", Role::Buffer,
     [](const Tensor& t, std::string_view) { return !dtype_is_floating(t.dtype); }},
    {"known buffer name", Role::Buffer,
     [](const Tensor&, std::string_view l) { return known_buffer_name(l); }},
    {"floating tensor", Role::Parameter,
     [](const Tensor&, std::string_view) { return true; }},
};

}  // namespace

void classify_roles(Checkpoint& c) {
  if (!c.roles_known) return;
  for (Tensor& t : c.tensors) {
    if (t.role != Role::Unknown) continue;
    std::string_view leaf = last_component(t.name);
    for (const Rule& r : kRules)
      if (r.match(t, leaf)) {
        t.role = r.role;
        t.rule = r.name;
        break;
      }
  }
}

}  // namespace ptscope
