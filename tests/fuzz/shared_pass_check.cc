#include "shared_pass_check.h"

#include <sstream>

#include "byte_source.h"
#include "ptscope/error.h"
#include "ptscope/scan.h"
#include "reader.h"
#include "scan_source.h"
#include "zip_share.h"

namespace ptscope::fuzz {
namespace {

// Every field, one line per finding, tensor, storage and region.
std::string scan_text(const ScanResult& r) {
  std::ostringstream o;
  o << r.path << '|' << r.format << '|' << verdict_name(r.verdict) << '|' << r.error << '\n';
  for (const std::string& p : r.pickles) o << "pickle " << p << '\n';
  for (const Finding& f : r.findings)
    o << severity_name(f.severity) << '|' << f.kind << '|' << f.global << '|' << f.record << '|'
      << (f.offset ? std::to_string(*f.offset) : "-") << '|'
      << (f.record_offset ? std::to_string(*f.record_offset) : "-") << '|' << f.detail << '|' << f.count
      << '\n';
  return o.str();
}

void tensor_text(std::ostream& o, const Tensor& t) {
  o << t.name << '|' << t.group << '|' << dtype_name(t.dtype) << '|';
  for (int64_t d : t.shape) o << d << ',';
  o << '|';
  for (int64_t d : t.stride) o << d << ',';
  o << '|' << t.storage_offset << '|' << t.storage << '|' << t.numel << '|' << t.requires_grad
    << t.parameter_object << t.declared << '|' << role_name(t.role) << '|' << t.rule << '|'
    << t.pickle_offset << '|' << layout_name(t.layout) << '|' << t.nnz << '\n';
  for (const Tensor& p : t.parts) {
    o << "  part ";
    tensor_text(o, p);
  }
}

std::string checkpoint_text(const Checkpoint& c) {
  std::ostringstream o;
  o << c.path << '|' << format_name(c.format) << '|' << c.file_bytes << '|' << c.roles_known << '\n';
  for (const Storage& s : c.storages)
    o << "storage " << s.key << '|' << dtype_name(s.dtype) << '|' << s.nbytes << '|'
      << (s.file_offset ? std::to_string(*s.file_offset) : "-") << '|' << s.location << '\n';
  for (const Tensor& t : c.tensors) tensor_text(o << "tensor ", t);
  for (const Tensor& t : c.constants) tensor_text(o << "constant ", t);
  for (const Region& r : c.regions)
    o << "region " << r.offset << '|' << r.size << '|' << r.label << '|' << r.storage << '\n';
  for (const LogicalTensor& l : c.logical) {
    tensor_text(o << "logical " << l.scheme << '|' << l.bits << '|' << l.stored_bytes << '|', l.tensor);
    for (int i : l.stored) o << i << ',';
    o << '\n';
  }
  for (const Group& g : c.groups) o << "group " << g.name << '|' << g.kind << '\n';
  for (const std::string& g : c.globals) o << "global " << g << '\n';
  for (const auto& [k, v] : c.metadata) o << "metadata " << k << '=' << v << '\n';
  return o.str();
}

std::string read_text(const ByteSource& src, const std::string& path, ZipShare* share) {
  try {
    return checkpoint_text(read_checkpoint(src, path, RootVisitor{}, share));
  } catch (const Error& e) {
    return "error: " + e.describe();
  }
}

std::string first_difference(const std::string& what, const std::string& apart,
                             const std::string& shared) {
  if (apart == shared) return "";
  size_t i = 0;
  while (i < apart.size() && i < shared.size() && apart[i] == shared[i]) ++i;
  size_t line = apart.rfind('\n', i == 0 ? 0 : i - 1);
  line = line == std::string::npos ? 0 : line + 1;
  return what + " differs: apart \"" + apart.substr(line, 200) + "\", shared \"" +
         shared.substr(line, 200) + "\"";
}

}  // namespace

std::string shared_pass_difference(const std::string& path) {
  std::unique_ptr<ByteSource> src;
  try {
    src = open_file(path);
  } catch (const Error&) {
    return "";  // nothing is shared: load_model_scanned runs the two apart
  }
  ZipShare share;
  std::string scanned = scan_text(scan_source(*src, path, ScanOptions{}, &share));
  std::string difference = first_difference("scan", scan_text(scan_file(path)), scanned);
  if (difference.empty())
    difference = first_difference("read", read_text(*src, path, nullptr), read_text(*src, path, &share));
  return difference;
}

}  // namespace ptscope::fuzz
