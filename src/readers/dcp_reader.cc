// torch.distributed.checkpoint folders, as FileSystemWriter writes them.
// Followed: pytorch/pytorch torch/distributed/checkpoint/metadata.py (commit
// 03e266fa) and filesystem.py (commit 0140b62d, the 2.5 line).
//
//   .metadata       pickle.dump(Metadata) (plain pickle, read with pickle.load):
//     Metadata{state_dict_metadata: {fqn: TensorStorageMetadata | BytesStorageMetadata},
//              planner_data, storage_data: {MetadataIndex: _StorageInfo}}
//     TensorStorageMetadata{properties: TensorProperties (state: its
//       __getstate__ tuple (dtype, layout, requires_grad, memory_format,
//       pin_memory), or a dict with "dtype"), size: torch.Size,
//       chunks: [ChunkStorageMetadata{offsets, sizes}]}
//     MetadataIndex{fqn, offset: torch.Size | None, index}
//     _StorageInfo{relative_path, offset, length}  (filesystem.py)
//   __R_N.distcp    per rank R: Bytes items first (io.BytesIO bytes as is), then
//                   each tensor chunk as a whole torch.save(tensor) zip
//                   (_write_item), at the _StorageInfo's offset and length.
//
// Dataclasses pickle as NEWOBJ (or REDUCE of copyreg._reconstructor) of the
// class plus a BUILD state dict; torch.Size as REDUCE(torch.Size, (tuple,));
// dtypes as GLOBAL torch.float32. Nothing is imported or called: the pickle
// is interpreted by io/pickle.h, each chunk's zip by the zip reader.
#include "dcp_reader.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "byte_source.h"
#include "pickle.h"
#include "ptscope/error.h"
#include "reader.h"
#include "region_labels.h"

