// torch.save's format before torch 1.6, still written with
// _use_new_zipfile_serialization=False. Five pickles back to back, then the
// raw storages:
//
//   pickle: magic number 0x1950a86a20f9469cfc6c
//   pickle: protocol version 1001
//   pickle: sys_info {protocol_version, little_endian, type_sizes}
//   pickle: the object, storages as persistent ids
//   pickle: list of storage keys, in the order their data follows
//   per key: int64 little-endian element count, then count x itemsize bytes
#include <map>

#include "ptscope/error.h"
#include "pickle.h"
#include "reader.h"
#include "torch_pickle.h"
#include "region_labels.h"

namespace ptscope {
namespace {

const char* kMagic = "0x1950a86a20f9469cfc6c";
constexpr int64_t kProtocolVersion = 1001;

class LegacyReader : public Reader {
 public:
  bool accepts(const ByteSource&) const override { return true; }

  Checkpoint read(const ByteSource& src, const RootVisitor& visit, ZipShare*) const override {
    uint64_t size = src.size();
    if (size == 0) throw Error("file is empty", 0);
    uint8_t first = 0;
    src.read(0, &first, 1, "first byte");
    if (first != 0x80)
      throw Error("not a PyTorch checkpoint: no zip signature, safetensors header or "
                  "pickle protocol marker",
                  0);
    Checkpoint c;
    c.format = Format::TorchLegacy;

    auto magic = Pickle::parse(src, 0, size, "legacy magic number");
    if (magic->root()->kind != Kind::Int || magic->root()->s != kMagic)
      throw Error("legacy magic number is wrong: not a torch.save file", 0);
    auto proto = Pickle::parse(src, magic->end(), size, "legacy protocol version");
    if (proto->root()->kind != Kind::Int || proto->root()->i != kProtocolVersion)
      throw Error("unsupported legacy protocol version", magic->end());
    auto sys = Pickle::parse(src, proto->end(), size, "legacy sys_info");
    if (const Value* le = sys->root()->get("little_endian"); le && le->kind == Kind::Bool)
      c.metadata["byteorder"] = le->b ? "little" : "big";
    c.regions.push_back({0, sys->end(), label::kLegacyHeader, -1});

    uint64_t obj_at = sys->end();
    auto state = parse_torch_pickle(src, obj_at, size, "pickle", TorchHooks::Flavor::Legacy);
    if (visit) visit(*state->pickle->root());
    c.regions.push_back({obj_at, state->pickle->end() - obj_at, label::kPickle, -1});
    auto keys = Pickle::parse(src, state->pickle->end(), size, "legacy storage key list");
    c.regions.push_back({state->pickle->end(), keys->end() - state->pickle->end(),
                         label::kStorageKeyList, -1});
    if (keys->root()->kind != Kind::List)
      throw Error("legacy storage key list is not a list", state->pickle->end());

    std::map<std::string, int> decl_of;
    for (size_t i = 0; i < state->hooks.storages.size(); ++i)
      decl_of[state->hooks.storages[i].key] = static_cast<int>(i);
    std::vector<int> index(state->hooks.storages.size(), -1);
    uint64_t pos = keys->end();
    for (const Value* k : keys->root()->items) {
      if (k->kind != Kind::Str) throw Error("legacy storage key is not a string", k->offset);
      auto it = decl_of.find(k->s);
      if (it == decl_of.end())
        throw Error("storage '" + k->s + "' is listed but no tensor declares it", k->offset);
      const StorageDecl& d = state->hooks.storages[static_cast<size_t>(it->second)];
      uint64_t count = src.read_u64(pos, "legacy storage size");
      if (count < d.numel)
        throw Error("storage '" + d.key + "' holds " + std::to_string(count) +
                        " elements but is declared with " + std::to_string(d.numel),
                    pos);
      uint64_t itemsize = dtype_size(d.dtype);
      if (count > (size - pos - 8) / itemsize)
        throw Error("storage '" + d.key + "' (" + std::to_string(count) +
                        " elements) runs past the end of the file",
                    pos);
      c.regions.push_back({pos, 8, label::kStorageSizeHeaders, -1});
      Storage s;
      s.key = d.key;
      s.dtype = d.dtype;
      s.nbytes = count * itemsize;
      s.file_offset = pos + 8;
      s.location = d.location;
      c.storages.push_back(s);
      index[static_cast<size_t>(it->second)] = static_cast<int>(c.storages.size() - 1);
      c.regions.push_back({pos + 8, s.nbytes, label::kTensorData, index[static_cast<size_t>(it->second)]});
      pos += 8 + s.nbytes;
    }
    for (size_t i = 0; i < index.size(); ++i)
      if (index[i] < 0)
        throw Error("storage '" + state->hooks.storages[i].key + "' has no data in the file",
                    state->hooks.storages[i].at);
    adopt_state(*state, index, c);
    return c;
  }
};

}  // namespace

std::unique_ptr<Reader> make_legacy_reader() { return std::make_unique<LegacyReader>(); }

}  // namespace ptscope
