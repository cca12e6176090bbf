// How many terminal columns text takes, for aligning tables and fitting
// progress lines: UTF-8 decoded, East Asian wide and fullwidth characters
// two columns, combining marks none.
#pragma once

#include <cstddef>
#include <string>

namespace ptscope {

// Columns `s` takes in a terminal. Bytes that are not valid UTF-8 count one
// column each, as most terminals draw a replacement character.
size_t display_width(const std::string& s);

// `s` itself when it fits in `max` columns; otherwise its start and end
// with "…" between, together at most `max` columns. Never splits a
// character from its combining marks.
std::string shorten_middle(const std::string& s, size_t max);

}  // namespace ptscope
