// diff's answer for two models: the inspect summary computed for each and
// subtracted (as bloaty's diff mode does), and the tensors paired by name,
// by a consistent prefix change, then by equal data: added, removed,
// renamed, changed (shape, dtype, values) and unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inspection.h"
#include "ptscope/load.h"
#include "value_diff.h"

namespace ptscope {

struct TensorBrief {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;
  uint64_t numel = 0, bytes = 0;
};

// `from` → `to`: one tensor renamed (same data under another name), or a
// prefix changed on `tensors` tensors at once ("module." → "").
struct Rename {
  std::string from, to;
  uint64_t tensors = 1;
  bool prefix = false;
};

struct TensorChange {
  std::string name;                  // B's name
  std::string from;                  // A's name where it was renamed; "" otherwise
  TensorBrief a, b;
  std::optional<ValueDiff> values;   // nullopt under --structure
  bool shape_changed() const { return a.shape != b.shape; }
  bool dtype_changed() const { return a.dtype != b.dtype; }
};

// One figure of the two summaries; nullopt where a side has none.
struct TotalRow {
  std::string label;
  std::optional<uint64_t> a, b;
};

struct Diff {
  std::string a, b;                  // paths as given
  Inspection ia, ib;
  bool values_compared = false;      // false under --structure
  std::vector<TensorBrief> added, removed;
  std::vector<Rename> renamed;       // prefix mappings first, then single tensors
  std::vector<TensorChange> changed;
  std::vector<TensorBrief> unchanged;  // same name, shape, dtype (and values, when compared)
  // Renamed tensors whose values (or, under --structure, shape and dtype) are
  // equal: counted in `renamed`, listed for the HTML table.
  std::vector<TensorChange> renamed_equal;
  // Paired tensors of equal shape and dtype whose values could not be read
  // (name, why): counted unchanged, said so.
  std::vector<std::pair<std::string, std::string>> not_compared;
  std::vector<TotalRow> totals;
  bool same() const { return added.empty() && removed.empty() && renamed.empty() && changed.empty(); }
};

// `values` null: metadata only (--structure). Both models are kept per file
// so that values are read where each tensor lies.
Diff diff_models(const Model& a, const Model& b, ValueOracle* values);

}  // namespace ptscope
