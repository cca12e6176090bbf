#include "torchscript_code.h"

#include <sstream>
#include <string_view>

namespace ptscope {
namespace {

// The quoted names between the '[' after `from` and the next ']', both on
// the line [from, eol): TorchScript writes `__parameters__ = ["a", "b", ]`
// on one line, and a scan that ran past it would make a record of such
// lines quadratic.
std::set<std::string> quoted_list(const std::string& src, size_t from, size_t eol) {
  std::set<std::string> names;
  std::string_view line(src.data() + from, eol - from);  // every search stops at eol
  size_t open = line.find('[');
  size_t close = open == std::string_view::npos ? open : line.find(']', open);
  if (close == std::string_view::npos) return names;
  size_t p = open;
  while ((p = line.find('"', p + 1)) < close) {
    size_t q = line.find('"', p + 1);
    if (q == std::string_view::npos || q > close) break;
    names.emplace(line.substr(p + 1, q - p - 1));
    p = q;
  }
  return names;
}

}  // namespace

std::string code_module_name(const std::string& rel) {
  const std::string head = "code/", tail = ".py";
  if (rel.size() <= head.size() + tail.size() || rel.compare(0, head.size(), head) != 0 ||
      rel.compare(rel.size() - tail.size(), tail.size(), tail) != 0)
    return "";
  std::string m = rel.substr(head.size(), rel.size() - head.size() - tail.size());
  for (char& c : m)
    if (c == '/') c = '.';
  return m;
}

void parse_class_decls(const std::string& module, const std::string& source,
                       ClassDecls& out) {
  ClassDecl* current = nullptr;
  size_t pos = 0;
  while (pos < source.size()) {
    size_t eol = source.find('\n', pos);
    if (eol == std::string::npos) eol = source.size();
    if (source.compare(pos, 6, "class ") == 0) {
      std::string_view line(source.data() + pos, eol - pos);  // "class " lines too
      size_t name_end = line.find_first_of("(:", 6);
      if (name_end != std::string_view::npos)
        current = &out[module + "." + std::string(line.substr(6, name_end - 6))];
    } else if (current) {
      size_t first = source.find_first_not_of(' ', pos);
      if (first == std::string::npos) break;  // only blanks to the end
      if (first >= eol) first = eol;          // a blank line: nothing to find on it
      if (source.compare(first, 14, "__parameters__") == 0)
        current->parameters = quoted_list(source, first, eol);
      else if (source.compare(first, 11, "__buffers__") == 0)
        current->buffers = quoted_list(source, first, eol);
    }
    pos = eol + 1;
  }
}

}  // namespace ptscope
