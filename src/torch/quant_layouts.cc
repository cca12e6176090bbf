// The packed layouts, as their writers define them (P is the module's prefix;
// the logical weight is nn.Linear's [out, in]):
//
//   GPTQ   AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda.py (and
//          qlinear_exllama.py), QuantLinear.__init__ / pack:
//            P.qweight int32 [in * bits / 32, out]   packed along in
//            P.qzeros  int32 [groups, out * bits / 32]
//            P.scales  fp16  [groups, out]
//            P.g_idx   int32 [in]                    optional
//          bits = 32 * qzeros.cols / out (2, 3, 4, 8); in = g_idx's length or
//          qweight.rows * 32 / bits.
//   AWQ    AutoAWQ awq/modules/linear/gemm.py, WQLinear_GEMM.__init__ /
//          from_linear (order [0, 2, 4, 6, 1, 3, 5, 7] within an int32):
//            P.qweight int32 [in, out * bits / 32]   packed along out
//            P.qzeros  int32 [groups, out * bits / 32]
//            P.scales  fp16  [groups, out]
//          told from GPTQ by the shapes: qweight.cols == scales.cols is GPTQ,
//          qweight.cols * 32 / bits == scales.cols is AWQ.
//   bitsandbytes 4-bit  bitsandbytes/functional.py QuantState.as_dict(packed=True)
//          and transformers integrations/bitsandbytes.py:
//            P.weight uint8 [ceil(n / 2), 1], P.weight.absmax, .quant_map,
//            .nested_absmax, .nested_quant_map, and
//            P.weight.quant_state.bitsandbytes__nf4 (or __fp4): uint8 bytes
//            of JSON {"quant_type", "blocksize", "dtype", "shape", ...}
//          the logical shape and dtype are read from that JSON.
//   bitsandbytes int8  bitsandbytes/nn/modules.py Linear8bitLt._save_to_state_dict:
//            P.weight int8 [out, in], P.SCB fp32 [out], P.weight_format uint8
//   compressed-tensors pack-quantized  compressed_tensors/compressors/
//          quantized_compressors/pack_quantized.py (pack_to_int32 along the
//          last dimension):
//            P.weight_packed int32 [out, ceil(in * bits / 32)],
//            P.weight_scale, P.weight_zero_point, P.weight_g_idx,
//            P.weight_shape int [2] = the original [out, in]  (read here)
//   MXFP4  transformers integrations/mxfp4.py (gpt-oss experts),
//          convert_moe_packed_tensors:
//            P_blocks uint8 [..., rows, groups, 16]: 32 fp4 values a block
//            P_scales uint8 [..., rows, groups]: one e8m0 exponent a block
//          dequantized to [..., rows, groups * 32] then transposed to
//          [..., groups * 32, rows], as GptOssExperts holds gate_up_proj.
#include "quant_layouts.h"

#include <map>
#include <string_view>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "affixes.h"
#include "ptscope/error.h"
#include "tensor_layout.h"

namespace ptscope {
namespace {

// A quant state or weight_shape is a few hundred bytes; anything larger is
// not one and is not read.
constexpr uint64_t kMaxStateBytes = 64 * 1024;
// Logical dimensions stay far below where products of three could overflow.
constexpr int64_t kMaxDim = int64_t{1} << 40;
constexpr uint64_t kMaxNumel = uint64_t{1} << 58;


// The tensor whose name says which layout to try, by its ending.
enum class Layout { None, GptqOrAwq, Bnb4Nf4, Bnb4Fp4, Bnb8, Compressed, Mxfp4 };

Layout layout_of(const std::string& name) {
  if (ends_with(name, ".qweight")) return Layout::GptqOrAwq;
  if (ends_with(name, ".quant_state.bitsandbytes__nf4")) return Layout::Bnb4Nf4;
  if (ends_with(name, ".quant_state.bitsandbytes__fp4")) return Layout::Bnb4Fp4;
  if (ends_with(name, ".SCB")) return Layout::Bnb8;
  if (ends_with(name, ".weight_packed")) return Layout::Compressed;
  if (ends_with(name, "_blocks")) return Layout::Mxfp4;
  return Layout::None;
}

class Layouts {
 public:
  Layouts(Checkpoint& c, const ByteSource& src) : c_(c), src_(src) {}

