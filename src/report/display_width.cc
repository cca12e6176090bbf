#include "display_width.h"

#include <cstdint>
#include <vector>

namespace ptscope {
namespace {

struct Range {
  uint32_t first, last;
};

bool in(const Range* begin, const Range* end, uint32_t cp) {
  for (const Range* r = begin; r != end; ++r)
    if (cp >= r->first && cp <= r->last) return true;
  return false;
}

// Width 2: the W and F blocks of Unicode's EastAsianWidth.txt (UAX #11),
// merged into the ranges that matter for names: Hangul Jamo, CJK symbols,
// kana, ideographs, Hangul syllables, fullwidth forms and emoji.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},  {0x25FD, 0x25FE},
    {0x2614, 0x2615},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},  {0x4E00, 0x9FFF},
    {0xA000, 0xA4CF},   {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},  {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x18CFF}, {0x1B000, 0x1B2FF},
    {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
    {0x30000, 0x3FFFD},
};

// Width 0: combining marks (general categories Mn and Me) in the common
// blocks, zero-width spaces and joiners, variation selectors.
constexpr Range kZero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
    {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0x302A, 0x302F}, {0x3099, 0x309A}, {0xFE00, 0xFE0F},
    {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF},
};

int width_of(uint32_t cp) {
  if (cp < 0x300) return 1;  // below every range: the common case, decided at once
  if (in(std::begin(kZero), std::end(kZero), cp)) return 0;
  if (in(std::begin(kWide), std::end(kWide), cp)) return 2;
  return 1;
}

// Decodes one code point at s[i]; returns its length in bytes (1 for a byte
// that does not start a valid sequence, which then stands for itself).
size_t decode(const std::string& s, size_t i, uint32_t& cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    cp = c;
    return 1;
  }
  cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) {
      cp = c;
      return 1;
    }
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  return n;
}

// A character with its combining marks: what must not be split.
struct Cluster {
  size_t begin, end, width;
};

std::vector<Cluster> clusters(const std::string& s) {
  std::vector<Cluster> out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t n = decode(s, i, cp);
    int w = width_of(cp);
    if (w == 0 && !out.empty()) {
      out.back().end = i + n;
    } else {
      out.push_back({i, i + n, static_cast<size_t>(w)});
    }
    i += n;
  }
  return out;
}

}  // namespace

size_t display_width(const std::string& s) {
  // Tables of 100,000 names measure each cell twice: plain ASCII needs no
  // clusters (printable() has escaped its control bytes already).
  bool ascii = true;
  for (char ch : s) ascii = ascii && static_cast<unsigned char>(ch) < 0x80;
  if (ascii) return s.size();
  size_t w = 0;
  for (const Cluster& c : clusters(s)) w += c.width;
  return w;
}

std::string shorten_middle(const std::string& s, size_t max) {
  std::vector<Cluster> cs = clusters(s);
  size_t total = 0;
  for (const Cluster& c : cs) total += c.width;
  if (total <= max) return s;
  if (max == 0) return "";
  size_t tail_budget = (max - 1) / 2, head_budget = max - 1 - tail_budget;
  size_t head = 0, head_w = 0;
  while (head < cs.size() && head_w + cs[head].width <= head_budget) head_w += cs[head++].width;
  size_t tail = cs.size(), tail_w = 0;
  while (tail > head && tail_w + cs[tail - 1].width <= tail_budget) tail_w += cs[--tail].width;
  std::string out = s.substr(0, head ? cs[head - 1].end : 0) + "\u2026";
  if (tail < cs.size()) out += s.substr(cs[tail].begin);
  return out;
}

}  // namespace ptscope
