#include "torch_hooks.h"

#include "tensor_layout.h"

#include <map>

#include "ptscope/error.h"
#include "ptscope/limits.h"

namespace ptscope {
namespace {

constexpr uint64_t kMaxNumel = uint64_t{1} << 62;

const Value* arg(const Value* args, size_t i) {
  return args && args->kind == Kind::Tuple && i < args->items.size() ? args->items[i]
                                                                      : nullptr;
}

int64_t need_int(const Value* v, const char* what, uint64_t at) {
  if (!v || v->kind != Kind::Int || !v->s.empty())
    throw Error(std::string("tensor ") + what + " is not an integer", at);
  return v->i;
}

std::vector<int64_t> need_ints(const Value* v, const char* what, uint64_t at) {
  if (!v || (v->kind != Kind::Tuple && v->kind != Kind::List))
    throw Error(std::string("tensor ") + what + " is not a tuple", at);
  if (v->items.size() > limits::kMaxTensorDims)
    throw Error(std::string("tensor ") + what + " has " + std::to_string(v->items.size()) +
                    " dimensions, more than " + std::to_string(limits::kMaxTensorDims),
                at);
  std::vector<int64_t> out;
  out.reserve(v->items.size());
  for (const Value* x : v->items) out.push_back(need_int(x, what, at));
  return out;
}

std::string short_name(const std::string& global, const char* module) {
  std::string prefix = std::string(module) + ".";
  return global.compare(0, prefix.size(), prefix) == 0 ? global.substr(prefix.size()) : "";
}

}  // namespace

int TorchHooks::declare_storage(const std::string& key, DType dtype, uint64_t numel,
                                const std::string& location, uint64_t at) {
  if (const uint32_t* seen = by_key_.find(std::string_view(key))) {
    const StorageDecl& s = storages[*seen];
    if (s.dtype != dtype || s.numel != numel)
      throw Error("storage '" + key + "' is declared twice with different types or sizes",
                  at);
    return static_cast<int>(*seen);
  }
  // Bounded in bytes, so numel * itemsize cannot overflow wherever it is used.
  if (numel > kMaxNumel / dtype_size(dtype))
    throw Error("storage '" + key + "' declares an absurd size", at);
  storages.push_back({key, dtype, numel, location, at});
  by_key_.insert(static_cast<uint32_t>(storages.size() - 1));
  return static_cast<int>(storages.size() - 1);
}

// The dtype of a storage class, nullopt when it is none torch defines.
std::optional<DType> TorchHooks::storage_dtype(const Value* type) {
  if (!last_class_.empty() && type->s == last_class_) return last_dtype_;
  std::string cls = short_name(type->s, "torch");
  std::optional<DType> dtype = dtype_from_storage_class(cls);
  if (!dtype && (cls == "UntypedStorage" || cls == "storage.UntypedStorage" ||
                 type->s == "torch.storage.UntypedStorage"))
    dtype = DType::UInt8;
  if (dtype) {
    last_class_ = type->s;
    last_dtype_ = *dtype;
  }
  return dtype;
}

void TorchHooks::expect(size_t n) {
  tensors.reserve(n);
  storages.reserve(n);
  by_key_.reserve(n);
  refs.reserve(n);
}

void TorchHooks::parsed() {
  std::vector<StorageRef>().swap(refs);  // only rebuild calls read them
  storages.shrink_to_fit();
  tensors.shrink_to_fit();
}

// Zip:    ('storage', torch.FloatStorage, key, location, numel)
// Legacy: ('storage', torch.FloatStorage, root_key, location, root_numel,
//          None | (view_key, view_offset, view_numel))
//         ('module', cls, source_file, source)  -- whole-module pickles
Value* TorchHooks::persistent_load(Pickle& p, Value* pid) {
  uint64_t at = pid->offset;
  if (pid->kind != Kind::Tuple || pid->items.empty() || pid->items[0]->kind != Kind::Str)
    throw Error("persistent id is not a ('storage', ...) tuple", at);
  const std::string& tag = pid->items[0]->s;
  if (tag == "module" && flavor_ == Flavor::Legacy && pid->items.size() >= 2)
    return pid->items[1];
  if (tag != "storage" || pid->items.size() < 5)
    throw Error("persistent id '" + tag + "' is not a storage reference", at);
  const Value* type = pid->items[1];
  const Value* key = pid->items[2];
  const Value* location = pid->items[3];
  if (type->kind != Kind::Global || key->kind != Kind::Str || location->kind != Kind::Str)
    throw Error("storage reference has the wrong field types", at);
  std::optional<DType> dtype = storage_dtype(type);
  if (!dtype) throw Error("unknown storage type '" + type->s + "'", at);
  int64_t numel = need_int(pid->items[4], "storage size", at);
  if (numel < 0) throw Error("storage '" + key->s + "' has a negative size", at);
  int index = declare_storage(key->s, *dtype, static_cast<uint64_t>(numel), location->s, at);

  StorageRef ref{index, 0};
  const Value* view = pid->items.size() > 5 ? pid->items[5] : nullptr;
  if (view && view->kind == Kind::Tuple && view->items.size() == 3) {
    int64_t off = need_int(view->items[1], "storage view offset", at);
    int64_t len = need_int(view->items[2], "storage view size", at);
    if (off < 0 || len < 0 || static_cast<uint64_t>(off) + static_cast<uint64_t>(len) >
                                  static_cast<uint64_t>(numel))
      throw Error("storage view lies outside storage '" + key->s + "'", at);
    ref.offset = static_cast<uint64_t>(off);
  }
  refs.push_back(ref);
  Value* v = p.make(Kind::Storage, at);
  v->i = static_cast<int64_t>(refs.size() - 1);
  return v;
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, ...)
// _rebuild_qtensor (storage, offset, size, stride, qparams, requires_grad, ...)
// _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype, ...)
Value* TorchHooks::make_tensor(Pickle& p, Value* args, size_t grad_at,
                               const Value* dtype_arg, uint64_t at) {
  const Value* storage = arg(args, 0);
  if (!storage || storage->kind != Kind::Storage)
    throw Error("tensor is not built over a storage", at);
  const StorageRef& ref = refs[static_cast<size_t>(storage->i)];
  const StorageDecl& decl = storages[static_cast<size_t>(ref.storage)];

  Tensor t;
  t.storage = ref.storage;
  t.dtype = decl.dtype;
  if (dtype_arg) {
    if (dtype_arg->kind != Kind::Global) throw Error("tensor dtype is not a torch dtype", at);
    auto d = dtype_from_torch_name(short_name(dtype_arg->s, "torch"));
    if (!d) throw Error("unknown tensor dtype '" + dtype_arg->s + "'", at);
    t.dtype = *d;
  }
  int64_t off = need_int(arg(args, 1), "storage offset", at);
  t.shape = need_ints(arg(args, 2), "size", at);
  t.stride = need_ints(arg(args, 3), "stride", at);
  if (off < 0) throw Error("tensor has a negative storage offset", at);
  if (t.shape.size() != t.stride.size())
    throw Error("tensor size and stride have different lengths", at);
  t.storage_offset = ref.offset + static_cast<uint64_t>(off);

  // numel, and the furthest element the view touches, without overflow.
  TensorLayout layout = tensor_layout(t.shape, t.stride, kMaxNumel);
  switch (layout.problem) {
    case TensorLayout::Problem::None: break;
    case TensorLayout::Problem::Negative: throw Error("tensor has a negative size or stride", at);
    case TensorLayout::Problem::NumelOverflow: throw Error("tensor numel overflows", at);
    case TensorLayout::Problem::ExtentOverflow: throw Error("tensor extent overflows", at);
  }
  uint64_t numel = layout.numel, extent = layout.extent;
  if (numel > 0) {
    // In elements of the tensor's dtype: offset + extent may be near 2**64,
    // so it is never multiplied. The storage's bytes are below 2**62.
    if (t.storage_offset + extent > dtype_size(decl.dtype) * decl.numel / dtype_size(t.dtype))
      throw Error("tensor reaches past the end of storage '" + decl.key + "'", at);
  }
  t.numel = numel;
  const Value* grad = arg(args, grad_at);
  t.requires_grad = grad && grad->kind == Kind::Bool && grad->b;
  t.pickle_offset = at;
  tensors.push_back(std::move(t));
  Value* v = p.make(Kind::Tensor, at);
  v->i = static_cast<int64_t>(tensors.size() - 1);
  return v;
}

// _rebuild_parameter(data, requires_grad, hooks[, state])
Value* TorchHooks::rebuild_parameter(Pickle& p, Value* args) {
  const Value* data = arg(args, 0);
  if (!data || data->kind != Kind::Tensor) return nullptr;  // stays opaque
  Tensor t = tensors[static_cast<size_t>(data->i)];
  t.parameter_object = true;
  const Value* grad = arg(args, 1);
  t.requires_grad = grad && grad->kind == Kind::Bool && grad->b;
  tensors.push_back(std::move(t));
  Value* v = p.make(Kind::Tensor, data->offset);
  v->i = static_cast<int64_t>(tensors.size() - 1);
  return v;
}

// _rebuild_qtensor(storage, offset, size, stride, qparams, requires_grad, hooks)
// with qparams (torch.per_tensor_affine, scale, zero_point) or
// (torch.per_channel_affine[_float_qparams], scales, zero_points, axis)
// (torch/_tensor.py, _reduce_ex_internal). Per-channel scales and zero
// points are tensors of their own: the qtensor's Value carries them in
// `items`, each a Tensor Value whose `s` is the name torch's accessor gives
// it, so the state walk can name them after the qtensor.
Value* TorchHooks::rebuild_qtensor(Pickle& p, Value* args, uint64_t at) {
  Value* v = make_tensor(p, args, 5, nullptr, at);
  const Tensor& t = tensors[static_cast<size_t>(v->i)];
  if (t.dtype != DType::QInt8 && t.dtype != DType::QUInt8 && t.dtype != DType::QInt32 &&
      t.dtype != DType::QUInt4x2 && t.dtype != DType::QUInt2x4)
    throw Error("quantized tensor is not built over a quantized storage", at);
  const Value* q = arg(args, 4);
  if (!q || q->kind != Kind::Tuple || q->items.empty() || q->items[0]->kind != Kind::Global)
    throw Error("quantized tensor has no quantization scheme", at);
  std::string scheme = short_name(q->items[0]->s, "torch");
  if (scheme == "per_tensor_affine") {
    v->s = "per-tensor";
  } else if (scheme == "per_channel_affine" || scheme == "per_channel_affine_float_qparams") {
    v->s = "per-channel";
    static const char* kNames[] = {"q_per_channel_scales", "q_per_channel_zero_points"};
    for (size_t i = 0; i < 2; ++i) {
      const Value* m = arg(q, i + 1);
      if (!m || m->kind != Kind::Tensor)
        throw Error("per-channel quantized tensor has no " + std::string(kNames[i]) +
                        " tensor",
                    at);
      Value* meta = p.make(Kind::Tensor, m->offset);
      meta->i = m->i;
      meta->s = kNames[i];
      v->items.push_back(meta);
      Pickle::hold(meta);
    }
  } else {
    throw Error("unknown quantization scheme '" + q->items[0]->s + "'", at);
  }
  return v;
}

// 1.13: _rebuild_sparse_tensor(torch.sparse_coo, (indices, values, size))
//       _rebuild_sparse_csr_tensor(torch.sparse_csr, (crow, col, values, size))
// 2.x:  _rebuild_sparse_tensor(layout, data) for every sparse layout; COO may
//       add is_coalesced: (indices, values, size[, is_coalesced]); CSR, CSC,
//       BSR, BSC: (compressed_indices, plain_indices, values, size).
// One entry with the dense size and numel; the component tensors, which
// hold the file's bytes, become its parts.
Value* TorchHooks::rebuild_sparse(Pickle& p, Value* args, uint64_t at) {
  static const std::map<std::string, Layout> kLayouts = {
      {"torch.sparse_coo", Layout::SparseCoo}, {"torch.sparse_csr", Layout::SparseCsr},
      {"torch.sparse_csc", Layout::SparseCsc}, {"torch.sparse_bsr", Layout::SparseBsr},
      {"torch.sparse_bsc", Layout::SparseBsc}};
  // torch.save pickles a layout as torch.serialization._get_layout(
  // 'torch.sparse_coo'); a plain GLOBAL torch.sparse_coo is accepted too.
  const Value* layout = arg(args, 0);
  const Value* data = arg(args, 1);
  if (layout && layout->kind == Kind::Object && layout->callable &&
      layout->callable->s == "torch.serialization._get_layout")
    layout = arg(layout->args, 0);
  if (!layout || (layout->kind != Kind::Global && layout->kind != Kind::Str) ||
      !kLayouts.count(layout->s))
    throw Error("sparse tensor layout is not a torch sparse layout", at);
  Tensor t;
  t.layout = kLayouts.at(layout->s);
  bool coo = t.layout == Layout::SparseCoo;
  size_t n = data && data->kind == Kind::Tuple ? data->items.size() : 0;
  if (coo ? n != 3 && n != 4 : n != 4)
    throw Error(std::string("sparse tensor data is not a tuple of ") +
                    (coo ? "(indices, values, size[, is_coalesced])"
                         : "(compressed_indices, plain_indices, values, size)"),
                at);
  bool by_column = t.layout == Layout::SparseCsc || t.layout == Layout::SparseBsc;
  std::vector<const char*> names = coo ? std::vector<const char*>{"indices", "values"}
                                   : by_column ? std::vector<const char*>{"ccol_indices", "row_indices", "values"}
                                               : std::vector<const char*>{"crow_indices", "col_indices", "values"};
  size_t nparts = names.size();
  for (size_t i = 0; i < nparts; ++i) {
    const Value* part = data->items[i];
    // Strided only: parts that were sparse themselves could, shared
    // through the memo, nest exponentially many copies.
    if (part->kind != Kind::Tensor ||
        tensors[static_cast<size_t>(part->i)].layout != Layout::Strided)
      throw Error(std::string("sparse tensor ") + names[i] + " is not a strided tensor", at);
    t.parts.push_back(tensors[static_cast<size_t>(part->i)]);
    t.parts.back().name = names[i];
  }
  // torch.Size(...) pickles as a call of torch.Size on one tuple.
  const Value* size = data->items[nparts];
  if (size->kind == Kind::Object && size->callable && size->callable->s == "torch.Size")
    size = arg(size->args, 0);
  t.shape = need_ints(size, "size", at);
  for (int64_t d : t.shape)
    if (d < 0) throw Error("sparse tensor has a negative size", at);
  // Zero strides: only numel is wanted, and no stride product can overflow.
  TensorLayout dense =
      tensor_layout(t.shape, std::vector<int64_t>(t.shape.size(), 0), kMaxNumel);
  if (dense.problem != TensorLayout::Problem::None)
    throw Error("sparse tensor numel overflows", at);
  const Tensor& values = t.parts.back();
  t.numel = dense.numel;
  t.dtype = values.dtype;
  // COO values are [nnz, dense dims...]; compressed ones [nnz] or, blocked,
  // [nnz, block rows, block cols]: nnz counts blocks, as t._nnz() does.
  t.nnz = values.shape.empty() ? 0 : static_cast<uint64_t>(values.shape[0]);
  t.requires_grad = values.requires_grad;
  t.pickle_offset = at;
  tensors.push_back(std::move(t));
  Value* v = p.make(Kind::Tensor, at);
  v->i = static_cast<int64_t>(tensors.size() - 1);
  return v;
}

Value* TorchHooks::call(Pickle& p, Value* callable, Value* args) {
  if (callable->kind != Kind::Global) return nullptr;
  const std::string& f = callable->s;
  // Every name below is in torch._utils or torch._tensor: most calls
  // (OrderedDict, a module's classes) are decided by this one comparison.
  if (f.compare(0, 7, "torch._") != 0) return nullptr;
  uint64_t at = callable->offset;
  if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor")
    return make_tensor(p, args, 4, nullptr, at);
  if (f == "torch._utils._rebuild_tensor_v3")
    return make_tensor(p, args, 4, arg(args, 6), at);
  if (f == "torch._utils._rebuild_qtensor") return rebuild_qtensor(p, args, at);
  if (f == "torch._utils._rebuild_sparse_tensor" || f == "torch._utils._rebuild_sparse_csr_tensor")
    return rebuild_sparse(p, args, at);
  if (f == "torch._utils._rebuild_parameter" ||
      f == "torch._utils._rebuild_parameter_with_state")
    return rebuild_parameter(p, args);
  // Tensor subclasses: (func, new_type, args, state); the data is func(args).
  // func may be _rebuild_from_type_v2 again (a subclass of a subclass), and
  // APPEND can make args contain itself: unwrapped a bounded number of times.
  if (f == "torch._tensor._rebuild_from_type_v2" || f == "torch._tensor._rebuild_from_type") {
    if (rebuild_nesting_ >= limits::kMaxRebuildNesting)
      throw Error("_rebuild_from_type_v2 nested more than " +
                      std::to_string(limits::kMaxRebuildNesting) + " deep",
                  at);
    Value* func = const_cast<Value*>(arg(args, 0));
    Value* inner = const_cast<Value*>(arg(args, 2));
    if (!func || !inner || func->kind != Kind::Global) return nullptr;
    ++rebuild_nesting_;
    Value* v = nullptr;
    try {
      v = call(p, func, inner);
    } catch (...) {
      --rebuild_nesting_;
      throw;
    }
    --rebuild_nesting_;
    return v;
  }
  return nullptr;
}

}  // namespace ptscope
