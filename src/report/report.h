// Reporters: the same results as an aligned table for people, JSON for
// programs, and CSV/TSV with raw integers for spreadsheets.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptscope/summary.h"
#include "ptscope/checkpoint.h"

namespace ptscope {

enum class OutputFormat { Table, Json, Csv, Tsv };

struct InspectOptions {
  bool tensors = false;  // one row per tensor entry
  bool tree = false;     // numel and bytes per module prefix
  int depth = 2;
  bool bytes = false;    // the byte map, range by range
  OutputFormat format = OutputFormat::Table;
};

// Rows of raw cell text; `numeric` columns are right-aligned and, in the
// table writer, grouped in thousands.
struct TextTable {
  std::vector<std::string> columns;
  std::vector<bool> numeric;
  std::vector<std::vector<std::string>> rows;
};

TextTable summary_table(const std::vector<std::pair<const Checkpoint*, const Summary*>>& files);
TextTable tensors_table(const Checkpoint& c);
TextTable tree_table(const Checkpoint& c, int depth);
TextTable bytes_table(const Checkpoint& c);
TextTable byte_map_table(const Checkpoint& c);

void write_table(std::ostream& out, const TextTable& t, const std::string& indent = "");
// One "  name            value" line of a human-readable report.
void write_field(std::ostream& out, const std::string& name, const std::string& value);
void write_delimited(std::ostream& out, const TextTable& t, char sep);

nlohmann::ordered_json inspect_json(const Checkpoint& c, const Summary& s,
                                    const InspectOptions& opt);
void write_text_report(std::ostream& out, const Checkpoint& c, const Summary& s,
                       const InspectOptions& opt);

// "1,234,567"
std::string with_commas(uint64_t n);
// "35.08 MFLOPs", "1.814 G": decimal prefixes, as FLOP counts are quoted.
std::string si_prefixed(uint64_t n, const char* unit, int decimals);
// "1.51 GB (1.40 GiB)", or one of the two
enum class Units { Both, Decimal, Binary };
std::string human_bytes(uint64_t n, Units units = Units::Both);

}  // namespace ptscope
