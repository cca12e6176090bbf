// The page's stylesheet and script, inline in every HTML report
// (html_page.h). Hand-written, no library: a squarified treemap (Bruls,
// Huizing and van Wijk 2000), bars, and a sortable, filterable table.
#pragma once

namespace ptscope {

extern const char* const kPageCss;
extern const char* const kPageJs;

}  // namespace ptscope
