#include "scan_report.h"

#include <ostream>

namespace ptscope {
namespace {

// The file offset, or "+N" within the record when the bytes are not the file's.
std::string offset_text(const Finding& f) {
  if (f.offset) return std::to_string(*f.offset);
  return f.record_offset ? "+" + std::to_string(*f.record_offset) : "";
}

std::string verdict_text(const ScanResult& r) {
  switch (r.verdict) {
    case Verdict::Safe:
      return r.pickles.empty() ? "safe: nothing in it is unpickled"
                               : "safe: torch.load(weights_only=True) accepts every pickle in it";
    case Verdict::NeedsCode: return "needs-code: loads only by trusting it (weights_only=False or torch.jit.load)";
    case Verdict::Dangerous: return "DANGEROUS: loading it runs code that reaches the system";
  }
  return "";
}

}  // namespace

std::string safety_line(const ScanResult& r) {
  if (!r.error.empty()) return "not scanned: " + r.error;
  std::string line = verdict_name(r.verdict);
  // The most severe finding, a named one first: "needs-code: argparse.Namespace"
  // says more than the opcode weights_only refused.
  const Finding* top = nullptr;
  for (const Finding& f : r.findings) {
    if (f.severity < Severity::NeedsCode || (top && f.severity < top->severity)) break;
    if (!top || (top->global.empty() && !f.global.empty())) top = &f;
  }
  if (top)
    line += ": " + (top->global.empty() ? top->kind : top->global) + " (" + top->record +
            (top->offset ? " at byte " + std::to_string(*top->offset) : "") + ")";
  size_t weighty = 0;
  for (const Finding& f : r.findings) weighty += f.severity >= Severity::NeedsCode;
  if (r.verdict != Verdict::Safe) line += "; ptscope scan for all " + std::to_string(weighty) + " findings";
  return line;
}

void ScanReport::write_table(std::ostream& out) const {
  size_t counts[3] = {0, 0, 0}, unreadable = 0;
  for (size_t i = 0; i < files_.size(); ++i) {
    const ScanResult& r = files_[i];
    if (i) out << '\n';
    out << printable(r.path) << '\n';
    if (!r.error.empty()) {
      ++unreadable;
      write_field(out, "error", r.error);
      continue;
    }
    ++counts[static_cast<int>(r.verdict)];
    write_field(out, "format", r.format);
    write_field(out, "verdict", verdict_text(r));
    for (const std::string& p : r.pickles) write_field(out, "pickle", p);
    if (r.findings.empty()) continue;
    out << "\n  findings\n";
    TextTable t;
    t.columns = {"severity", "kind", "at", "count", "record", "detail"};
    t.numeric = {false, false, true, true, false, false};
    for (const Finding& f : r.findings)
      t.rows.push_back({severity_name(f.severity), f.kind, offset_text(f), std::to_string(f.count), f.record, f.detail});
    ptscope::write_table(out, t, "    ");
  }
  if (files_.size() > 1)
    out << '\n'
        << files_.size() << " files: " << counts[0] << " safe, " << counts[1] << " needs-code, " << counts[2]
        << " dangerous, " << unreadable << " not read\n";
}

nlohmann::ordered_json ScanReport::json() const {
  auto all = nlohmann::ordered_json::array();
  for (const ScanResult& r : files_) {
    nlohmann::ordered_json j;
    j["file"] = r.path;
    if (!r.error.empty()) {
      j["error"] = r.error;
      all.push_back(j);
      continue;
    }
    j["format"] = r.format;
    j["verdict"] = verdict_name(r.verdict);
    j["pickles"] = r.pickles;
    j["findings"] = nlohmann::ordered_json::array();
    for (const Finding& f : r.findings) {
      nlohmann::ordered_json x;
      x["severity"] = severity_name(f.severity);
      x["kind"] = f.kind;
      x["global"] = f.global.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(f.global);
      x["record"] = f.record;
      x["offset"] = f.offset ? nlohmann::ordered_json(*f.offset) : nlohmann::ordered_json();
      x["record_offset"] = f.record_offset ? nlohmann::ordered_json(*f.record_offset) : nlohmann::ordered_json();
      x["count"] = f.count;
      x["detail"] = f.detail;
      j["findings"].push_back(x);
    }
    all.push_back(j);
  }
  return all;
}

TextTable ScanReport::rows() const {
  TextTable t;
  t.columns = {"file", "format", "verdict", "severity", "kind", "global", "record", "offset", "count", "detail"};
  for (const ScanResult& r : files_) {
    if (!r.error.empty()) {
      t.rows.push_back({r.path, "", "error", "", "", "", "", "", "", r.error});
      continue;
    }
    if (r.findings.empty()) t.rows.push_back({r.path, r.format, verdict_name(r.verdict), "", "", "", "", "", "", ""});
    for (const Finding& f : r.findings)
      t.rows.push_back({r.path, r.format, verdict_name(r.verdict), severity_name(f.severity), f.kind, f.global,
                        f.record, offset_text(f), std::to_string(f.count), f.detail});
  }
  return t;
}

}  // namespace ptscope
