// Rows of cells, and the three ways they are written: an aligned table for
// people, CSV and TSV for spreadsheets, and one "name   value" field line.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace ptscope {

// Rows of raw cell text; `numeric` columns are right-aligned and, in the
// table writer, grouped in thousands.
struct TextTable {
  std::vector<std::string> columns;
  std::vector<bool> numeric;
  std::vector<std::vector<std::string>> rows;
};

// Text from a file made safe for a terminal: C0 and C1 control characters
// and DEL (escape sequences, carriage returns, bells) become \xNN, so a
// name in a checkpoint cannot move the cursor, retitle the window or hide
// a line. Every table cell and field value goes through it.
std::string printable(const std::string& text);

void write_table(std::ostream& out, const TextTable& t, const std::string& indent = "");
// One "  name            value" line of a human-readable report.
void write_field(std::ostream& out, const std::string& name, const std::string& value);
void write_delimited(std::ostream& out, const TextTable& t, char sep);

}  // namespace ptscope
