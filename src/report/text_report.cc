// The human-readable report: a short summary block per file, then whichever
// of --tensors, --tree and --bytes were asked for.
#include <cstdio>
#include <ostream>

#include "report.h"

namespace ptscope {
namespace {

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v);
  return buf;
}

std::string count_line(const Count& c) {
  return with_commas(c.numel) + " numel in " + with_commas(c.tensors) + " tensors, " +
         human_bytes(c.bytes);
}

}  // namespace

void write_text_report(std::ostream& out, const Checkpoint& c, const Summary& s,
                       const InspectOptions& opt) {
  out << c.path << '\n';
  write_field(out, "format", format_name(c.format));
  write_field(out, "file size", with_commas(c.file_bytes) + " B  " + human_bytes(c.file_bytes));
  write_field(out, "entries", count_line(s.all));
  if (s.unique_numel != s.all.numel)
    write_field(out, "unique numel", with_commas(s.unique_numel) + " (shared views counted once; " +
                                   with_commas(s.all.numel - s.unique_numel) + " counted twice above)");
  if (s.parameters) {
    write_field(out, "parameters", count_line(*s.parameters));
    write_field(out, "buffers", count_line(*s.buffers));
  } else {
    write_field(out, "parameters", "unknown (not a model state: no module or state_dict found)");
  }
  for (const GroupSummary& g : s.groups) {
    std::string v = g.kind + ": " + count_line(g.all);
    if (g.parameters) v += "; parameters " + with_commas(g.parameters->numel);
    write_field(out, "group " + g.name, v);
  }
  if (c.format == Format::TorchScript && s.constants.tensors)
    write_field(out, "constants", count_line(s.constants));
  for (const auto& [name, d] : s.dtypes)
    write_field(out, "dtype " + name, count_line(d));
  for (const SharedStorage& sh : s.shared) {
    std::string names;
    for (const std::string& n : sh.names) names += (names.empty() ? "" : ", ") + n;
    write_field(out, sh.tied ? "tied" : "shared storage", names);
  }
  write_field(out, "storage", with_commas(s.storage_bytes) + " B in unique storages");
  write_field(out, "overhead", with_commas(static_cast<uint64_t>(std::max<int64_t>(s.overhead_bytes, 0))) +
                             " B (" + pct(s.overhead_percent) + " of the file)");
  uint64_t basis = s.parameters ? s.parameters->numel : s.unique_numel;
  std::string what_if;
  for (const Precision& p : precisions())
    what_if += std::string(what_if.empty() ? "" : ", ") + p.name + " " + human_bytes(bytes_at(basis, p));
  write_field(out, s.parameters ? "params at" : "unique numel at", what_if);
  std::string implied;
  for (const Precision& p : precisions())
    implied += std::string(implied.empty() ? "" : ", ") + p.name + " " + with_commas(params_in(c.file_bytes, p));
  write_field(out, "file holds", implied + " parameters at most");

  out << "\n  byte map\n";
  write_table(out, byte_map_table(c), "    ");
  if (opt.tensors) {
    out << "\n  tensors\n";
    write_table(out, tensors_table(c), "    ");
  }
  if (opt.tree) {
    out << "\n  modules (depth " << opt.depth << ")\n";
    write_table(out, tree_table(c, opt.depth), "    ");
  }
  if (opt.bytes) {
    out << "\n  byte ranges\n";
    write_table(out, bytes_table(c), "    ");
  }
}

}  // namespace ptscope
