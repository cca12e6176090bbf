// ptscope scan's result: per file its format, verdict, the pickles read and
// the findings, as a table, JSON or one CSV row per finding.
#pragma once

#include <vector>

#include "ptscope/scan.h"
#include "report.h"

namespace ptscope {

class ScanReport : public Report {
 public:
  explicit ScanReport(const std::vector<ScanResult>& files) : files_(files) {}
  void write_table(std::ostream& out) const override;
  nlohmann::ordered_json json() const override;
  TextTable rows() const override;

 private:
  const std::vector<ScanResult>& files_;
};

// inspect's one summary line: "dangerous: os.system (REDUCE at byte 97); ptscope scan for all 3 findings".
std::string safety_line(const ScanResult& r);

}  // namespace ptscope
