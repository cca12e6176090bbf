#include "html_page.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "html_assets.h"
#include "ptscope/error.h"

namespace ptscope {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string script_json(const nlohmann::ordered_json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size());
  // Outside strings JSON has none of these characters, so escaping them
  // everywhere changes no value.
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

std::string render_page(const PageData& page) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  // Nothing may be fetched: the policy forbids every source but the page's own inline ones.
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; img-src data:\">\n";
  h += "<title>" + html_escape(page.title) + "</title>\n<style>" + std::string(kPageCss) + "</style></head>\n<body>\n";
  h += "<h1>" + html_escape(page.title) + "</h1>\n<div class=\"top\"><section id=\"summary\"><h2>Summary</h2><table class=\"fields\">\n";
  for (const PageField& f : page.summary) {
    h += "<tr><th>" + html_escape(f.label) + "</th><td";
    if (!f.total.empty()) h += " data-total=\"" + html_escape(f.total) + "\"";
    h += ">" + html_escape(f.value) + "</td></tr>\n";
  }
  h += "</table></section>\n";
  if (!page.side_columns.empty()) {
    h += "<section id=\"side\"><h2>Totals</h2><table class=\"side\"><tr>";
    for (const std::string& c : page.side_columns) h += "<th>" + html_escape(c) + "</th>";
    h += "</tr>\n";
    for (const auto& row : page.side_rows) {
      h += "<tr>";
      for (size_t i = 0; i < row.size(); ++i) h += (i ? "<td class=\"num\">" : "<td>") + html_escape(row[i]) + "</td>";
      h += "</tr>\n";
    }
    h += "</table></section>\n";
  }
  h += "</div>\n<div id=\"sections\"></div>\n";
  h += "<script type=\"application/json\" id=\"data\">" + script_json(page.sections) + "</script>\n";
  h += "<script>" + std::string(kPageJs) + "</script>\n</body></html>\n";
  return h;
}

void write_html_file(const std::string& path, const std::string& html) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << html;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("cannot rename " + tmp + " to " + path);
  }
}

}  // namespace ptscope
