#include "numbers.h"

#include <cstdio>

namespace ptscope {

std::string with_commas(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string human_bytes(uint64_t n, Units units) {
  static const char* dec[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  static const char* bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  auto scale = [n](double base, const char* const* names) {
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= base && u < 5) {
      v /= base;
      ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", v, names[u]);
    return std::string(buf);
  };
  if (units == Units::Decimal) return scale(1000, dec);
  if (units == Units::Binary) return scale(1024, bin);
  if (n < 1000) return std::to_string(n) + " B";
  return scale(1000, dec) + " (" + scale(1024, bin) + ")";
}

std::string si_prefixed(uint64_t n, const char* unit, int decimals) {
  static const char* kPrefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  double v = static_cast<double>(n);
  int p = 0;
  while (v >= 1000 && p < 6) {
    v /= 1000;
    ++p;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f %s%s", p ? decimals : 0, v, kPrefixes[p], unit);
  std::string s = buf;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string counted(uint64_t n, const std::string& noun) {
  return with_commas(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace ptscope
