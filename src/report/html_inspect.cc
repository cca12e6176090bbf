#include <set>
#include <tuple>

#include "diff_report.h"
#include "html_page.h"
#include "html_reports.h"
#include "numbers.h"

namespace ptscope {

using json = nlohmann::ordered_json;

json html_tensor_table(const Checkpoint& c) {
  json rows = json::array();
  for (const Tensor& t : c.tensors)
    rows.push_back(json::array({t.name, dtype_name(t.dtype), shape_text(t.shape), t.numel, t.nbytes(), role_name(t.role)}));
  return {{"columns", json::array({{{"name", "name"}, {"numeric", false}}, {{"name", "dtype"}, {"numeric", false}},
                                   {{"name", "shape"}, {"numeric", false}}, {{"name", "numel"}, {"numeric", true}},
                                   {{"name", "bytes"}, {"numeric", true}}, {{"name", "role"}, {"numeric", false}}})},
          {"rows", rows}, {"status_column", -1}};
}

json html_bytemap(const std::vector<ByteMapRow>& rows) {
  json out = json::array();
  for (const ByteMapRow& r : rows) out.push_back({{"label", r.label}, {"bytes", r.bytes}});
  return out;
}

json html_dtypes(const Summary& s) {
  json out = json::array();
  for (const auto& [name, c] : s.dtypes) out.push_back({{"dtype", name}, {"numel", c.numel}, {"bytes", c.bytes}});
  return out;
}

json html_parameter_treemap(const Checkpoint& c) {
  json tm = json::array();
  // Tied weights once, under the first name, as model.parameters() yields them.
  std::set<std::tuple<int, uint64_t, std::vector<int64_t>, std::vector<int64_t>>> seen;
  for (const Tensor& t : c.tensors)
    if (t.role == Role::Parameter && (t.storage < 0 || seen.insert({t.storage, t.storage_offset, t.shape, t.stride}).second))
      tm.push_back({{"name", t.name}, {"numel", t.numel}});
  for (const LogicalTensor& l : c.logical) tm.push_back({{"name", l.tensor.name}, {"numel", l.tensor.numel}});
  if (tm.empty())  // the file does not tell parameters apart: every tensor
    for (const Tensor& t : c.tensors) tm.push_back({{"name", t.name}, {"numel", t.numel}});
  return tm;
}

std::string inspect_html(const Inspection& in) {
  const Checkpoint& c = in.checkpoint;
  const Summary& s = in.summary;
  PageData p;
  p.title = "ptscope inspect " + c.path;
  auto count = [](const std::optional<Count>& x) { return x ? with_commas(x->numel) : std::string("unknown"); };
  p.summary = {{"format", format_name(c.format), ""},
               {"file size", with_commas(c.file_bytes) + " B", "file_bytes"},
               {"tensors", with_commas(s.all.tensors), "tensors"},
               {"numel", with_commas(s.all.numel), "numel"},
               {"parameters", count(s.parameters), "parameters"},
               {"buffers", count(s.buffers), "buffers"},
               {"tensor bytes", with_commas(s.all.bytes) + " B", "tensor_bytes"},
               {"storage bytes", with_commas(s.storage_bytes) + " B", "storage_bytes"},
               {"overhead bytes", with_commas(static_cast<uint64_t>(std::max<int64_t>(s.overhead_bytes, 0))) + " B",
                "overhead_bytes"}};
  // The treemap shows the model's parameters where the file tells them
  // apart; otherwise every tensor.
  p.sections["treemap"] = html_parameter_treemap(c);
  p.sections["bytemap"] = html_bytemap(in.byte_map);
  p.sections["dtypes"] = html_dtypes(s);
  p.sections["table"] = html_tensor_table(c);
  return render_page(p);
}

}  // namespace ptscope
