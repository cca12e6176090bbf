#include "diff_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "numbers.h"

namespace ptscope {
namespace {

using json = nlohmann::ordered_json;

std::string num(double v) {
  if (std::isinf(v)) return "inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

std::string delta_text(const TotalRow& r) {
  if (!r.a || !r.b) return "";
  int64_t delta = static_cast<int64_t>(*r.b) - static_cast<int64_t>(*r.a);
  if (delta == 0) return "0";
  std::string s = (delta > 0 ? "+" : "-") + with_commas(static_cast<uint64_t>(delta > 0 ? delta : -delta));
  if (*r.a) {
    char b[32];
    std::snprintf(b, sizeof b, " (%+.2f%%)", 100.0 * static_cast<double>(delta) / static_cast<double>(*r.a));
    s += b;
  }
  return s;
}

std::string opt_text(const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "-"; }

json brief_json(const TensorBrief& t) {
  return {{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"numel", t.numel}, {"bytes", t.bytes}};
}

json values_json(const std::optional<ValueDiff>& v) {
  if (!v) return nullptr;
  if (!v->compared) return {{"compared", false}, {"reason", v->reason}};
  json j = {{"compared", true}, {"equal", v->equal}, {"hash_a", hash_hex(v->hash_a)},
            {"hash_b", hash_hex(v->hash_b)}, {"changed_elements", v->changed}, {"numel", v->numel},
            {"changed_fraction", v->numel ? static_cast<double>(v->changed) / static_cast<double>(v->numel) : 0.0},
            {"max_abs_diff", std::isinf(v->max_abs_diff) ? json(nullptr) : json(v->max_abs_diff)},
            {"rel_l2", std::isinf(v->rel_l2) ? json(nullptr) : json(v->rel_l2)}};
  j["within_rounding"] = v->within_rounding ? json(*v->within_rounding) : json(nullptr);
  return j;
}

std::string change_text(const TensorChange& c) {
  std::string s;
  if (c.shape_changed()) s += "shape " + shape_text(c.a.shape) + " -> " + shape_text(c.b.shape);
  if (c.dtype_changed()) s += std::string(s.empty() ? "" : "; ") + "dtype " + dtype_name(c.a.dtype) + " -> " + dtype_name(c.b.dtype);
  if (c.values && !c.shape_changed()) s += std::string(s.empty() ? "" : "; ") + describe_values(*c.values, c.b.dtype);
  return s;
}

}  // namespace

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string describe_values(const ValueDiff& v, DType b) {
  if (!v.compared) return "not compared: " + v.reason;
  if (v.equal) return "values equal";
  char pct[32];
  double fraction = 100.0 * static_cast<double>(v.changed) / static_cast<double>(v.numel);
  // Two decimals, or three significant digits where that would read 0.00%.
  std::snprintf(pct, sizeof pct, fraction >= 0.01 ? "%.2f%%" : "%.3g%%", fraction);
  std::string s = "max |d| " + num(v.max_abs_diff) + ", rel L2 " + num(v.rel_l2) + ", " + pct + " of " +
                  with_commas(v.numel) + " changed";
  if (v.within_rounding && *v.within_rounding) return std::string("values within ") + dtype_name(b) + " rounding (" + s + ")";
  return s;
}

void DiffReport::write_table(std::ostream& out) const {
  out << printable(d_.a) << " -> " << printable(d_.b) << '\n';
  write_field(out, "verdict", d_.same() ? "same tensors" : "different");
  write_field(out, "values", d_.values_compared ? "compared (64-bit hash per tensor, elements decoded)" : "not compared (--structure)");
  write_field(out, "added", counted(d_.added.size(), "tensor"));
  write_field(out, "removed", counted(d_.removed.size(), "tensor"));
  for (const Rename& r : d_.renamed)
    write_field(out, "renamed", r.prefix ? "prefix '" + r.from + "' -> '" + r.to + "' on " + counted(r.tensors, "tensor")
                                         : r.from + " -> " + r.to + " (same data)");
  write_field(out, "changed", counted(d_.changed.size(), "tensor"));
  write_field(out, "unchanged", counted(d_.unchanged.size(), "tensor"));
  for (const auto& [name, why] : d_.not_compared) write_field(out, "not compared", name + ": " + why);
  auto list = [&](const char* title, const std::vector<TensorBrief>& ts) {
    if (ts.empty()) return;
    TextTable t{{"name", "dtype", "shape", "numel"}, {false, false, false, true}, {}};
    for (const TensorBrief& b : ts) t.rows.push_back({b.name, dtype_name(b.dtype), shape_text(b.shape), std::to_string(b.numel)});
    out << "\n  " << title << '\n';
    ptscope::write_table(out, t, "    ");
  };
  list("added", d_.added);
  list("removed", d_.removed);
  if (!d_.changed.empty()) {
    // "was" only where some tensor was renamed.
    bool renamed = std::any_of(d_.changed.begin(), d_.changed.end(), [](const TensorChange& c) { return !c.from.empty(); });
    TextTable t{{"name", "change"}, {false, false}, {}};
    if (renamed) t = {{"name", "was", "change"}, {false, false, false}, {}};
    for (const TensorChange& c : d_.changed)
      t.rows.push_back(renamed ? std::vector<std::string>{c.name, c.from, change_text(c)}
                               : std::vector<std::string>{c.name, change_text(c)});
    out << "\n  changed\n";
    ptscope::write_table(out, t, "    ");
  }
  TextTable t{{"figure", "a", "b", "delta"}, {false, true, true, false}, {}};
  for (const TotalRow& r : d_.totals) t.rows.push_back({r.label, opt_text(r.a), opt_text(r.b), delta_text(r)});
  out << "\n  totals\n";
  ptscope::write_table(out, t, "    ");
}

namespace {

json diff_json(const Diff& d_) {
  json j;
  j["a"] = d_.a;
  j["b"] = d_.b;
  j["same"] = d_.same();
  j["values_compared"] = d_.values_compared;
  json added = json::array(), removed = json::array(), renamed = json::array(), changed = json::array();
  for (const TensorBrief& t : d_.added) added.push_back(brief_json(t));
  for (const TensorBrief& t : d_.removed) removed.push_back(brief_json(t));
  for (const Rename& r : d_.renamed)
    renamed.push_back({{"from", r.from}, {"to", r.to}, {"tensors", r.tensors}, {"by", r.prefix ? "prefix" : "data"}});
  for (const TensorChange& c : d_.changed) {
    json e = {{"name", c.name}};
    if (!c.from.empty()) e["from"] = c.from;
    e["shape"] = c.shape_changed() ? json{{"a", c.a.shape}, {"b", c.b.shape}} : json(nullptr);
    e["dtype"] = c.dtype_changed() ? json{{"a", dtype_name(c.a.dtype)}, {"b", dtype_name(c.b.dtype)}} : json(nullptr);
    e["values"] = values_json(c.values);
    changed.push_back(e);
  }
  j["added"] = added;
  j["removed"] = removed;
  j["renamed"] = renamed;
  j["changed"] = changed;
  j["unchanged"] = d_.unchanged.size();
  json nc = json::array();
  for (const auto& [name, why] : d_.not_compared) nc.push_back({{"name", name}, {"reason", why}});
  j["not_compared"] = nc;
  json totals = json::object();
  for (const TotalRow& r : d_.totals) {
    json delta = r.a && r.b ? json(static_cast<int64_t>(*r.b) - static_cast<int64_t>(*r.a)) : json(nullptr);
    totals[r.label] = {{"a", r.a ? json(*r.a) : json(nullptr)}, {"b", r.b ? json(*r.b) : json(nullptr)}, {"delta", delta}};
  }
  j["totals"] = totals;
  return json::array({j});
}

}  // namespace

nlohmann::ordered_json DiffReport::json() const { return diff_json(d_); }

TextTable DiffReport::rows() const {
  TextTable t{{"a", "b", "name", "status", "was", "change"}, {false, false, false, false, false, false}, {}};
  for (const TensorBrief& x : d_.added) t.rows.push_back({d_.a, d_.b, x.name, "added", "", ""});
  for (const TensorBrief& x : d_.removed) t.rows.push_back({d_.a, d_.b, x.name, "removed", "", ""});
  for (const TensorChange& c : d_.renamed_equal) t.rows.push_back({d_.a, d_.b, c.name, "renamed", c.from, ""});
  for (const TensorChange& c : d_.changed) t.rows.push_back({d_.a, d_.b, c.name, "changed", c.from, change_text(c)});
  return t;
}

}  // namespace ptscope