namespace ptscope {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxMetadataBytes = 256u << 20;
constexpr size_t kMaxEntries = 1u << 20;
constexpr size_t kMaxChunks = 1u << 22;
constexpr const char* kMod = "torch.distributed.checkpoint.metadata.";

// At the value's byte; a shared value (None, a small int: many bytes make
// it) points at its container's.
[[noreturn]] void fail(const std::string& what, const Value* at = nullptr, const Value* in = nullptr) {
  std::optional<uint64_t> where = at ? at->where() : std::nullopt;
  if (!where && in) where = in->where();
  throw Error(what, where);
}

// The class an Object was made from: NEWOBJ/REDUCE of the class itself, or
// copyreg._reconstructor / copyreg.__newobj__ with the class first.
std::string class_of(const Value* v) {
  if (!v || v->kind != Kind::Object || !v->callable || v->callable->kind != Kind::Global) return "";
  const std::string& c = v->callable->s;
  if ((c == "copyreg._reconstructor" || c == "copyreg.__newobj__") && v->args &&
      v->args->kind == Kind::Tuple && !v->args->items.empty() &&
      v->args->items[0]->kind == Kind::Global)
    return v->args->items[0]->s;
  return c;
}

const Value* expect(const Value* v, const std::string& cls, const std::string& what) {
  if (class_of(v) != cls)
    fail(".metadata: " + what + " is not a " + cls + (v ? "" : " (missing)"), v);
  return v;
}

const Value* field(const Value* obj, const char* name, const std::string& what) {
  const Value* st = obj->state;
  if (!st || st->kind != Kind::Dict) fail(".metadata: " + what + " has no state dict", obj);
  const Value* f = st->get(name);
  if (!f) fail(".metadata: " + what + " has no field '" + name + "'", obj);
  return f;
}

int64_t as_int(const Value* v, const std::string& what) {
  if (!v || v->kind != Kind::Int) fail(".metadata: " + what + " is not an integer", v);
  return v->i;
}

uint64_t as_count(const Value* v, const std::string& what) {
  int64_t i = as_int(v, what);
  if (i < 0) fail(".metadata: " + what + " is negative (" + std::to_string(i) + ")", v);
  return static_cast<uint64_t>(i);
}

// torch.Size(tuple) as REDUCE, or a plain tuple/list of non-negative ints.
std::vector<int64_t> as_size(const Value* v, const std::string& what) {
  const Value* seq = v;
  if (v && v->kind == Kind::Object) {
    if (class_of(v) != "torch.Size" || !v->args || v->args->kind != Kind::Tuple || v->args->items.size() != 1)
      fail(".metadata: " + what + " is not a torch.Size", v);
    seq = v->args->items[0];
  }
  if (!seq || (seq->kind != Kind::Tuple && seq->kind != Kind::List))
    fail(".metadata: " + what + " is not a torch.Size", v);
  if (seq->items.size() > limits::kMaxTensorDims)
    fail(".metadata: " + what + " has more than " + std::to_string(limits::kMaxTensorDims) + " dimensions", v);
  std::vector<int64_t> out;
  for (const Value* d : seq->items) out.push_back(static_cast<int64_t>(as_count(d, what)));
  return out;
}

uint64_t numel_of(const std::vector<int64_t>& size, const std::string& what, const Value* at) {
  uint64_t n = 1;
  for (int64_t d : size) {
    uint64_t u = static_cast<uint64_t>(d);
    if (u && n > (uint64_t{1} << 62) / u) fail(".metadata: " + what + " has too many elements", at);
    n *= u;
  }
  return n;
}

DType dtype_of(const Value* props, const std::string& fqn) {
  const Value* d = nullptr;
  const Value* st = props->state;
  if (st && st->kind == Kind::Dict) d = st->get("dtype");
  else if (st && st->kind == Kind::Tuple && !st->items.empty()) d = st->items[0];
  if (!d || d->kind != Kind::Global || d->s.rfind("torch.", 0) != 0)
    fail(".metadata: tensor '" + fqn + "' properties have no torch dtype", props);
  std::optional<DType> t = dtype_from_torch_name(d->s.substr(6));
  if (!t) fail(".metadata: tensor '" + fqn + "' has unknown dtype " + d->s, d);
  return *t;
}

struct Chunk {
  std::vector<int64_t> offsets, sizes;
};
struct Entry {
  std::string fqn;
  bool bytes = false;
  DType dtype = DType::Float32;
  std::vector<int64_t> size;
  std::vector<Chunk> chunks;
};
struct Item {
  std::string fqn, file;
  std::vector<int64_t> offset;  // empty for Bytes
  bool has_offset = false;
  uint64_t at = 0, length = 0;
};

bool plain_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

std::string join(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

Model read_folder(const fs::path& dir) {
  const std::string meta_path = (dir / ".metadata").string();
  std::unique_ptr<ByteSource> meta_src = open_file(meta_path);
  if (meta_src->size() > kMaxMetadataBytes) fail(".metadata is larger than 256 MiB");
  PickleLimits limits;
  limits.max_values = 8u << 20;
  limits.max_memo = 1u << 21;
  std::unique_ptr<Pickle> pk = Pickle::parse(*meta_src, 0, meta_src->size(), ".metadata", nullptr, limits);

  const Value* root = expect(pk->root(), std::string(kMod) + "Metadata", "the root");
  const Value* sdm = field(root, "state_dict_metadata", "Metadata");
  if (sdm->kind != Kind::Dict) fail(".metadata: state_dict_metadata is not a dict", sdm);
  if (sdm->items.size() / 2 > kMaxEntries) fail(".metadata: more than 1,048,576 entries", sdm);

  std::vector<Entry> entries;
  std::map<std::string, size_t> by_fqn;
  size_t total_chunks = 0;
  for (size_t i = 0; i + 1 < sdm->items.size(); i += 2) {
    const Value* k = sdm->items[i];
    const Value* v = sdm->items[i + 1];
    if (k->kind != Kind::Str) fail(".metadata: a state_dict_metadata key is not a string", k);
    Entry e;
    e.fqn = k->s;
    std::string cls = class_of(v);
    if (cls == std::string(kMod) + "BytesStorageMetadata") {
      e.bytes = true;
    } else if (cls == std::string(kMod) + "TensorStorageMetadata") {
      const std::string what = "tensor '" + e.fqn + "'";
      e.dtype = dtype_of(field(v, "properties", what), e.fqn);
      e.size = as_size(field(v, "size", what), what + " size");
      uint64_t numel = numel_of(e.size, what, v);
      const Value* chunks = field(v, "chunks", what);
      if (chunks->kind != Kind::List && chunks->kind != Kind::Tuple) fail(".metadata: " + what + " chunks is not a list", chunks);
      total_chunks += chunks->items.size();
      if (total_chunks > kMaxChunks) fail(".metadata: more than 4,194,304 chunks", chunks);
      uint64_t sum = 0;
      for (const Value* c : chunks->items) {
        expect(c, std::string(kMod) + "ChunkStorageMetadata", what + " chunk");
        Chunk ch{as_size(field(c, "offsets", what + " chunk"), what + " chunk offsets"),
                 as_size(field(c, "sizes", what + " chunk"), what + " chunk sizes")};
        if (ch.offsets.size() != e.size.size() || ch.sizes.size() != e.size.size())
          fail(".metadata: " + what + " has a chunk of another rank than its size " + join(e.size), c);
        for (size_t d = 0; d < e.size.size(); ++d)
          if (ch.offsets[d] > e.size[d] || ch.sizes[d] > e.size[d] - ch.offsets[d])
            fail(".metadata: " + what + " chunk at " + join(ch.offsets) + " of " + join(ch.sizes) +
                     " runs past its size " + join(e.size), c);
        sum += numel_of(ch.sizes, what + " chunk", c);
        e.chunks.push_back(std::move(ch));
      }
      if (sum != numel)
        fail(".metadata: " + what + " chunks hold " + std::to_string(sum) + " elements, its size " +
                 join(e.size) + " has " + std::to_string(numel), v);
    } else {
      fail(".metadata: entry '" + e.fqn + "' is neither TensorStorageMetadata nor BytesStorageMetadata", v);
    }
    if (!by_fqn.emplace(e.fqn, entries.size()).second) fail(".metadata: entry '" + e.fqn + "' appears twice", k);
    entries.push_back(std::move(e));
  }

  const Value* sd = field(root, "storage_data", "Metadata");
  if (sd->kind != Kind::Dict) fail(".metadata: storage_data is not a dict", sd);
  if (sd->items.size() / 2 > kMaxChunks + kMaxEntries) fail(".metadata: too many storage_data items", sd);
  std::vector<Item> items;
  for (size_t i = 0; i + 1 < sd->items.size(); i += 2) {
    const Value* k = expect(sd->items[i], std::string(kMod) + "MetadataIndex", "a storage_data key");
    const Value* v = expect(sd->items[i + 1], "torch.distributed.checkpoint.filesystem._StorageInfo", "a storage_data value");
    Item it;
    const Value* fqn = field(k, "fqn", "MetadataIndex");
    if (fqn->kind != Kind::Str) fail(".metadata: MetadataIndex fqn is not a string", fqn);
    it.fqn = fqn->s;
    const Value* off = k->state->get("offset");
    if (off && off->kind != Kind::None) {
      it.offset = as_size(off, "MetadataIndex offset of '" + it.fqn + "'");
      it.has_offset = true;
    }
    const Value* rp = field(v, "relative_path", "_StorageInfo");
    if (rp->kind != Kind::Str || !plain_name(rp->s))
      fail(".metadata: _StorageInfo of '" + it.fqn + "' has no plain relative_path", rp);
    it.file = rp->s;
    it.at = as_count(field(v, "offset", "_StorageInfo"), "_StorageInfo offset of '" + it.fqn + "'");
    it.length = as_count(field(v, "length", "_StorageInfo"), "_StorageInfo length of '" + it.fqn + "'");
    items.push_back(std::move(it));
  }

  // Every chunk and Bytes entry has exactly one item.
  std::map<std::pair<std::string, std::vector<int64_t>>, size_t> item_of;
  for (size_t i = 0; i < items.size(); ++i) {
    auto fit = by_fqn.find(items[i].fqn);
    if (fit == by_fqn.end()) fail(".metadata: storage_data names '" + items[i].fqn + "', not in state_dict_metadata");
    if (!item_of.emplace(std::make_pair(items[i].fqn, items[i].offset), i).second)
      fail(".metadata: storage_data has '" + items[i].fqn + "' at " + join(items[i].offset) + " twice");
  }

  Model m;
  m.path = dir.string();
  m.index = IndexCheck{};
  Checkpoint meta;
  meta.path = meta_path;
  meta.format = Format::DistributedCheckpoint;
  meta.file_bytes = meta_src->size();
  meta.roles_known = true;  // a flat fqn -> tensor map, like a state_dict
  meta.globals = pk->globals();
  meta.regions.push_back({0, pk->end(), label::kPickle, -1});

  // Data files in order of first mention; their regions and chunk reads.
  std::vector<std::string> files;
  std::map<std::string, std::vector<std::tuple<uint64_t, uint64_t, size_t, size_t>>> per_file;  // at, len, entry, chunk
  for (size_t ei = 0; ei < entries.size(); ++ei) {
    const Entry& e = entries[ei];
    std::vector<std::vector<int64_t>> keys;
    if (e.bytes) keys.push_back({});
    for (const Chunk& c : e.chunks) keys.push_back(c.offsets);
    for (size_t ci = 0; ci < keys.size(); ++ci) {
      auto f = item_of.find({e.fqn, keys[ci]});
      if (f == item_of.end()) fail(".metadata: '" + e.fqn + "' chunk at " + join(keys[ci]) + " has no storage_data item");
      const Item& it = items[f->second];
      if (!per_file.count(it.file)) files.push_back(it.file);
      per_file[it.file].push_back({it.at, it.length, ei, e.bytes ? SIZE_MAX : ci});
    }
    if (e.bytes) {
      const Item& it = items[item_of.at({e.fqn, {}})];
      meta.metadata["dcp.bytes." + e.fqn] =
          std::to_string(it.length) + " B in " + it.file + " at " + std::to_string(it.at);
    } else {
      Tensor t;
      t.name = e.fqn;
      t.dtype = e.dtype;
      t.shape = e.size;
      t.numel = numel_of(e.size, e.fqn, nullptr);
      t.role = Role::Unknown;
      t.rule = "DCP TensorStorageMetadata";
      meta.tensors.push_back(std::move(t));
    }
  }
  if (items.size() != [&] { size_t n = 0; for (auto& [f, v] : per_file) n += v.size(); return n; }())
    fail(".metadata: storage_data has items no entry uses");
  m.files.push_back(std::move(meta));

  std::unique_ptr<Reader> zip = make_zip_reader();
  std::sort(files.begin(), files.end());
  for (const std::string& name : files) {
    const std::string path = (dir / name).string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) fail(".metadata names data file " + name + ", which is missing");
    std::unique_ptr<ByteSource> src = open_file(path);
    Checkpoint c;
    c.path = path;
    c.format = Format::DistributedCheckpoint;
    c.file_bytes = src->size();
    auto& v = per_file[name];
    std::sort(v.begin(), v.end());
    uint64_t cursor = 0;
    try {
      for (const auto& [at, len, ei, ci] : v) {
        const Entry& e = entries[ei];
        std::string what = "'" + e.fqn + "'" + (e.bytes ? "" : " chunk at " + join(e.chunks[ci].offsets));
        if (at > src->size() || len > src->size() - at)
          fail(what + " lies at " + std::to_string(at) + "+" + std::to_string(len) + ", past the end of the file (" +
               std::to_string(src->size()) + " B)");
        if (at < cursor) fail(what + " overlaps the item before it", nullptr);
        if (at > cursor) c.regions.push_back({cursor, at - cursor, label::kDcpOverhead, -1});
        cursor = at + len;
        if (e.bytes) {
          c.regions.push_back({at, len, label::kDcpBytesEntries, -1});
          continue;
        }
        // torch.save(chunk): a zip with one tensor of the chunk's sizes and dtype.
        SliceSource s(*src, at, len);  // one torch.save zip, read by the zip reader
        if (!zip->accepts(s)) fail(what + " is not a torch.save zip");
        Checkpoint z;
        try {
          z = zip->read(s);
        } catch (const Error& err) {
          fail(what + ": " + err.message());
        }
        const Chunk& ch = e.chunks[ci];
        uint64_t want = numel_of(ch.sizes, what, nullptr);
        if (z.tensors.size() != 1 || z.tensors[0].dtype != e.dtype || z.tensors[0].numel != want)
          fail(what + " holds " + (z.tensors.size() == 1 ? std::to_string(z.tensors[0].numel) + " " +
                                                            dtype_name(z.tensors[0].dtype)
                                                      : std::to_string(z.tensors.size()) + " tensors") +
               ", .metadata says " + std::to_string(want) + " " + dtype_name(e.dtype));
        for (const Region& r : z.regions)  // clipped to the item: the end records run "to end of file"
          if (r.offset < len)
            c.regions.push_back({at + r.offset, std::min(r.size, len - r.offset),
                                 r.storage >= 0 ? label::kTensorData : r.label, -1});
      }
      if (cursor < src->size()) c.regions.push_back({cursor, src->size() - cursor, label::kDcpOverhead, -1});
    } catch (const Error& err) {
      throw Error(err.message(), err.offset()).in_file(path);
    }
    m.files.push_back(std::move(c));
  }
  return m;
}

}  // namespace

bool is_dcp_folder(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / ".metadata", ec);
}

Model load_dcp_folder(const std::string& dir) {
  try {
    return read_folder(dir);
  } catch (const Error& e) {
    if (!e.file().empty()) throw;
    throw e.in_file((fs::path(dir) / ".metadata").string());
  } catch (const std::exception& e) {
    throw Error(std::string("unexpected failure: ") + e.what()).in_file(dir);
  }
}

}  // namespace ptscope
