// The tables behind --tensors, --tree, --bytes and the one-row-per-file
// summary. Cells are raw: integers without separators, so CSV stays
// machine-readable and the table writer formats them for people.
#include <cstdio>

#include "report.h"

namespace ptscope {
namespace {

std::string dims(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string optional_count(const std::optional<Count>& c, bool numel) {
  if (!c) return "";
  return std::to_string(numel ? c->numel : c->tensors);
}

std::string percent(uint64_t part, uint64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

}  // namespace

TextTable summary_table(const std::vector<std::pair<const Checkpoint*, const Summary*>>& files) {
  TextTable t{{"file", "format", "file_bytes", "tensors", "numel", "unique_numel",
               "tensor_bytes", "storage_bytes", "overhead_bytes", "parameters",
               "parameter_tensors", "buffers", "buffer_tensors"},
              {false, false, true, true, true, true, true, true, true, true, true, true, true},
              {}};
  for (const auto& [c, s] : files)
    t.rows.push_back({c->path, format_name(c->format), std::to_string(c->file_bytes),
                      std::to_string(s->all.tensors), std::to_string(s->all.numel),
                      std::to_string(s->unique_numel), std::to_string(s->all.bytes),
                      std::to_string(s->storage_bytes), std::to_string(s->overhead_bytes),
                      optional_count(s->parameters, true), optional_count(s->parameters, false),
                      optional_count(s->buffers, true), optional_count(s->buffers, false)});
  return t;
}

TextTable tensors_table(const Checkpoint& c) {
  TextTable t{{"name", "dtype", "shape", "numel", "bytes", "role", "rule", "storage",
               "storage_offset"},
              {false, false, false, true, true, false, false, false, true},
              {}};
  for (const Tensor& x : c.tensors)
    t.rows.push_back({x.name, dtype_name(x.dtype), dims(x.shape), std::to_string(x.numel),
                      std::to_string(x.nbytes()), role_name(x.role), x.rule,
                      x.storage >= 0 ? c.storages[static_cast<size_t>(x.storage)].key : "",
                      std::to_string(x.storage_offset)});
  return t;
}

TextTable tree_table(const Checkpoint& c, int depth) {
  TextTable t{{"module", "depth", "tensors", "numel", "bytes", "parameters"},
              {false, true, true, true, true, true},
              {}};
  for (const TreeRow& r : module_tree(c, depth))
    t.rows.push_back({r.prefix, std::to_string(r.depth), std::to_string(r.all.tensors),
                      std::to_string(r.all.numel), std::to_string(r.all.bytes),
                      std::to_string(r.parameter_numel)});
  return t;
}

TextTable bytes_table(const Checkpoint& c) {
  TextTable t{{"offset", "bytes", "label"}, {true, true, false}, {}};
  for (const ByteRange& r : byte_ranges(c))
    t.rows.push_back({std::to_string(r.offset), std::to_string(r.size), std::string(r.label)});
  return t;
}

TextTable byte_map_table(const Checkpoint& c) {
  TextTable t{{"label", "bytes", "percent"}, {false, true, true}, {}};
  for (const ByteMapRow& r : byte_map(c))
    t.rows.push_back({r.label, std::to_string(r.bytes), percent(r.bytes, c.file_bytes)});
  return t;
}

}  // namespace ptscope
