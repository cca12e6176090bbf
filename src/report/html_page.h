// One self-contained HTML page per report (--html FILE): inline CSS, JS and
// SVG, nothing fetched when viewed. A command's HTML writer fills a
// PageData; html_page renders the summary as HTML and hands the rest to the
// page's script as JSON, which draws the treemap, the byte bar, the dtype
// bars, the stacked bars and the tensor table with textContent only.
//
// Names come from untrusted files: text goes out through html_escape, and
// the JSON through script_json, which escapes <, > and & so that no name
// can close the <script> element or open a comment.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptscope {

struct PageField {
  std::string label, value;
  std::string total;  // data-total key the test reads from the DOM; "" for none
};

struct PageData {
  std::string title;
  std::vector<PageField> summary;
  // A table beside the summary (diff: figure, a, b, delta); none when empty.
  std::vector<std::string> side_columns;
  std::vector<std::vector<std::string>> side_rows;
  // Sections drawn by the script; each is skipped where absent (null):
  //   treemap: [{name, numel, status?}] (tensors, split into modules at dots)
  //   bytemap: [{label, bytes}]
  //   dtypes:  [{dtype, numel, bytes}]
  //   stacks:  {unit, series: [names], bars: [{label, values: [..]}]}
  //   table:   {columns: [{name, numeric}], rows: [[..]], status_column: index or -1}
  nlohmann::ordered_json sections = nlohmann::ordered_json::object();
};

std::string html_escape(const std::string& text);
// JSON safe inside <script type="application/json">; invalid UTF-8 replaced.
std::string script_json(const nlohmann::ordered_json& j);
std::string render_page(const PageData& page);

// Writes `html` to `path` through a temporary file beside it and a rename,
// so a reader never sees half a page. Throws Error naming the file.
void write_html_file(const std::string& path, const std::string& html);

}  // namespace ptscope
