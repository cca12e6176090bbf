#include "estimate_report.h"

#include <ostream>

#include "numbers.h"

namespace ptscope {
namespace {

using json = nlohmann::ordered_json;

template <typename T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
json positive_or_null(int64_t v) { return v > 0 ? json(v) : json(nullptr); }

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The table's value cell, never shortened: "unknown (reason)", or "at
// least X (incomplete: terms)" for a sum that leaves terms out.
std::string value_text(const Line& l, const std::string& number) {
  if (!l.known) return "unknown (" + l.formula + ")";
  return l.missing.empty() ? number : "at least " + number + " (incomplete: " + joined(l.missing) + ")";
}

json architecture_json(const Estimate& e) {
  if (!e.architecture) return nullptr;
  const Architecture& a = *e.architecture;
  bool resnet = a.family == "resnet";
  int64_t blocks = 0;
  for (int64_t s : a.stages) blocks += s;
  json j = {{"family", a.family},
            {"layers", resnet ? blocks : a.layers},
            {"hidden", positive_or_null(a.hidden)},
            {"heads", positive_or_null(e.heads)},
            {"kv_heads", positive_or_null(e.kv_heads)},
            {"heads_source", e.heads_source.empty() ? json(nullptr) : json(e.heads_source)},
            {"ffn", positive_or_null(a.ffn)},
            {"vocab", positive_or_null(a.vocab)},
            {"parameters_from_formula", a.parameters_from_formula},
            {"formula", a.formula}};
  if (a.decoder_layers) j["decoder_layers"] = a.decoder_layers;
  if (a.experts) j["experts"] = a.experts;
  if (a.shared_ffn) j["shared_ffn"] = a.shared_ffn;
  if (a.positions) j["positions"] = a.positions;
  if (a.classes) j["classes"] = a.classes;
  if (resnet) {
    j["stages"] = a.stages;
    j["block"] = a.bottleneck ? "bottleneck" : "basic";
    j["groups"] = a.groups;
    j["width_per_group"] = a.width_per_group;
  }
  return j;
}

std::string flops(uint64_t n) { return si_prefixed(n, "FLOPs", 2); }

const char* unit_name(const Line& l) { return l.bytes ? "bytes" : l.count ? "parameters" : "flops"; }

std::string value_number(const Line& l, Units units) {
  return l.bytes ? human_bytes(l.value, units) : l.count ? with_commas(l.value) : flops(l.value);
}

// The experts, in JSON: what find_experts counted and what the estimate made of it.
json experts_json(const Estimate& e) {
  if (!e.moe) return nullptr;
  const Estimate::Moe& m = *e.moe;
  const Experts& x = m.experts;
  return {{"naming", x.naming},
          {"moe_layers", x.moe_layers},
          {"experts", x.experts},
          {"expert_ffn", positive_or_null(x.expert_ffn)},
          {"experts_per_token", positive_or_null(m.top_k)},
          {"experts_per_token_source", m.top_k ? json(m.top_k_source) : json(nullptr)},
          {"total_parameters", e.sizes.parameters},
          {"expert_parameters", x.expert_parameters},
          {"one_expert_per_layer_parameters", x.one_expert_per_layer},
          {"router_parameters", x.router_parameters},
          {"shared_expert_parameters", x.shared_parameters},
          {"active_parameters", or_null(m.active_parameters)},
          {"expert_bytes", m.expert_bytes},
          {"complete", m.active_parameters.has_value()}};
}

std::string describe(const Estimate& e) {
  if (!e.architecture) return "not recognised";
  const Architecture& a = *e.architecture;
  std::string s = a.family + ": ";
  if (a.family == "resnet") {
    s += std::string(a.bottleneck ? "bottleneck" : "basic") + " blocks";
    for (size_t i = 0; i < a.stages.size(); ++i) s += (i ? "/" : " ") + std::to_string(a.stages[i]);
    if (a.groups > 1) s += ", groups " + std::to_string(a.groups);
    return s + ", width/group " + std::to_string(a.width_per_group) + ", " + std::to_string(a.classes) + " classes";
  }
  s += std::to_string(a.layers) + " layers";
  if (a.decoder_layers) s += " + " + std::to_string(a.decoder_layers) + " decoder layers";
  s += ", hidden " + std::to_string(a.hidden);
  if (e.heads) s += ", heads " + std::to_string(e.heads) + " (" + e.heads_source + ")";
  if (e.kv_heads && e.kv_heads != e.heads) s += ", kv heads " + std::to_string(e.kv_heads);
  if (a.experts)
    s += ", " + std::to_string(a.experts) + " experts of ffn " + std::to_string(a.ffn) +
         (a.shared_ffn ? " + shared ffn " + std::to_string(a.shared_ffn) : "");
  else
    s += ", ffn " + std::to_string(a.ffn);
  if (a.vocab) s += ", vocab " + std::to_string(a.vocab);
  if (a.positions) s += ", positions " + std::to_string(a.positions);
  return s;
}

json estimate_json(const Checkpoint& c, const Estimate& e, const EstimateOptions& o) {
  const ModelSizes& m = e.sizes;
  json options = {{"dtype", weight_type_name(o.dtype)},
                  {"group_size", o.group_size},
                  {"optimizer", optimizer_name(o.optimizer)},
                  {"mixed_precision", o.mixed_precision},
                  {"batch", o.batch},
                  {"seq", e.seq ? json(e.seq) : json(nullptr)},
                  {"seq_source", e.seq_source.empty() ? json(nullptr) : json(e.seq_source)},
                  {"image", o.image},
                  {"gpus", o.gpus},
                  {"strategy", strategy_name(o.strategy)},
                  {"activation_checkpointing", o.activation_checkpointing}};
  json inference = {{"weights_bytes", e.inference.weights},
                    {"activation_bytes", or_null(e.inference.activations)},
                    {"kv_cache_bytes", or_null(e.inference.kv_cache)},
                    {"total_bytes", e.inference.total},
                    {"complete", e.inference.missing.empty()},
                    {"missing", e.inference.missing}};
  json training = nullptr;
  if (e.training.possible) {
    json by_strategy = json::object();
    for (const auto& [s, v] : e.training.per_gpu_by_strategy) by_strategy[strategy_name(s)] = v;
    training = {{"weights_bytes", e.training.weights},
                {"gradient_bytes", e.training.gradients},
                {"master_weights_bytes", e.training.master_weights},
                {"optimizer_bytes", e.training.optimizer},
                {"activation_bytes", or_null(e.training.activations)},
                {"total_bytes", e.training.total},
                {"per_gpu_bytes", e.training.per_gpu},
                {"per_gpu_bytes_by_strategy", by_strategy},
                {"complete", e.training.missing.empty()},
                {"missing", e.training.missing}};
  }
  json lines = json::array();
  for (const Line& l : e.lines) {
    json j = {{"section", l.section}, {"name", l.name}, {"value", l.known ? json(l.value) : json(nullptr)},
              {"unit", unit_name(l)}, {"formula", l.known ? json(l.formula) : json(nullptr)},
              {"complete", l.known && l.missing.empty()}};
    if (!l.known) j["reason"] = l.formula;
    if (!l.missing.empty()) j["missing"] = l.missing;
    lines.push_back(std::move(j));
  }
  auto flops_json = [](const std::optional<uint64_t>& f, const std::optional<uint64_t>& t, const std::string& why) {
    json j = {{"forward", or_null(f)}, {"training", or_null(t)}};
    if (!f && !why.empty()) j["reason"] = why;
    return j;
  };
  return {{"file", c.path},
          {"format", format_name(c.format)},
          {"options", options},
          {"parameters", {{"tensors", m.parameter_tensors}, {"numel", m.parameters}, {"bytes", m.parameter_bytes}}},
          {"buffer_bytes", e.sizes.buffer_bytes},
          {"architecture", architecture_json(e)},
          {"experts", experts_json(e)},
          {"inference", inference},
          {"training", training},
          {"flops_per_token", flops_json(e.flops.forward_per_token, e.flops.training_per_token, e.flops.no_per_token)},
          {"flops_per_sample", flops_json(e.flops.forward_per_sample, e.flops.training_per_sample, e.flops.unknown)},
          {"flops_per_batch", flops_json(e.flops.forward_per_batch, e.flops.training_per_batch, e.flops.unknown)},
          {"lines", lines},
          {"notes", e.notes}};
}

void write_estimate_text(std::ostream& out, const Checkpoint& c, const Estimate& e, const EstimateOptions& o,
                         Units units) {
  out << c.path << " (" << format_name(c.format) << ")\n";
  write_field(out, "parameters", with_commas(e.sizes.parameters));
  write_field(out, "architecture", describe(e));
  if (e.architecture) {
    const Architecture& a = *e.architecture;
    bool same = a.parameters_from_formula == e.sizes.parameters;
    write_field(out, "from formula", with_commas(a.parameters_from_formula) +
                                         (same ? " (equals the count)" : " (differs from the count)"));
    write_field(out, "", a.formula);
  }
  std::string setting = std::string(weight_type_name(o.dtype)) + ", batch " + std::to_string(o.batch) +
                        (e.seq ? ", seq " + std::to_string(e.seq) + " (" + e.seq_source + ")" : "");
  std::string section;
  TextTable t;
  t.columns = {"", "value", "formula"};
  t.numeric = {false, true, false};
  auto flush = [&] {
    if (!t.rows.empty()) write_table(out, t, "    ");
    t.rows.clear();
  };
  for (const Line& l : e.lines) {
    if (l.section != section) {
      flush();
      section = l.section;
      std::string title = section;
      if (section == "inference") title += " (" + setting + ")";
      if (section == "training")
        title += std::string(" (") + optimizer_name(o.optimizer) +
                 (o.mixed_precision ? ", mixed precision" : "") +
                 (o.activation_checkpointing ? ", activation checkpointing" : "") + ")";
      if (section == "per gpu") title += " (" + counted(static_cast<uint64_t>(o.gpus), "GPU") + ")";
      if (section == "experts" && e.moe)
        title += " (" + e.moe->experts.naming + " naming, " +
                 (e.moe->top_k ? "top-" + std::to_string(e.moe->top_k) + " from " + e.moe->top_k_source
                               : std::string("experts per token unknown")) + ")";
      out << "\n  " << title << '\n';
    }
    t.rows.push_back({l.name, value_text(l, value_number(l, units)),
                      l.known ? l.formula : ""});
  }
  flush();
  if (e.training.possible) {
    const std::vector<std::string>& missing = e.training.missing;
    out << "\n  per gpu, every strategy (" << counted(static_cast<uint64_t>(o.gpus), "GPU")
        << (missing.empty() ? "" : "; incomplete: " + joined(missing)) << ")\n";
    TextTable s;
    s.columns = {"strategy", "per gpu"};
    s.numeric = {false, true};
    for (const auto& [strategy, v] : e.training.per_gpu_by_strategy)
      s.rows.push_back({strategy_name(strategy), (missing.empty() ? "" : "at least ") + human_bytes(v, units)});
    write_table(out, s, "    ");
  }
  if (!e.notes.empty()) {
    out << "\n  notes\n";
    for (const std::string& n : e.notes) out << "    - " << n << '\n';
  }
}

TextTable estimate_table(const Checkpoint& c, const Estimate& e) {
  TextTable t;
  t.columns = {"file", "section", "name", "value", "unit", "formula"};
  t.numeric = {false, false, false, true, false, false};
  for (const Line& l : e.lines) {
    std::string formula = !l.known ? "unknown: " + l.formula
                          : l.missing.empty() ? l.formula
                                              : "at least; incomplete: " + joined(l.missing) + "; " + l.formula;
    t.rows.push_back({c.path, l.section, l.name, l.known ? std::to_string(l.value) : "", unit_name(l),
                      formula});
  }
  for (const auto& [s, v] : e.training.per_gpu_by_strategy)
    t.rows.push_back({c.path, "per gpu", strategy_name(s), std::to_string(v), "bytes",
                      e.training.missing.empty() ? "" : "at least; incomplete: " + joined(e.training.missing)});
  return t;
}

}  // namespace

void EstimateReport::write_table(std::ostream& out) const {
  for (size_t i = 0; i < files_.size(); ++i) {
    if (i) out << '\n';
    write_estimate_text(out, files_[i].checkpoint, files_[i].estimate, options_, units_);
  }
}

nlohmann::ordered_json EstimateReport::json() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const EstimatedFile& f : files_) out.push_back(estimate_json(f.checkpoint, f.estimate, options_));
  return out;
}

TextTable EstimateReport::rows() const {
  TextTable all;
  for (const EstimatedFile& f : files_) {
    TextTable t = estimate_table(f.checkpoint, f.estimate);
    if (all.columns.empty()) all = std::move(t);
    else for (auto& r : t.rows) all.rows.push_back(std::move(r));
  }
  return all;
}

}  // namespace ptscope
