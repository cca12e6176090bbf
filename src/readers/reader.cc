#include <cstdio>

#include "reader.h"

#include "one_line.h"
#include "ptscope/error.h"
#include "quant_layouts.h"
#include "roles.h"

namespace ptscope {

Checkpoint read_checkpoint(const ByteSource& src, const std::string& path, const RootVisitor& visit,
                           ZipShare* share) {
  static const std::unique_ptr<Reader> readers[] = {
      make_zip_reader(), make_safetensors_reader(), make_legacy_reader()};
  try {
    for (const auto& r : readers) {
      if (!r->accepts(src)) continue;
      Checkpoint c = r->read(src, visit, share);
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
