#include "inspect_rows.h"

#include <algorithm>
#include <cstdio>

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

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

TextTable summary_table(const std::vector<const Inspection*>& files) {
  TextTable t{{"file", "format", "file_bytes", "tensors", "numel", "unique_numel",
               "tensor_bytes", "storage_bytes", "overhead_bytes", "parameters",
               "parameter_tensors", "buffers", "buffer_tensors"},
              {false, false, true, true, true, true, true, true, true, true, true, true, true},
              {}};
  for (const Inspection* in : files) {
    const Checkpoint& c = in->checkpoint;
    const Summary& s = in->summary;
    t.rows.push_back({c.path, format_name(c.format), std::to_string(c.file_bytes),
                      std::to_string(s.all.tensors), std::to_string(s.all.numel),
                      std::to_string(s.unique_numel), std::to_string(s.all.bytes),
                      std::to_string(s.storage_bytes), std::to_string(s.overhead_bytes),
                      optional_count(s.parameters, true), optional_count(s.parameters, false),
                      optional_count(s.buffers, true), optional_count(s.buffers, false)});
  }
  return t;
}

TextTable tensors_table(const Inspection& in) {
  const Checkpoint& c = in.checkpoint;
  TextTable t{{"name", "dtype", "shape", "numel", "bytes", "role", "rule", "storage",
               "storage_offset"},
              {false, false, false, true, true, false, false, false, true},
              {}};
  for (const Tensor& x : c.tensors)
    t.rows.push_back({x.name, dtype_name(x.dtype), dims(x.shape), std::to_string(x.numel),
                      std::to_string(x.nbytes()), role_name(x.role), x.rule,
                      x.storage >= 0 ? c.storages[static_cast<size_t>(x.storage)].key : "",
                      std::to_string(x.storage_offset)});
  // Layout and nnz columns only for files with sparse tensors, so the
  // table of every other file stays as it was.
  bool sparse = false;
  for (const Tensor& x : c.tensors) sparse = sparse || x.layout != Layout::Strided;
  if (!sparse) return t;
  t.columns.insert(t.columns.begin() + 3, {"layout", "nnz"});
  t.numeric.insert(t.numeric.begin() + 3, {false, true});
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const Tensor& x = c.tensors[i];
    bool strided = x.layout == Layout::Strided;
    t.rows[i].insert(t.rows[i].begin() + 3,
                     {layout_name(x.layout), strided ? "" : std::to_string(x.nnz)});
  }
  return t;
}

TextTable tree_table(const Inspection& in) {
  TextTable t{{"module", "depth", "tensors", "numel", "bytes", "parameters"},
              {false, true, true, true, true, true},
              {}};
  for (const TreeRow& r : in.tree)
    t.rows.push_back({r.prefix, std::to_string(r.depth), std::to_string(r.all.tensors),
                      std::to_string(r.all.numel), std::to_string(r.all.bytes),
                      std::to_string(r.parameters.numel)});
  return t;
}

TextTable bytes_table(const Inspection& in) {
  if (in.parts.empty()) {
    TextTable t{{"offset", "bytes", "label"}, {true, true, false}, {}};
    for (const ByteRange& r : in.ranges)
      t.rows.push_back({std::to_string(r.offset), std::to_string(r.size), std::string(r.label)});
    return t;
  }
  // A folder's offsets are per file: say which.
  TextTable t{{"shard", "offset", "bytes", "label"}, {false, true, true, false}, {}};
  for (const InspectedPart& p : in.parts)
    for (const ByteRange& r : p.ranges)
      t.rows.push_back({base_name(p.path), std::to_string(r.offset), std::to_string(r.size), std::string(r.label)});
  return t;
}

TextTable parts_table(const Inspection& in) {
  TextTable t{{"file", "tensors", "numel", "bytes", "file size", "overhead", "percent"},
              {false, true, true, true, true, true, true},
              {}};
  for (const InspectedPart& p : in.parts)
    t.rows.push_back({base_name(p.path), std::to_string(p.all.tensors), std::to_string(p.all.numel),
                      std::to_string(p.all.bytes), std::to_string(p.file_bytes),
                      std::to_string(p.overhead_bytes), percent(static_cast<uint64_t>(std::max<int64_t>(p.overhead_bytes, 0)), p.file_bytes)});
  return t;
}

TextTable byte_map_table(const Inspection& in) {
  TextTable t{{"label", "bytes", "percent"}, {false, true, true}, {}};
  for (const ByteMapRow& r : in.byte_map)
    t.rows.push_back({r.label, std::to_string(r.bytes), percent(r.bytes, in.checkpoint.file_bytes)});
  return t;
}

// CSV and TSV carry one table with the file in its first column: the
// summary, or the one view asked for.
TextTable InspectReport::rows() const {
  std::vector<const Inspection*> ok;
  for (const InspectedFile& f : files_)
    if (f.inspection) ok.push_back(&*f.inspection);
  if (!views_.any()) return summary_table(ok);
  TextTable all;
  for (const Inspection* in : ok) {
    TextTable t = views_.tensors ? tensors_table(*in) : views_.tree ? tree_table(*in) : bytes_table(*in);
    if (all.columns.empty()) {
      all.columns = t.columns;
      all.columns.insert(all.columns.begin(), "file");
      all.numeric = t.numeric;
      all.numeric.insert(all.numeric.begin(), false);
    }
    for (auto& row : t.rows) {
      row.insert(row.begin(), in->checkpoint.path);
      all.rows.push_back(std::move(row));
    }
  }
  return all;
}

}  // namespace ptscope
