#include <cstdio>

#include "reader.h"

#include "ptscope/error.h"
#include "quant_layouts.h"
#include "roles.h"

namespace ptscope {
namespace {

// Messages quote names and keys from the file: escape control characters so
// that an error stays one line.
std::string one_line(const std::string& s) {
  std::string out;
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

}  // namespace

Checkpoint read_checkpoint(const ByteSource& src, const std::string& path, const RootVisitor& visit) {
  static const std::unique_ptr<Reader> readers[] = {
      make_zip_reader(), make_safetensors_reader(), make_legacy_reader()};
  try {
    for (const auto& r : readers) {
      if (!r->accepts(src)) continue;
      Checkpoint c = r->read(src, visit);
      c.path = path;
      c.file_bytes = src.size();
      classify_roles(c);
      recognise_quant_layouts(c, src);
      return c;
    }
  } catch (const Error& e) {
    throw Error(one_line(e.message()), e.offset()).in_file(path);
  } catch (const std::exception& e) {  // a library below us; still one line, still named
    throw Error(one_line(std::string("unexpected failure: ") + e.what())).in_file(path);
  }
  throw Error("no reader accepts this file").in_file(path);
}

}  // namespace ptscope