  void run() {
    // The name index (a copy of every name) only for a file that has a
    // quantized weight's mark: most have none.
    bool any = false;
    for (const Tensor& t : c_.tensors) any = any || layout_of(t.name) != Layout::None;
    if (!any) return;
    for (size_t i = 0; i < c_.tensors.size(); ++i)
      index_[key(c_.tensors[i].group, c_.tensors[i].name)] = static_cast<int>(i);
    for (size_t i = 0; i < c_.tensors.size(); ++i) {
      const Tensor& t = c_.tensors[i];
      if (claimed(static_cast<int>(i))) continue;
      int idx = static_cast<int>(i);
      switch (layout_of(t.name)) {
        case Layout::GptqOrAwq: gptq_or_awq(idx); break;
        case Layout::Bnb4Nf4: bnb4(idx, "nf4"); break;
        case Layout::Bnb4Fp4: bnb4(idx, "fp4"); break;
        case Layout::Bnb8: bnb8(idx); break;
        case Layout::Compressed: compressed(idx); break;
        case Layout::Mxfp4: mxfp4(idx); break;
        case Layout::None: break;
      }
    }
  }

 private:
  static std::string key(const std::string& group, const std::string& name) { return group + '\0' + name; }

  const Tensor& at(int i) const { return c_.tensors[static_cast<size_t>(i)]; }
  bool claimed(int i) const { return at(i).role == Role::Quantized || at(i).role == Role::QuantMeta; }

  // The unclaimed tensor `name` beside `of` (same group), -1 if none.
  int find(const Tensor& of, const std::string& name) const {
    auto it = index_.find(key(of.group, name));
    return it == index_.end() || claimed(it->second) ? -1 : it->second;
  }
  int find(const Tensor& of, const std::string& name, DType dtype, size_t dims) const {
    int i = find(of, name);
    return i >= 0 && at(i).dtype == dtype && at(i).shape.size() == dims ? i : -1;
  }

  static bool sane(const std::vector<int64_t>& shape) {
    uint64_t n = 1;
    for (int64_t d : shape) {
      if (d <= 0 || d > kMaxDim) return false;
      n *= static_cast<uint64_t>(d);
      if (n > kMaxNumel) return false;
    }
    return true;
  }

  // The bytes of a small contiguous tensor stored in this file, or nothing
  // (compressed record, view, too large, no data).
  std::optional<std::string> small_data(const Tensor& t) const {
    if (t.storage < 0 || t.nbytes() > kMaxStateBytes) return std::nullopt;
    const Storage& s = c_.storages[static_cast<size_t>(t.storage)];
    if (!s.file_offset) return std::nullopt;
    TensorLayout l = tensor_layout(t.shape, t.stride, kMaxStateBytes);
    if (l.problem != TensorLayout::Problem::None || l.extent != t.numel) return std::nullopt;
    uint64_t begin = t.storage_offset * dtype_size(t.dtype);
    if (begin > s.nbytes || t.nbytes() > s.nbytes - begin) return std::nullopt;
    try {
      return src_.read_string(*s.file_offset + begin, t.nbytes(), "quantization state");
    } catch (const Error&) {
      return std::nullopt;
    }
  }

  // Records the logical tensor: `packed` Quantized, `meta` QuantMeta.
  void add(const std::string& name, int packed, const std::vector<int>& meta, std::vector<int64_t> shape,
           DType dtype, const std::string& scheme, double bits) {
    if (!sane(shape)) return;
    const Tensor& p = at(packed);
    LogicalTensor l;
    l.tensor.name = name;
    l.tensor.group = p.group;
    l.tensor.dtype = dtype;
    l.tensor.stride = contiguous_strides(shape);
    l.tensor.numel = 1;
    for (int64_t d : shape) l.tensor.numel *= static_cast<uint64_t>(d);
    l.tensor.shape = std::move(shape);
    l.tensor.role = Role::Parameter;
    l.tensor.rule = "quantized weight (" + scheme + ")";
    l.tensor.pickle_offset = p.pickle_offset;
    l.scheme = scheme;
    l.bits = bits;
    l.stored.push_back(packed);
    for (int m : meta)
      if (m >= 0) l.stored.push_back(m);
    for (int s : l.stored) {
      Tensor& t = c_.tensors[static_cast<size_t>(s)];
      t.role = s == packed ? Role::Quantized : Role::QuantMeta;
      t.rule = (s == packed ? "packed values (" : "quantization metadata (") + scheme + ")";
      l.stored_bytes += t.nbytes();
    }
    c_.logical.push_back(std::move(l));
  }

