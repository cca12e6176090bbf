#include "html_page.h"
#include "html_reports.h"
#include "numbers.h"

namespace ptscope {

using json = nlohmann::ordered_json;

std::string estimate_html(const EstimatedFile& f, const EstimateOptions& o) {
  const Estimate& e = f.estimate;
  PageData p;
  p.title = "ptscope estimate " + f.checkpoint.path;
  p.summary = {{"parameters", with_commas(e.sizes.parameters), "parameters"},
               {"weights", human_bytes(e.inference.weights), ""},
               {"inference total", with_commas(e.inference.total) + " B", "inference_total"},
               {"training total (one GPU)", with_commas(e.training.total) + " B", "training_total"},
               {"gpus", std::to_string(o.gpus), ""}};
  for (const std::string& n : e.notes) p.summary.push_back({"note", n, ""});
  // Per strategy, the model states split as the ZeRO paper shards them
  // (per_gpu_model_states is linear in each term), activations unsharded.
  json bars = json::array();
  const uint64_t act = e.training.activations.value_or(0);
  const uint64_t opt = e.training.optimizer + e.training.master_weights;
  for (const auto& [s, total] : e.training.per_gpu_by_strategy) {
    uint64_t w = per_gpu_model_states(s, e.training.weights, 0, 0, o.gpus);
    uint64_t g = per_gpu_model_states(s, 0, e.training.gradients, 0, o.gpus);
    uint64_t op = per_gpu_model_states(s, 0, 0, opt, o.gpus);
    (void)total;
    bars.push_back({{"label", std::string(strategy_name(s)) + " per GPU"}, {"values", json::array({w, g, op, act})}});
  }
  json inference = {{"label", "inference"},
                    {"values", json::array({e.inference.weights, 0, 0, e.inference.activations.value_or(0) +
                                                                          e.inference.kv_cache.value_or(0)})}};
  bars.insert(bars.begin(), inference);
  p.sections["stacks"] = {{"title", "Memory per GPU by strategy"},
                          {"series", json::array({"weights", "gradients", "optimizer state", "activations and KV cache"})},
                          {"bars", bars}};
  p.sections["treemap"] = html_parameter_treemap(f.checkpoint);
  p.sections["table"] = html_tensor_table(f.checkpoint);
  return render_page(p);
}

}  // namespace ptscope
