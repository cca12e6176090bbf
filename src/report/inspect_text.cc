// inspect as people read it: per file a short summary block and the byte
// map, or, when views are asked for, those views instead; then --verify's
// findings.
#include <algorithm>
#include <cstdio>
#include <ostream>

#include "inspect_report.h"
#include "inspect_rows.h"
#include "numbers.h"
#include "scan_report.h"
#include "verify_report.h"

namespace ptscope {
namespace {

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", v);
  return buf;
}

std::string count_line(const Count& c) {
  return with_commas(c.numel) + " numel in " + counted(c.tensors, "tensor") + ", " + human_bytes(c.bytes);
}

std::string or_unknown(const std::optional<int64_t>& v) { return v ? with_commas(static_cast<uint64_t>(*v)) : "unknown"; }

// README "DeepSpeed folders": the run in one line, then a row per rank.
void write_deepspeed(std::ostream& out, const DeepSpeedCheckpoint& d) {
  std::string v = "ZeRO-" + or_unknown(d.zero_stage) + ", dp world size " + or_unknown(d.dp_world_size);
  if (d.partition_count && d.partition_count != d.dp_world_size)
    v += " (partition_count " + or_unknown(d.partition_count) + ")";
  v += ", " + counted(d.ranks.size(), "rank") + " read";
  v += d.tag.empty() ? ", " + base_name(d.folder) : ", " + d.tag + " from latest";
  if (d.global_steps) v += ", global_steps " + or_unknown(d.global_steps);
  if (!d.ds_version.empty()) v += ", DeepSpeed " + d.ds_version;
  v += "; parameters from " + d.params_from + ", padding " + with_commas(d.padding);
  out << "\n";
  write_field(out, "deepspeed", v);
  if (!d.ranks.empty()) {
    TextTable t{{"rank", "file", "fp32 numel", "optimizer numel", "padding"}, {true, false, true, true, true}, {}};
    for (const DeepSpeedRank& r : d.ranks)
      t.rows.push_back({std::to_string(r.rank), r.file, std::to_string(r.fp32_numel), std::to_string(r.optimizer_numel),
                        std::to_string(r.padding)});
    ptscope::write_table(out, t, "    ");
  }
  if (!d.problems.empty()) {
    out << "    " << counted(d.problems.size(), "problem") << "\n";
    for (const std::string& p : d.problems) out << "    " << p << "\n";
  }
}

void write_summary(std::ostream& out, const Inspection& in, const std::optional<ScanResult>& safety) {
  const Checkpoint& c = in.checkpoint;
  const Summary& s = in.summary;
  write_field(out, "format", format_name(c.format));
  if (safety) write_field(out, "safety", safety_line(*safety));
  write_field(out, "file size", c.file_bytes < 1000 ? human_bytes(c.file_bytes)
                                                    : with_commas(c.file_bytes) + " B  " + human_bytes(c.file_bytes));
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
  if (s.quantized) {
    const QuantizedSummary& q = *s.quantized;
    std::string schemes;
    for (const std::string& n : q.schemes) schemes += (schemes.empty() ? "" : ", ") + n;
    char bits[32];
    std::snprintf(bits, sizeof bits, "%.3g", q.bits_per_weight);
    write_field(out, "quantized", with_commas(q.numel) + " numel in " + counted(q.tensors, "weight") +
                                      " (counted above at their unquantized shapes), stored in " +
                                      human_bytes(q.stored_bytes) + " at " + bits + " bits per weight; " + schemes);
  }
  if (s.experts) {
    const Experts& x = *s.experts;
    std::string v = x.naming + " naming: " + std::to_string(x.experts) + " per layer in " +
                    counted(static_cast<uint64_t>(x.moe_layers), "MoE layer") + ", " + with_commas(x.expert_parameters) +
                    " parameters routed, router " + with_commas(x.router_parameters);
    if (x.shared_parameters) v += ", shared " + with_commas(x.shared_parameters);
    v += in.active_parameters ? "; " + with_commas(*in.active_parameters) + " active per token (top-" +
                                    std::to_string(in.experts_per_token) + ", config.json)"
                              : "; active per token: `ptscope estimate --experts-per-token K`";
    write_field(out, "experts", v);
  }
  for (const GroupSummary& g : s.groups) {
    std::string v = g.kind + ": " + count_line(g.all);
    if (g.parameters) v += "; parameters " + with_commas(g.parameters->numel);
    write_field(out, "group " + g.name, v);
  }
  if (c.format == Format::TorchScript && s.constants.tensors)
    write_field(out, "constants", count_line(s.constants));
  for (const auto& [name, d] : s.dtypes) write_field(out, "dtype " + name, count_line(d));
  for (const SharedStorage& sh : s.shared) {
    std::string names;
    for (const std::string& n : sh.names) names += (names.empty() ? "" : ", ") + n;
    write_field(out, sh.tied ? "tied" : "shared storage", names);
  }
  write_field(out, "storage", with_commas(s.storage_bytes) + " B in unique storages");
  write_field(out, "overhead", with_commas(static_cast<uint64_t>(std::max<int64_t>(s.overhead_bytes, 0))) +
                                   " B (" + pct(s.overhead_percent) + " of the file)");
  std::string at, holds;
  for (const PrecisionSize& p : s.precisions) {
    at += std::string(at.empty() ? "" : ", ") + weight_type_name(p.type) + " " + human_bytes(p.bytes);
    holds += std::string(holds.empty() ? "" : ", ") + weight_type_name(p.type) + " " + with_commas(p.file_holds);
  }
  write_field(out, "params at", at);
  write_field(out, "file holds", holds + " parameters at most");

  if (!in.parts.empty()) {
    out << "\n  files\n";
    ptscope::write_table(out, parts_table(in), "    ");
  }
  if (in.deepspeed) write_deepspeed(out, *in.deepspeed);
  if (in.index) {
    out << "\n  index   ";
    if (!in.index->checked) out << "none (every shard in the folder read)\n";
    else if (in.index->problems.empty()) out << base_name(in.index->file) << ": consistent with the shards\n";
    else {
      out << base_name(in.index->file) << ": " << counted(in.index->problems.size(), "problem") << "\n";
      for (const std::string& p : in.index->problems) out << "    " << p << "\n";
    }
  }
  if (in.config) {
    const ModelConfig& c = *in.config;
    out << "  config  " << base_name(c.file) << ": model_type " << c.model_type.value_or("not given")
        << ", torch_dtype " << c.torch_dtype.value_or("not given") << "\n";
  }
  out << "\n  byte map" << (in.parts.empty() ? "" : " (all files)") << "\n";
  ptscope::write_table(out, byte_map_table(in), "    ");
}

}  // namespace

void InspectReport::write_table(std::ostream& out) const {
  bool first = true;
  for (const InspectedFile& f : files_) {
    if (!f.inspection) continue;
    const Inspection& in = *f.inspection;
    if (!first) out << '\n';
    first = false;
    out << printable(in.checkpoint.path) << '\n';
    if (!views_.any()) write_summary(out, in, f.safety);
    if (views_.tensors) {
      out << "\n  tensors\n";
      ptscope::write_table(out, tensors_table(in), "    ");
    }
    if (views_.tree) {
      out << "\n  modules (depth " << views_.depth << ")\n";
      ptscope::write_table(out, tree_table(in), "    ");
    }
    if (views_.bytes) {
      out << "\n  byte ranges\n";
      ptscope::write_table(out, bytes_table(in), "    ");
    }
    if (f.verify) write_verify_text(out, *f.verify);
  }
}

}  // namespace ptscope