  void gptq_or_awq(int qi) {
    const Tensor& q = at(qi);
    if (q.dtype != DType::Int32 || q.shape.size() != 2) return;
    std::string p = q.name.substr(0, q.name.size() - std::string("qweight").size());
    int si = find(q, p + "scales");
    int zi = find(q, p + "qzeros", DType::Int32, 2);
    int gi = find(q, p + "g_idx", DType::Int32, 1);
    if (si < 0 || at(si).shape.size() != 2 || !dtype_is_floating(at(si).dtype)) return;
    const Tensor& s = at(si);
    int64_t rows = q.shape[0], cols = q.shape[1], out = s.shape[1];
    if (rows <= 0 || cols <= 0 || out <= 0 || rows > kMaxDim || cols > kMaxDim) return;
    std::vector<int> meta = {zi, si, gi};
    if (cols == out) {  // GPTQ: packed along in
      int bits = 4;
      if (zi >= 0) {
        int64_t z = at(zi).shape[1];
        if ((32 * z) % out) return;
        bits = static_cast<int>(32 * z / out);
      } else if (gi >= 0 && at(gi).shape[0] > 0 && (32 * rows) % at(gi).shape[0] == 0) {
        bits = static_cast<int>(32 * rows / at(gi).shape[0]);
      }
      if (bits != 2 && bits != 3 && bits != 4 && bits != 8) return;
      if ((rows * 32) % bits) return;
      int64_t in = rows * 32 / bits;
      if (gi >= 0 && at(gi).shape[0] != in) return;
      add(p + "weight", qi, meta, {out, in}, s.dtype, "gptq", bits);
    } else {  // AWQ: packed along out
      if ((32 * cols) % out) return;
      int64_t bits = 32 * cols / out;
      if (bits != 4 && bits != 8 && bits != 2) return;
      if (zi >= 0 && at(zi).shape[1] != cols) return;
      add(p + "weight", qi, meta, {out, rows}, s.dtype, "awq", static_cast<double>(bits));
    }
  }

  void bnb4(int state_i, const std::string& type) {
    const Tensor& st = at(state_i);
    if (st.dtype != DType::UInt8) return;
    std::string w = st.name.substr(0, st.name.size() - std::string(".quant_state.bitsandbytes__").size() - type.size());
    int wi = find(st, w, DType::UInt8, 2);
    if (wi < 0) wi = find(st, w, DType::UInt8, 1);
    if (wi < 0) return;
    std::optional<std::string> bytes = small_data(st);
    if (!bytes) return;
    nlohmann::json j = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("shape") || !j["shape"].is_array() || j["shape"].size() > 8) return;
    std::vector<int64_t> shape;
    uint64_t n = 1;
    for (const auto& d : j["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() <= 0 || d.get<int64_t>() > kMaxDim) return;
      shape.push_back(d.get<int64_t>());
      n *= static_cast<uint64_t>(shape.back());
      if (n > kMaxNumel) return;
    }
    // Two 4-bit values a byte: the packed weight must hold exactly the logical one.
    if ((n + 1) / 2 != at(wi).numel) return;
    DType dtype = DType::Float16;
    if (j.contains("dtype") && j["dtype"].is_string()) {
      std::string d = j["dtype"].get<std::string>();
      if (d.rfind("torch.", 0) == 0) d = d.substr(6);
      if (auto parsed = dtype_from_torch_name(d); parsed && dtype_is_floating(*parsed)) dtype = *parsed;
    }
    std::vector<int> meta = {find(st, w + ".absmax"), find(st, w + ".quant_map"),
                             find(st, w + ".nested_absmax"), find(st, w + ".nested_quant_map"), state_i};
    add(w, wi, meta, shape, dtype, "bitsandbytes " + type, 4);
  }

