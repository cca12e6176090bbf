// diff's result, formatted: the pairing (added, removed, renamed, changed)
// and the two summaries side by side with their deltas; as JSON one object
// (README "Output schema"); as CSV/TSV one row per tensor that differs.
#pragma once

#include <string>

#include "diff.h"
#include "report.h"

namespace ptscope {

// "values equal", "max |d| 0.0123, rel L2 0.00456, 25.00% of 32 changed",
// "values within float16 rounding (...)" (`b` the second tensor's dtype),
// "not compared: a deflated zip record".
std::string describe_values(const ValueDiff& v, DType b);
std::string shape_text(const std::vector<int64_t>& shape);  // "[4, 8]"

class DiffReport : public Report {
 public:
  explicit DiffReport(const Diff& d) : d_(d) {}
  void write_table(std::ostream& out) const override;
  nlohmann::ordered_json json() const override;
  TextTable rows() const override;

 private:
  const Diff& d_;
};

}  // namespace ptscope
