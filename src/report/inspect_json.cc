// inspect for programs: one object per file (README "JSON output").
#include "inspect_report.h"
#include "scan_report.h"
#include "verify_report.h"

namespace ptscope {
namespace {

using json = nlohmann::ordered_json;

// The same shape wherever a count appears: parameters, buffers, dtypes, groups, tree.
json count_json(const Count& c) { return {{"tensors", c.tensors}, {"numel", c.numel}, {"bytes", c.bytes}}; }
json count_json(const std::optional<Count>& c) { return c ? count_json(*c) : json(nullptr); }

json precisions_json(const Summary& s) {
  json sizes = json::object();
  for (const PrecisionSize& p : s.precisions)
    sizes[weight_type_name(p.type)] = {{"bytes", p.bytes}, {"gb", static_cast<double>(p.bytes) / 1e9},
                                       {"gib", static_cast<double>(p.bytes) / (1024.0 * 1024 * 1024)},
                                       {"formula", p.formula}};
  return {{"basis", s.model.from_file_roles ? "parameters" : "floating tensors"},
          {"numel", s.model.parameters}, {"sizes", sizes}};
}

json file_json(const Inspection& in, const InspectViews& views, const std::optional<ScanResult>& safety) {
  const Checkpoint& c = in.checkpoint;
  const Summary& s = in.summary;
  json j;
  j["file"] = c.path;
  j["format"] = format_name(c.format);
  if (safety) {
    size_t weighty = 0;
    for (const Finding& f : safety->findings) weighty += f.severity >= Severity::NeedsCode;
    j["safety"] = safety->error.empty()
                      ? json{{"verdict", verdict_name(safety->verdict)}, {"findings", weighty},
                             {"summary", safety_line(*safety)}}
                      : json{{"verdict", nullptr}, {"error", safety->error}};
  }
  j["file_bytes"] = c.file_bytes;
  j["tensors"] = s.all.tensors;
  j["numel"] = s.all.numel;
  j["unique_numel"] = s.unique_numel;
  j["tensor_bytes"] = s.all.bytes;
  j["storage_bytes"] = s.storage_bytes;
  j["overhead_bytes"] = s.overhead_bytes;
  j["overhead_percent"] = s.overhead_percent;
  j["parameters"] = count_json(s.parameters);
  j["buffers"] = count_json(s.buffers);
  if (s.quantized)
    j["quantized"] = {{"tensors", s.quantized->tensors}, {"numel", s.quantized->numel},
                      {"stored_bytes", s.quantized->stored_bytes},
                      {"bits_per_weight", s.quantized->bits_per_weight}, {"schemes", s.quantized->schemes}};
  if (s.experts) {
    const Experts& x = *s.experts;
    j["experts"] = {{"naming", x.naming},
                    {"moe_layers", x.moe_layers},
                    {"experts", x.experts},
                    {"expert_ffn", x.expert_ffn > 0 ? json(x.expert_ffn) : json(nullptr)},
                    {"expert_parameters", x.expert_parameters},
                    {"one_expert_per_layer_parameters", x.one_expert_per_layer},
                    {"router_parameters", x.router_parameters},
                    {"shared_expert_parameters", x.shared_parameters},
                    {"experts_per_token", in.experts_per_token ? json(in.experts_per_token) : json(nullptr)},
                    {"active_parameters", in.active_parameters ? json(*in.active_parameters) : json(nullptr)}};
  }
  json dtypes = json::object();
  for (const auto& [name, d] : s.dtypes) dtypes[name] = count_json(d);
  j["dtypes"] = dtypes;
  json bm = json::array();
  for (const ByteMapRow& r : in.byte_map) bm.push_back({{"label", r.label}, {"bytes", r.bytes}});
  j["byte_map"] = bm;
  if (!in.parts.empty()) {
    json files = json::array();
    for (const InspectedPart& p : in.parts)
      files.push_back({{"file", p.path}, {"tensors", p.all.tensors}, {"numel", p.all.numel},
                       {"tensor_bytes", p.all.bytes}, {"storage_bytes", p.storage_bytes},
                       {"file_bytes", p.file_bytes}, {"overhead_bytes", p.overhead_bytes},
                       {"overhead_percent", p.overhead_percent}});
    j["files"] = files;
  }
  if (in.deepspeed) {
    const DeepSpeedCheckpoint& d = *in.deepspeed;
    auto opt = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
    json ranks = json::array();
    for (const DeepSpeedRank& r : d.ranks)
      ranks.push_back({{"rank", r.rank}, {"file", r.file}, {"fp32_numel", r.fp32_numel},
                       {"optimizer_numel", r.optimizer_numel}, {"padding", r.padding}});
    j["deepspeed"] = {{"folder", d.folder}, {"tag", d.tag.empty() ? json(nullptr) : json(d.tag)},
                      {"zero_stage", opt(d.zero_stage)}, {"dp_world_size", opt(d.dp_world_size)},
                      {"partition_count", opt(d.partition_count)}, {"mp_world_size", opt(d.mp_world_size)},
                      {"global_steps", opt(d.global_steps)},
                      {"ds_version", d.ds_version.empty() ? json(nullptr) : json(d.ds_version)},
                      {"params_from", d.params_from}, {"padding", d.padding}, {"ranks", ranks},
                      {"problems", d.problems}};
  }
  if (in.index)
    j["index"] = {{"file", in.index->file.empty() ? json(nullptr) : json(in.index->file)},
                  {"checked", in.index->checked}, {"problems", in.index->problems}};
  if (in.config) {
    const ModelConfig& mc = *in.config;
    json cj = {{"file", mc.file}};
    auto put = [&](const char* k, const auto& v) {
      if (v) cj[k] = *v;
    };
    put("model_type", mc.model_type);
    put("torch_dtype", mc.torch_dtype);
    put("hidden_size", mc.hidden_size);
    put("num_attention_heads", mc.num_attention_heads);
    put("num_key_value_heads", mc.num_key_value_heads);
    put("head_dim", mc.head_dim);
    put("intermediate_size", mc.intermediate_size);
    put("num_hidden_layers", mc.num_hidden_layers);
    put("vocab_size", mc.vocab_size);
    put("max_position_embeddings", mc.max_position_embeddings);
    put("tie_word_embeddings", mc.tie_word_embeddings);
    put("sliding_window", mc.sliding_window);
    put("num_experts", mc.num_experts);
    put("num_experts_per_tok", mc.num_experts_per_tok);
    put("moe_intermediate_size", mc.moe_intermediate_size);
    if (mc.quant_method || mc.bits) {
      json q = json::object();
      if (mc.quant_method) q["quant_method"] = *mc.quant_method;
      if (mc.bits) q["bits"] = *mc.bits;
      cj["quantization_config"] = q;
    }
    j["config"] = cj;
  }
  if (!c.groups.empty()) {
    json groups = json::array();
    for (const GroupSummary& g : s.groups) {
      json e = {{"name", g.name}, {"kind", g.kind}};
      e.update(count_json(g.all));
      e["parameters"] = count_json(g.parameters);
      e["buffers"] = count_json(g.buffers);
      groups.push_back(e);
    }
    j["groups"] = groups;
  }
  json shared = json::array();
  for (const SharedStorage& sh : s.shared)
    shared.push_back({{"storage", sh.storage}, {"tied", sh.tied}, {"names", sh.names}});
  j["shared"] = shared;
  if (c.format == Format::TorchScript) j["constants"] = count_json(s.constants);
  j["what_if"] = precisions_json(s);
  json implied = json::object();
  for (const PrecisionSize& p : s.precisions) implied[weight_type_name(p.type)] = p.file_holds;
  j["implied_parameters"] = implied;
  j["globals"] = c.globals;
  j["metadata"] = c.metadata;

  if (views.tensors) {
    json entries = json::array();
    for (const Tensor& t : c.tensors) {
      json e = {{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                {"stride", t.stride}, {"numel", t.numel}, {"bytes", t.nbytes()},
                {"role", role_name(t.role)}, {"rule", t.rule},
                {"storage", t.storage >= 0 ? json(c.storages[static_cast<size_t>(t.storage)].key) : json(nullptr)},
                {"storage_offset", t.storage_offset}, {"requires_grad", t.requires_grad}};
      if (!t.group.empty()) e["group"] = t.group;
      if (t.layout != Layout::Strided) {  // absent: strided
        e["layout"] = layout_name(t.layout);
        e["nnz"] = t.nnz;
      }
      entries.push_back(e);
    }
    j["entries"] = entries;
  }
  if (views.tree) {
    json tree = json::array();
    for (const TreeRow& r : in.tree) {
      json e = {{"module", r.prefix}, {"depth", r.depth}};
      e.update(count_json(r.all));
      e["parameters"] = count_json(r.parameters);
      tree.push_back(e);
    }
    j["tree"] = tree;
  }
  if (views.bytes) {
    json ranges = json::array();
    for (const ByteRange& r : in.ranges)
      ranges.push_back({{"offset", r.offset}, {"bytes", r.size}, {"label", std::string(r.label)}});
    for (const InspectedPart& p : in.parts)  // a folder: offsets within each file
      for (const ByteRange& r : p.ranges)
        ranges.push_back({{"file", p.path}, {"offset", r.offset}, {"bytes", r.size}, {"label", std::string(r.label)}});
    j["byte_ranges"] = ranges;
  }
  return j;
}

}  // namespace

json InspectReport::json() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const InspectedFile& f : files_) {
    if (!f.inspection) {
      out.push_back({{"file", f.path}, {"error", f.error}});
      continue;
    }
    out.push_back(file_json(*f.inspection, views_, f.safety));
    if (f.verify) out.back()["verify"] = verify_json(*f.verify);
  }
  return out;
}

}  // namespace ptscope