  void bnb8(int scb_i) {
    const Tensor& scb = at(scb_i);
    if (scb.dtype != DType::Float32 || scb.shape.size() != 1) return;
    std::string p = scb.name.substr(0, scb.name.size() - std::string("SCB").size());
    int wi = find(scb, p + "weight", DType::Int8, 2);
    if (wi < 0 || at(wi).shape[0] != scb.shape[0]) return;
    add(p + "weight", wi, {scb_i, find(scb, p + "weight_format")}, at(wi).shape, DType::Float16,
        "bitsandbytes int8", 8);
  }

  void compressed(int pi) {
    const Tensor& packed = at(pi);
    if (packed.dtype != DType::Int32 || packed.shape.size() != 2) return;
    std::string p = packed.name.substr(0, packed.name.size() - std::string("weight_packed").size());
    int si = find(packed, p + "weight_scale");
    int shi = find(packed, p + "weight_shape");
    int64_t out = packed.shape[0], cols = packed.shape[1];
    DType dtype = si >= 0 && dtype_is_floating(at(si).dtype) ? at(si).dtype : DType::Float16;
    std::vector<int> meta = {si, find(packed, p + "weight_zero_point"), find(packed, p + "weight_g_idx"), shi};
    std::optional<std::vector<int64_t>> shape = shi >= 0 ? read_shape(at(shi)) : std::nullopt;
    if (shape && shape->size() == 2 && (*shape)[0] == out) {
      int64_t in = (*shape)[1];
      for (int bits : {4, 8, 2}) {  // the width whose packing gives the stored columns
        if (in > kMaxDim || (in * bits + 31) / 32 != cols) continue;
        add(p + "weight", pi, meta, *shape, dtype, "compressed-tensors pack-quantized", bits);
        return;
      }
      return;
    }
    // No readable original shape: 4-bit (the scheme's common case), in = cols * 8.
    if (cols > kMaxDim / 8) return;
    add(p + "weight", pi, meta, {out, cols * 8}, dtype,
        "compressed-tensors pack-quantized (shape assumed from 4-bit packing)", 4);
  }

  std::optional<std::vector<int64_t>> read_shape(const Tensor& t) const {
    if ((t.dtype != DType::Int64 && t.dtype != DType::Int32) || t.shape.size() != 1 || t.numel > 8)
      return std::nullopt;
    std::optional<std::string> bytes = small_data(t);
    if (!bytes) return std::nullopt;
    std::vector<int64_t> v;
    size_t size = dtype_size(t.dtype);
    for (size_t i = 0; i + size <= bytes->size(); i += size) {
      uint64_t x = 0;
      for (size_t b = 0; b < size; ++b) x |= uint64_t{static_cast<unsigned char>((*bytes)[i + b])} << (8 * b);
      int64_t d = size == 4 ? static_cast<int64_t>(static_cast<int32_t>(x)) : static_cast<int64_t>(x);
      v.push_back(d);
    }
    return v;
  }

  void mxfp4(int bi) {
    const Tensor& b = at(bi);
    if (b.dtype != DType::UInt8 || b.shape.size() < 3 || b.shape.back() != 16) return;
    std::string p = b.name.substr(0, b.name.size() - std::string("_blocks").size());
    int si = find(b, p + "_scales", DType::UInt8, b.shape.size() - 1);
    if (si < 0) return;
    std::vector<int64_t> prefix(b.shape.begin(), b.shape.end() - 1);
    if (at(si).shape != prefix) return;
    int64_t groups = prefix.back();
    if (groups > kMaxDim / 32) return;
    std::vector<int64_t> shape(prefix.begin(), prefix.end() - 1);  // [..., rows]
    int64_t rows = shape.back();
    shape.back() = groups * 32;
    shape.push_back(rows);  // [..., groups * 32, rows]
    add(p, bi, {si}, shape, DType::BFloat16, "mxfp4", 4);
  }

  Checkpoint& c_;
  const ByteSource& src_;
  std::map<std::string, int> index_;
};

}  // namespace

void recognise_quant_layouts(Checkpoint& c, const ByteSource& src) { Layouts(c, src).run(); }

}  // namespace ptscope
