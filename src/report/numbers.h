// Numbers for people: thousands separators, byte sizes in decimal and
// binary units, decimal prefixes for FLOP counts, and nouns that agree
// with their count.
#pragma once

#include <cstdint>
#include <string>

namespace ptscope {

// "1,234,567"
std::string with_commas(uint64_t n);
// "35.08 MFLOPs", "1.814 G": decimal prefixes, as FLOP counts are quoted.
std::string si_prefixed(uint64_t n, const char* unit, int decimals);
// "1.51 GB (1.40 GiB)", or one of the two; "631 B" below 1000 bytes.
enum class Units { Both, Decimal, Binary };
std::string human_bytes(uint64_t n, Units units = Units::Both);
// "1 tensor", "1,024 tensors": English plurals by adding "s".
std::string counted(uint64_t n, const std::string& noun);

}  // namespace ptscope
