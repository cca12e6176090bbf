#include "diff_report.h"
#include "html_page.h"
#include "html_reports.h"
#include "numbers.h"

namespace ptscope {

using json = nlohmann::ordered_json;

std::string diff_html(const Diff& d) {
  PageData p;
  p.title = "ptscope diff " + d.a + " -> " + d.b;
  p.summary = {{"a", d.a, ""},
               {"b", d.b, ""},
               {"verdict", d.same() ? "same tensors" : "different", ""},
               {"added", with_commas(d.added.size()), "added"},
               {"removed", with_commas(d.removed.size()), "removed"},
               {"renamed", with_commas(d.renamed.size()), "renamed"},
               {"changed", with_commas(d.changed.size()), "changed"},
               {"unchanged", with_commas(d.unchanged.size()), "unchanged"}};
  for (const Rename& r : d.renamed)
    p.summary.push_back({"rename", r.prefix ? "prefix '" + r.from + "' -> '" + r.to + "' on " + counted(r.tensors, "tensor")
                                            : r.from + " -> " + r.to, ""});
  p.side_columns = {"figure", "a", "b", "delta"};
  for (const TotalRow& r : d.totals) {
    auto v = [](const std::optional<uint64_t>& x) { return x ? with_commas(*x) : std::string("unknown"); };
    std::string delta;
    if (r.a && r.b) {
      int64_t dl = static_cast<int64_t>(*r.b) - static_cast<int64_t>(*r.a);
      delta = (dl > 0 ? "+" : dl < 0 ? "-" : "") + with_commas(static_cast<uint64_t>(dl < 0 ? -dl : dl));
    }
    p.side_rows.push_back({r.label, v(r.a), v(r.b), delta});
  }
  // Every tensor of either side with its status: the treemap colours the
  // modules by what happened to them, the table lists them.
  json tm = json::array(), rows = json::array();
  auto add = [&](const TensorBrief& t, const char* status, const std::string& was, const std::string& change) {
    tm.push_back({{"name", t.name}, {"numel", t.numel}, {"status", status}});
    rows.push_back(json::array({t.name, status, was, dtype_name(t.dtype), shape_text(t.shape), t.numel, change}));
  };
  for (const TensorChange& c : d.changed) {
    std::string what;
    if (c.shape_changed()) what = "shape " + shape_text(c.a.shape) + " -> " + shape_text(c.b.shape) + "; ";
    if (c.dtype_changed()) what += std::string("dtype ") + dtype_name(c.a.dtype) + " -> " + dtype_name(c.b.dtype) + "; ";
    if (c.values && !c.shape_changed()) what += describe_values(*c.values, c.b.dtype);
    add(c.b, "changed", c.from, what);
  }
  for (const TensorBrief& t : d.added) add(t, "added", "", "");
  for (const TensorBrief& t : d.removed) add(t, "removed", "", "");
  for (const TensorChange& c : d.renamed_equal) add(c.b, "renamed", c.from, "");
  for (const TensorBrief& t : d.unchanged) add(t, "unchanged", "", "");
  p.sections["treemap"] = tm;
  p.sections["bytemap"] = html_bytemap(d.ib.byte_map);
  p.sections["dtypes"] = html_dtypes(d.ib.summary);
  p.sections["table"] = {{"columns", json::array({{{"name", "name"}, {"numeric", false}}, {{"name", "status"}, {"numeric", false}},
                                                  {{"name", "was"}, {"numeric", false}}, {{"name", "dtype"}, {"numeric", false}},
                                                  {{"name", "shape"}, {"numeric", false}}, {{"name", "numel"}, {"numeric", true}},
                                                  {{"name", "change"}, {"numeric", false}}})},
                         {"rows", rows}, {"status_column", 1}};
  return render_page(p);
}

}  // namespace ptscope
