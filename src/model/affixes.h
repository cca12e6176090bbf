// Whether a name starts or ends with a piece: tensor, record, file and
// global names are matched this way throughout.
#pragma once

#include <string_view>

namespace ptscope {

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace ptscope
