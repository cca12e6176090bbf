#include "report.h"

#include <ostream>

namespace ptscope {

void write_report(std::ostream& out, const Report& r, OutputFormat f) {
  switch (f) {
    case OutputFormat::Table: r.write_table(out); break;
    case OutputFormat::Json:
      // Names from a file need not be UTF-8: replace them, never fail.
      out << r.json().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
      break;
    case OutputFormat::Csv: write_delimited(out, r.rows(), ','); break;
    case OutputFormat::Tsv: write_delimited(out, r.rows(), '\t'); break;
  }
}

}  // namespace ptscope
