#include "estimate_experts.h"

#include "ptscope/error.h"

namespace ptscope {

const char* const kNeedsTopK = "needs --experts-per-token";

std::optional<Estimate::Moe> estimate_experts(const Checkpoint& c, const EstimateOptions& o, uint64_t parameters,
                                              std::vector<std::string>& notes) {
  std::optional<Experts> found = find_experts(c);
  if (!found) return std::nullopt;
  Estimate::Moe m;
  m.experts = *found;
  const Experts& x = m.experts;
  const std::string n = std::to_string(x.experts);
  if (o.experts_per_token && *o.experts_per_token > x.experts)
    throw Error("--experts-per-token " + std::to_string(*o.experts_per_token) + " exceeds the " + n +
                " experts a layer holds");
  const ModelConfig* cfg = o.config ? &*o.config : nullptr;
  if (cfg && cfg->num_experts && *cfg->num_experts != x.experts)
    notes.push_back("config.json says " + std::to_string(*cfg->num_experts) + " experts, the shapes " + n +
                    ": the shapes are used");
  if (o.experts_per_token) {
    m.top_k = *o.experts_per_token;
    m.top_k_source = "--experts-per-token";
  } else if (cfg && cfg->num_experts_per_tok && *cfg->num_experts_per_tok <= x.experts) {
    m.top_k = *cfg->num_experts_per_tok;
    m.top_k_source = "config.json";
  } else if (cfg && cfg->num_experts_per_tok) {
    notes.push_back("config.json says num_experts_per_tok " + std::to_string(*cfg->num_experts_per_tok) +
                    ", more than the " + n + " experts the shapes hold: not used; --experts-per-token to give it");
  }
  if (m.top_k) m.active_parameters = active_parameters(x, parameters, m.top_k);
  else
    notes.push_back("experts per token unknown: the active parameters and FLOPs per token need "
                    "--experts-per-token (config.json's num_experts_per_tok when a folder has one)");
  ModelSizes sizes = model_sizes(c, routed_expert_name);
  m.expert_bytes = weight_bytes(o.dtype, sizes, o.group_size, &m.expert_bytes_formula);
  notes.push_back("inference and training memory hold every expert (" + n + " per layer in " +
                  std::to_string(x.moe_layers) + (x.moe_layers == 1 ? " MoE layer" : " MoE layers") +
                  "); FLOPs per token count the " +
                  (m.top_k ? std::to_string(m.top_k) : std::string("top-k")) + " a token is routed to");
  return m;
}

void experts_lines(const Estimate::Moe& m, uint64_t parameters, std::vector<Line>& lines) {
  const Experts& x = m.experts;
  auto count = [&](const char* name, uint64_t v, std::string formula) {
    lines.push_back({"experts", name, v, false, std::move(formula), true, {}, true});
  };
  count("total parameters", parameters, "every expert, router and shared expert: all resident in memory");
  count("routed experts", x.expert_parameters,
        std::to_string(x.experts) + " experts x " + std::to_string(x.moe_layers) +
            (x.moe_layers == 1 ? " MoE layer, " : " MoE layers, ") +
            std::to_string(x.one_expert_per_layer) + " for one expert in each");
  count("router", x.router_parameters, "gate/router: in both totals, used by every token");
  if (x.shared_parameters) count("shared experts", x.shared_parameters, "used by every token");
  if (m.active_parameters)
    count("active per token", *m.active_parameters,
          "P - routed experts + k x one expert per MoE layer; k=" + std::to_string(m.top_k) + " (" + m.top_k_source +
              ")");
  else
    lines.push_back({"experts", "active per token", 0, false,
                     std::string(kNeedsTopK) + ": P - routed experts + k x one expert per MoE layer", false, {}, true});
  lines.push_back({"experts", "expert memory", m.expert_bytes, true, m.expert_bytes_formula + "; P=" + std::to_string(x.expert_parameters) + " (routed experts)",
                   true, {}, false});
}

}  // namespace ptscope
