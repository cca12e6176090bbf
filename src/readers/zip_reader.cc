// torch.save's zip format (torch >= 1.6) and TorchScript archives share one
// container: the object graph pickled in data.pkl, one record data/KEY per
// storage, small metadata records. TorchScript adds code/ (the module
// classes, deflated), debug pickles and constants.pkl with constants/KEY.
#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

#include "affixes.h"
#include "ptscope/error.h"
#include "reader.h"
#include "zip.h"
#include "torch_pickle.h"
#include "torchscript_code.h"
#include "region_labels.h"
#include "zip_share.h"

namespace ptscope {
namespace {

constexpr uint64_t kMaxMetadataRecord = 256;


bool is_metadata_record(std::string_view rel) {
  return rel == "version" || rel == ".data/version" || rel == "byteorder" ||
         rel == ".format_version" || rel == ".storage_alignment" ||
         rel == ".data/serialization_id";
}

// Stored records are parsed where they lie, so offsets in errors are file
// offsets; deflated ones are inflated first and say so.
std::unique_ptr<TorchPickle> parse_record(const ByteSource& src, const ZipEntry& e,
                                          const std::string& rel, const ClassDecls* decls,
                                          InflateBudget& budget, size_t expected_tensors = 0) {
  if (e.method == 0)
    return parse_torch_pickle(src, e.data_offset, e.data_offset + e.size, rel,
                              TorchHooks::Flavor::Zip, decls, expected_tensors);
  MemorySource inflated(read_zip_record(src, e, limits::kMaxPickleRecord, budget));
  return parse_torch_pickle(inflated, 0, inflated.size(), rel + " (inflated)",
                            TorchHooks::Flavor::Zip, decls, expected_tensors);
}

class ZipReader : public Reader {
 public:
  bool accepts(const ByteSource& src) const override { return looks_like_zip(src); }

  Checkpoint read(const ByteSource& src, const RootVisitor& visit, ZipShare* share) const override {
    std::optional<ZipArchive> scanned = share ? share->take_archive() : std::nullopt;
    ZipArchive zip = scanned ? std::move(*scanned) : read_zip(src);
    const ZipEntry* pkl = zip.find("data.pkl");
    if (!pkl) throw Error("zip archive has no data.pkl record: not a torch checkpoint", 0);
    bool script = zip.find("constants.pkl") != nullptr;
    InflateBudget budget(src.size());
    ClassDecls decls;
    for (const ZipEntry& e : zip.entries) {
      std::string module = code_module_name(std::string(zip.rel(e)));
      if (!module.empty()) {
        script = true;
        parse_class_decls(module, read_zip_record(src, e, limits::kMaxCodeRecord, budget), decls);
      }
    }

    Checkpoint c;
    c.format = script ? Format::TorchScript : Format::TorchZip;
    auto state = share ? share->take_pickle(zip, *pkl) : nullptr;
    if (state) walk_torch_pickle(*state, pickle_begin(*pkl), script ? &decls : nullptr);
    else state = parse_record(src, *pkl, "data.pkl", script ? &decls : nullptr, budget,
                              expected_tensors(zip, *pkl));
    if (visit) visit(*state->pickle->root());
    state->pickle.reset();  // the walk named what the graph held
    std::vector<int> storage_of(zip.entries.size(), -1);  // per record
    std::vector<int> index = add_storages(zip, state->hooks, "data/", c, storage_of);
    adopt_state(*state, index, c);
    state.reset();  // the storage declarations: the checkpoint has what it needs

    if (const ZipEntry* consts = script ? zip.find("constants.pkl") : nullptr) {
      auto k = parse_record(src, *consts, "constants.pkl", nullptr, budget);
      std::vector<int> none(k->hooks.storages.size(), -1);
      adopt_tensors(*k, none, c.constants);
    }
    for (const ZipEntry& e : zip.entries) {
      std::string_view rel = zip.rel(e);
      if (is_metadata_record(rel) && e.size <= kMaxMetadataRecord && e.method == 0)
        c.metadata[std::string(rel)] = trim(src.read_string(e.data_offset, e.size, "metadata record"));
    }
    // A record's storage is the one its name finds (the first record of
    // that name, as add_storages found it).
    std::vector<uint32_t> first = zip.first_of_names();
    add_zip_regions(zip, c.regions, [&](const ZipEntry& e) {
      size_t i = static_cast<size_t>(&e - zip.entries.data());
      return label(zip.rel(e), storage_of[first[i]]);
    });
    return c;
  }

 private:
  // One Checkpoint storage per declared storage, checked against its record.
  // storage_of: per record, the storage it holds (or -1).
  static std::vector<int> add_storages(const ZipArchive& zip, const TorchHooks& hooks,
                                       std::string_view dir, Checkpoint& c,
                                       std::vector<int>& storage_of) {
    // Each storage's record is the first in central order named dir + key,
    // as find() gives it: the records are walked once and each asks the
    // hooks' key index, instead of a search of the name index per storage.
    std::vector<const ZipEntry*> record(hooks.storages.size(), nullptr);
    for (const ZipEntry& e : zip.entries) {
      std::string_view rel = zip.rel(e);
      if (!starts_with(rel, dir)) continue;
      int s = hooks.storage_index(rel.substr(dir.size()));
      if (s >= 0 && !record[static_cast<size_t>(s)]) record[static_cast<size_t>(s)] = &e;
    }
    std::vector<int> index;
    index.reserve(hooks.storages.size());
    c.storages.reserve(c.storages.size() + hooks.storages.size());
    for (const StorageDecl& d : hooks.storages) {
      const ZipEntry* rec = record[index.size()];
      if (!rec)
        throw Error("storage '" + d.key + "' has no record " + std::string(dir) + d.key, d.at);
      uint64_t nbytes = d.numel * dtype_size(d.dtype);
      if (rec->size < nbytes)
        throw Error("storage '" + d.key + "' declares " + std::to_string(nbytes) +
                        " bytes but record " + std::string(dir) + d.key + " holds " +
                        std::to_string(rec->size),
                    rec->header_offset);
      Storage s;
      s.key = d.key;
      s.dtype = d.dtype;
      s.nbytes = nbytes;
      s.file_offset = rec->data_offset;
      s.location = d.location;
      c.storages.push_back(std::move(s));
      index.push_back(static_cast<int>(c.storages.size() - 1));
      storage_of[static_cast<size_t>(rec - zip.entries.data())] = index.back();
    }
    return index;
  }

  static Region label(std::string_view rel, int storage) {
    if (storage >= 0) return {0, 0, label::kTensorData, storage};
    if (starts_with(rel, "data/")) return {0, 0, label::kUnusedStorage, -1};
    if (rel == "data.pkl") return {0, 0, label::kPickle, -1};
    if (rel == "constants.pkl" || starts_with(rel, "constants/"))
      return {0, 0, label::kTorchScriptConstants, -1};
    if (starts_with(rel, "code/"))
      return {0, 0, ends_with(rel, ".debug_pkl") ? label::kTorchScriptDebug : label::kTorchScriptCode,
              -1};
    if (is_metadata_record(rel)) return {0, 0, label::kArchiveMetadata, -1};
    if (starts_with(rel, "extra/")) return {0, 0, label::kExtraFiles, -1};
    return {0, 0, label::kOtherRecords, -1};
  }

  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
    for (char& ch : s)
      if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
    return s;
  }
};

}  // namespace

std::unique_ptr<Reader> make_zip_reader() { return std::make_unique<ZipReader>(); }

}  // namespace ptscope
