#include <algorithm>
#include <cstdio>
#include <ostream>

#include "display_width.h"
#include "numbers.h"
#include "table.h"

namespace ptscope {

namespace {
bool is_integer(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [&out](unsigned u) {
    char b[8];
    std::snprintf(b, sizeof b, "\\x%02x", u);
    out += b;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u == 0x7f) {
      hex(u);
    } else if (u == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      hex(static_cast<unsigned char>(text[++i]));  // U+0080..U+009F, C1 controls (CSI is U+009B)
    } else {
      out += static_cast<char>(u);
    }
  }
  return out;
}

// Tensor names run to a hundred characters and more in large models; a
// column that wide pushes dtype, shape and bytes off an 80-160 column
// terminal. 60 columns keep a name's module prefix and its leaf, the parts
// that tell names apart, and leave room for the numbers. JSON, CSV and TSV
// keep names whole: programs read those. The last column is never cut:
// nothing follows it to push away, and it holds what must be read whole
// (estimate's formulas).
constexpr size_t kMaxTextColumn = 60;

void write_table(std::ostream& out, const TextTable& t, const std::string& indent) {
  size_t n = t.columns.size();
  auto numeric = [&](size_t col) { return col < t.numeric.size() && t.numeric[col]; };
  auto shown = [&](size_t col, const std::string& raw) {
    std::string cell = printable(raw);
    if (!numeric(col)) return col + 1 < n ? shorten_middle(cell, kMaxTextColumn) : cell;
    return is_integer(cell) ? with_commas(std::stoull(cell)) : cell;
  };
  // Padding by display width, not bytes: a CJK name is half as many
  // columns as bytes, an accented one fewer columns than bytes.
  std::vector<size_t> width(n);
  for (size_t c = 0; c < n; ++c) width[c] = display_width(t.columns[c]);
  for (const auto& row : t.rows)
    for (size_t c = 0; c < n && c < row.size(); ++c)
      width[c] = std::max(width[c], display_width(shown(c, row[c])));
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string s = indent;
    for (size_t c = 0; c < n; ++c) {
      std::string v = c < cells.size() ? (header ? cells[c] : shown(c, cells[c])) : "";
      std::string pad(width[c] - display_width(v), ' ');
      s += numeric(c) ? pad + v : v + (c + 1 < n ? pad : "");
      if (c + 1 < n) s += "  ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  };
  line(t.columns, true);
  for (const auto& row : t.rows) line(row, false);
}

void write_field(std::ostream& out, const std::string& name, const std::string& value) {
  std::string pad(name.size() < 16 ? 16 - name.size() : 1, ' ');
  out << "  " << name << pad << printable(value) << '\n';
}

void write_delimited(std::ostream& out, const TextTable& t, char sep) {
  // Control characters escaped as in tables, so a newline in a name cannot
  // forge a row and an escape sequence reaches no terminal; then CSV quotes
  // a cell only when it must (a comma or a quote), and TSV's tabs are
  // escaped with the rest.
  auto cell = [sep](const std::string& raw) {
    std::string v = printable(raw);
    if (sep == '\t' || v.find_first_of(",\"") == std::string::npos) return v;
    std::string q = "\"";
    for (char ch : v) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) out << (c ? std::string(1, sep) : "") << cell(cells[c]);
    out << '\n';
  };
  line(t.columns);
  for (const auto& row : t.rows) line(row);
}

}  // namespace ptscope
