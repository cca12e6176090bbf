#include "report.h"

namespace ptscope {
namespace {

using json = nlohmann::ordered_json;

json count_json(const std::optional<Count>& c) {
  if (!c) return nullptr;
  return {{"tensors", c->tensors}, {"numel", c->numel}};
}

json what_if(uint64_t params) {
  json out = json::object();
  for (const Precision& p : precisions()) {
    uint64_t b = bytes_at(params, p);
    out[p.name] = {{"bytes", b}, {"gb", static_cast<double>(b) / 1e9},
                   {"gib", static_cast<double>(b) / (1024.0 * 1024 * 1024)}};
  }
  return out;
}

}  // namespace

json inspect_json(const Checkpoint& c, const Summary& s, const InspectOptions& opt) {
  json j;
  j["file"] = c.path;
  j["format"] = format_name(c.format);
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
  json dtypes = json::object();
  for (const auto& [name, d] : s.dtypes)
    dtypes[name] = {{"tensors", d.tensors}, {"numel", d.numel}, {"bytes", d.bytes}};
  j["dtypes"] = dtypes;
  json bm = json::array();
  for (const ByteMapRow& r : byte_map(c)) bm.push_back({{"label", r.label}, {"bytes", r.bytes}});
  j["byte_map"] = bm;
  if (!c.groups.empty()) {
    json groups = json::array();
    for (const GroupSummary& g : s.groups)
      groups.push_back({{"name", g.name}, {"kind", g.kind}, {"tensors", g.all.tensors},
                        {"numel", g.all.numel}, {"bytes", g.all.bytes},
                        {"parameters", count_json(g.parameters)},
                        {"buffers", count_json(g.buffers)}});
    j["groups"] = groups;
  }
  json shared = json::array();
  for (const SharedStorage& sh : s.shared)
    shared.push_back({{"storage", sh.storage}, {"tied", sh.tied}, {"names", sh.names}});
  j["shared"] = shared;
  if (c.format == Format::TorchScript)
    j["constants"] = {{"tensors", s.constants.tensors}, {"numel", s.constants.numel},
                      {"bytes", s.constants.bytes}};
  uint64_t basis = s.parameters ? s.parameters->numel : s.unique_numel;
  j["what_if"] = {{"basis", s.parameters ? "parameters" : "unique_numel"},
                  {"numel", basis}, {"sizes", what_if(basis)}};
  json implied = json::object();
  for (const Precision& p : precisions()) implied[p.name] = params_in(c.file_bytes, p);
  j["implied_parameters"] = implied;
  j["globals"] = c.globals;
  j["metadata"] = c.metadata;

  if (opt.tensors) {
    json entries = json::array();
    for (const Tensor& t : c.tensors) {
      json e = {{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                {"stride", t.stride}, {"numel", t.numel}, {"bytes", t.nbytes()},
                {"role", role_name(t.role)}, {"rule", t.rule},
                {"storage", t.storage >= 0 ? json(c.storages[static_cast<size_t>(t.storage)].key) : json(nullptr)},
                {"storage_offset", t.storage_offset}, {"requires_grad", t.requires_grad}};
      if (!t.group.empty()) e["group"] = t.group;
      entries.push_back(e);
    }
    j["entries"] = entries;
  }
  if (opt.tree) {
    json tree = json::array();
    for (const TreeRow& r : module_tree(c, opt.depth))
      tree.push_back({{"module", r.prefix}, {"depth", r.depth}, {"tensors", r.all.tensors},
                      {"numel", r.all.numel}, {"bytes", r.all.bytes},
                      {"parameters", r.parameter_numel}});
    j["tree"] = tree;
  }
  if (opt.bytes) {
    json ranges = json::array();
    for (const ByteRange& r : byte_ranges(c))
      ranges.push_back({{"offset", r.offset}, {"bytes", r.size}, {"label", std::string(r.label)}});
    j["byte_ranges"] = ranges;
  }
  return j;
}

}  // namespace ptscope
