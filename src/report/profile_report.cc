#include "profile_report.h"

#include "numbers.h"

#include <cstdio>
#include <ostream>

namespace ptscope {
namespace {

using json = nlohmann::ordered_json;

// "1.814 G (1,814,078,976)"
std::string count(uint64_t n) {
  return n < 1000 ? with_commas(n) : si_prefixed(n, "", 3) + " (" + with_commas(n) + ")";
}

std::string bytes(int64_t n) { return human_bytes(static_cast<uint64_t>(n)); }

std::string ms(const Latency& l) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "median %.3f ms (p10 %.3f, p90 %.3f, mean %.3f) over %d iters; %.1f samples/s",
                l.median_ms, l.p10_ms, l.p90_ms, l.mean_ms, l.iters, l.throughput);
  return buf;
}

// kind, name, count, macs, flops
TextTable ops_table(const ProfileReply& r) {
  TextTable t{{"kind", "name", "count", "macs", "flops"}, {false, false, true, true, true}, {}};
  if (!r.forward) return t;
  for (const auto& [name, op] : r.forward->ops)
    t.rows.push_back({"op", name, std::to_string(op.count), std::to_string(op.macs), std::to_string(op.flops)});
  for (const auto& [name, m] : r.forward->modules)
    t.rows.push_back({"module", name, "", std::to_string(m.macs), std::to_string(m.flops)});
  return t;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s;
  for (int64_t d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "-" : s;
}

// CSV/TSV: one table, so a spreadsheet filters on `kind` (op, module,
// layer) instead of finding where a second block starts. The layer columns
// come after the op columns, so readers of the older six columns by
// position keep working; cells a kind does not have stay empty. Layer
// names are not indented: `depth` says it, and a filter keeps it.
TextTable delimited_table(const ProfileReply& r) {
  TextTable t = ops_table(r);
  for (const char* c : {"type", "depth", "output_shape", "parameters", "activation_bytes"}) {
    t.columns.push_back(c);
    t.numeric.push_back(std::string(c) != "type" && std::string(c) != "output_shape");
  }
  for (auto& row : t.rows) row.resize(t.columns.size());
  if (!r.forward) return t;
  for (const LayerRow& l : r.forward->layers)
    t.rows.push_back({"layer", l.name, "", std::to_string(l.macs), std::to_string(l.flops), l.type,
                      std::to_string(l.depth), l.output_shape.empty() ? "" : shape_text(l.output_shape),
                      std::to_string(l.parameters), std::to_string(l.activation_bytes)});
  return t;
}

// The per-layer table, torchinfo's way: forward order, indented by depth,
// then what no row holds (ops and parameters of the model itself) and the
// totals, which the depth-0 rows and that line add up to.
TextTable layers_table(const ProfileReply& r) {
  TextTable t{{"layer", "type", "output", "params", "MACs", "FLOPs", "output bytes"},
              {false, false, false, true, true, true, true}, {}};
  const Forward& f = *r.forward;
  uint64_t params = 0, macs = 0, flops = 0;
  for (const LayerRow& l : f.layers) {
    t.rows.push_back({std::string(static_cast<size_t>(2 * l.depth), ' ') + l.name, l.type, shape_text(l.output_shape),
                      std::to_string(l.parameters), std::to_string(l.macs), std::to_string(l.flops),
                      std::to_string(l.activation_bytes)});
    if (l.depth == 0) {
      params += l.parameters;
      macs += l.macs;
      flops += l.flops;
    }
  }
  uint64_t total_params = r.parameters.numel;
  if (total_params > params || f.macs > macs || f.flops > flops)
    t.rows.push_back({"(outside any layer)", "", "", std::to_string(total_params - std::min(params, total_params)),
                      std::to_string(f.macs - std::min(macs, f.macs)), std::to_string(f.flops - std::min(flops, f.flops)),
                      ""});
  t.rows.push_back({"total", "", "", std::to_string(total_params), std::to_string(f.macs), std::to_string(f.flops), ""});
  return t;
}

void write_device_and_estimate(std::ostream& out, const ProfileReply& r, const std::optional<EstimateBeside>& e) {
  const std::optional<CudaPeaks>& cuda = r.train ? r.train->cuda : r.forward->cuda;
  if (cuda)
    write_field(out, "CUDA allocator", "peak allocated " + bytes(cuda->peak_allocated_bytes) + ", peak reserved " +
                                           bytes(cuda->peak_reserved_bytes));
  if (r.forward && r.forward->gpu) {
    const GpuProcess& g = *r.forward->gpu;
    if (g.gpu_name) write_field(out, "GPU", *g.gpu_name);
    write_field(out, "process", g.process_bytes ? human_bytes(*g.process_bytes) + " on the GPU (NVML, as nvidia-smi)"
                                                : "unknown: " + g.process_bytes_unavailable);
  }
  if (e && e->activation_bytes) {
    std::string ratio;
    if (e->measured_over_estimate) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", *e->measured_over_estimate);
      ratio = std::string("; measured/estimate ") + buf;
    }
    write_field(out, "estimate", human_bytes(*e->activation_bytes) + " activations from the file alone (" +
                                     e->architecture.value_or("") + ")" + ratio);
  }
}

