// Reporters are the last stage: each command computes one result value,
// and a Report formats it for people (table), programs (JSON) and
// spreadsheets (CSV/TSV). write_report is the one place that chooses.
//
// Every command's JSON is an array with one object per file, whatever the
// number of files; a file that could not be read is {"file", "error"} in its
// place. Every CSV/TSV row starts with the file.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>

#include "table.h"

namespace ptscope {

enum class OutputFormat { Table, Json, Csv, Tsv };

class Report {
 public:
  virtual ~Report() = default;
  virtual void write_table(std::ostream& out) const = 0;
  virtual nlohmann::ordered_json json() const = 0;  // the array
  virtual TextTable rows() const = 0;               // the CSV/TSV table, file column first
};

void write_report(std::ostream& out, const Report& r, OutputFormat f);

}  // namespace ptscope
