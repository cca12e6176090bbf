// The estimate as a report: an aligned table with each figure's formula,
// JSON with plain integers, and CSV/TSV rows (section, name, value, unit,
// formula).
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>

#include "ptscope/estimate.h"
#include "report.h"

namespace ptscope {

nlohmann::ordered_json estimate_json(const Checkpoint& c, const Estimate& e, const EstimateOptions& o);
void write_estimate_text(std::ostream& out, const Checkpoint& c, const Estimate& e, const EstimateOptions& o,
                         Units units);
TextTable estimate_table(const Checkpoint& c, const Estimate& e);

}  // namespace ptscope