void write_train(std::ostream& out, const Train& t) {
  write_field(out, "optimizer", t.optimizer);
  write_field(out, "peak memory", bytes(t.peak_bytes));
  write_field(out, "  parameters", human_bytes(t.parameters_bytes));
  write_field(out, "  gradients", human_bytes(t.gradients_bytes));
  write_field(out, "  optimizer", human_bytes(t.optimizer_state_bytes));
  write_field(out, "  activations", bytes(t.activations_bytes) + " saved for backward");
  write_field(out, "fwd+bwd peak", bytes(t.forward_backward_peak_bytes) +
                                       " above weights (activations, gradients, backward's transients)");
  write_field(out, "rule of thumb",
              human_bytes(t.rule_of_thumb_bytes) + " (parameters x (1 + 1 + optimizer moments) + activations)");
  write_field(out, "step latency", ms(t.latency));
}

void write_forward(std::ostream& out, const Forward& f) {
  write_field(out, "MACs", count(f.macs));
  write_field(out, "FLOPs", count(f.flops) + " forward");
  write_field(out, "FLOPs fwd+bwd", count(f.flops_fwd_bwd_estimate) + " (estimate: 3x forward)");
  write_field(out, "activations", bytes(f.activation_peak_bytes) + " peak during the forward, above weights and inputs");
  write_field(out, "latency", ms(f.latency));
}

void write_max_batch_and_unpriced(std::ostream& out, const Forward& f) {
  if (f.max_batch) {
    const MaxBatch& mb = *f.max_batch;
    std::string limit = mb.limit_bytes ? "over " + human_bytes(*mb.limit_bytes) : "out of memory";
    write_field(out, "max batch", std::to_string(mb.batch) + (mb.peak_bytes ? ", peak " + bytes(*mb.peak_bytes) : "") +
                                      " (" + std::to_string(mb.tries.size()) + " tries; a larger batch ran " + limit +
                                      ")");
  }
  if (!f.ops_without_formula.empty()) {
    std::string names;
    for (const std::string& n : f.ops_without_formula) names += (names.empty() ? "" : ", ") + n;
    write_field(out, "not priced", names);
  }
}

}  // namespace

void write_profile_text(std::ostream& out, const ProfileReply& r, const std::optional<EstimateBeside>& e) {
  const Latency& lat = r.train ? r.train->latency : r.forward->latency;
  out << r.file << '\n';
  write_field(out, "device", r.device + ", " + r.dtype + ", batch " + std::to_string(r.batch) + ", " +
                                 std::to_string(lat.threads) + " threads");
  for (const InputInfo& i : r.inputs) {
    std::string shape;
    for (int64_t d : i.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    write_field(out, "input " + i.name, shape + " " + i.dtype);
  }
  if (r.built) {
    char took[48] = "";
    if (r.build_ms) std::snprintf(took, sizeof took, " in %.1f ms", *r.build_ms);
    write_field(out, "built", *r.built + took);
  }
  write_field(out, "weights", human_bytes(r.weights_bytes));
  write_field(out, "inputs", human_bytes(r.inputs_bytes));
  if (r.train) {
    write_train(out, *r.train);
    write_device_and_estimate(out, r, e);
    return;
  }
  write_forward(out, *r.forward);
  write_device_and_estimate(out, r, e);
  write_max_batch_and_unpriced(out, *r.forward);
  out << "\n  ops and top-level modules\n";
  write_table(out, ops_table(r), "    ");
  if (!r.forward->layers.empty()) {
    out << "\n  layers, in forward order\n";
    write_table(out, layers_table(r), "    ");
  }
}

json profile_json(const ProfileReply& r, const std::optional<EstimateBeside>& e) {
  json j = r;
  if (e) {
    json& est = j["estimate"];
    est["architecture"] = e->architecture;
    est["activation_bytes"] = e->activation_bytes;
    est["measured_over_estimate"] = e->measured_over_estimate;
    if (r.train) {
      est["optimizer_bytes"] = e->optimizer_bytes;
      est["gradient_bytes"] = e->gradient_bytes;
    }
  }
  return j;
}

TextTable profile_table(const ProfileReply& r) {
  TextTable t = delimited_table(r);
  t.columns.insert(t.columns.begin(), "file");
  t.numeric.insert(t.numeric.begin(), false);
  for (auto& row : t.rows) row.insert(row.begin(), r.file);
  return t;
}

void ProfileReport::write_table(std::ostream& out) const {
  for (size_t i = 0; i < files_.size(); ++i) {
    if (i) out << '\n';
    write_profile_text(out, files_[i].reply, files_[i].estimate);
  }
}

json ProfileReport::json() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ProfiledFile& f : files_) out.push_back(profile_json(f.reply, f.estimate));
  return out;
}

TextTable ProfileReport::rows() const {
  TextTable all;
  for (const ProfiledFile& f : files_) {
    TextTable t = profile_table(f.reply);
    if (all.columns.empty()) all = std::move(t);
    else for (auto& r : t.rows) all.rows.push_back(std::move(r));
  }
  return all;
}

}  // namespace ptscope
