// The estimate, formatted: an aligned table with each figure's formula,
// JSON with plain integers, and CSV/TSV rows (file, section, name, value,
// unit, formula).
#pragma once

#include "numbers.h"
#include "ptscope/estimate.h"
#include "report.h"

namespace ptscope {

struct EstimatedFile {
  Checkpoint checkpoint;
  Estimate estimate;
};

class EstimateReport : public Report {
 public:
  // `units` applies to the table only; JSON and CSV carry plain bytes.
  EstimateReport(const std::vector<EstimatedFile>& files, const EstimateOptions& options, Units units)
      : files_(files), options_(options), units_(units) {}
  void write_table(std::ostream& out) const override;
  nlohmann::ordered_json json() const override;
  TextTable rows() const override;

 private:
  const std::vector<EstimatedFile>& files_;
  EstimateOptions options_;
  Units units_;
};

}  // namespace ptscope
