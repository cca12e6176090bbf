#include "torchscript_code.h"

#include <sstream>

namespace ptscope {
namespace {

// The quoted names between the '[' after `key` and the next ']'.
std::set<std::string> quoted_list(const std::string& src, size_t from) {
  std::set<std::string> names;
  size_t open = src.find('[', from);
  size_t close = src.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return names;
  size_t p = open;
  while ((p = src.find('"', p + 1)) < close) {
    size_t q = src.find('"', p + 1);
    if (q == std::string::npos || q > close) break;
    names.insert(src.substr(p + 1, q - p - 1));
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
      size_t name_end = source.find_first_of("(:", pos + 6);
      if (name_end != std::string::npos && name_end < eol)
        current = &out[module + "." + source.substr(pos + 6, name_end - pos - 6)];
    } else if (current) {
      size_t first = source.find_first_not_of(' ', pos);
      if (first == std::string::npos) break;  // only blanks to the end
      if (source.compare(first, 14, "__parameters__") == 0)
        current->parameters = quoted_list(source, first);
      else if (source.compare(first, 11, "__buffers__") == 0)
        current->buffers = quoted_list(source, first);
    }
    pos = eol + 1;
  }
}

}  // namespace ptscope
