// Names and keys from a file quoted in a message: C0 control characters and
// DEL become \xNN, so that an error or a finding stays one line and cannot
// drive a terminal. (Reporters escape again, C1 included: report/table.h.)
#pragma once

#include <cstdio>
#include <string>

namespace ptscope {

inline std::string one_line(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace ptscope
