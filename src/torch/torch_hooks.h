// What torch puts inside its pickles: persistent ids naming storages, and
// calls to torch._utils rebuild functions that make tensors over them. The
// hooks record these in tables instead of building anything.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ptscope/checkpoint.h"
#include "flat_set.h"
#include "pickle.h"
#include "keyed_hash.h"

namespace ptscope {

struct StorageDecl {
  std::string key;
  DType dtype = DType::UInt8;
  uint64_t numel = 0;      // elements, as the persistent id declares
  std::string location;
  uint64_t at = 0;         // pickle offset of the declaration
};

// A storage as a tensor sees it: legacy files can hand out views that start
// part-way into a root storage.
struct StorageRef {
  int storage = -1;
  uint64_t offset = 0;     // elements into the root storage
};

class TorchHooks : public PickleHooks {
 public:
  enum class Flavor { Zip, Legacy };
  explicit TorchHooks(Flavor flavor)
      : flavor_(flavor), by_key_(KeyOf{&storages}, KeyOf{&storages}) {}
  // The key index looks keys up in `storages`: the hooks stay where made.
  TorchHooks(const TorchHooks&) = delete;
  TorchHooks& operator=(const TorchHooks&) = delete;

  Value* persistent_load(Pickle& p, Value* pid) override;
  Value* call(Pickle& p, Value* callable, Value* args) override;

  std::vector<StorageDecl> storages;
  std::vector<StorageRef> refs;  // what each Storage value stands for; emptied by parsed()
  std::vector<Tensor> tensors;  // name, group and role are filled in later; emptied once walked

  // Room for n tensors and storages, when the container tells how many to
  // expect: the tables then never double, which was their peak.
  void expect(size_t n);

  // The pickle is parsed: no storage is declared and no tensor rebuilt any
  // more, so the references go and the tables give back their spare
  // capacity before the walk, when memory peaks. The key index stays: it
  // is 5 bytes a storage.
  void parsed();

  // The storage declared under `key`, or -1.
  int storage_index(std::string_view key) const {
    const uint32_t* i = by_key_.find(key);
    return i ? static_cast<int>(*i) : -1;
  }

 private:
  Value* make_tensor(Pickle& p, Value* args, size_t size_at, const Value* dtype_arg,
                     uint64_t at);
  Value* rebuild_parameter(Pickle& p, Value* args);
  Value* rebuild_qtensor(Pickle& p, Value* args, uint64_t at);
  Value* rebuild_sparse(Pickle& p, Value* args, uint64_t at);
  int declare_storage(const std::string& key, DType dtype, uint64_t numel,
                      const std::string& location, uint64_t at);

  std::optional<DType> storage_dtype(const Value* type);

  Flavor flavor_;
  // storages by key: indices into `storages`, hashed by their keys, which
  // come from the file.
  struct KeyOf {
    const std::vector<StorageDecl>* decls;
    std::string_view key(uint32_t i) const { return (*decls)[i].key; }
    size_t operator()(uint32_t i) const { return KeyedHash()(key(i)); }
    size_t operator()(std::string_view k) const { return KeyedHash()(k); }
    bool operator()(uint32_t i, uint32_t j) const { return key(i) == key(j); }
    bool operator()(uint32_t i, std::string_view k) const { return key(i) == k; }
  };
  FlatSet<uint32_t, KeyOf, KeyOf> by_key_;
  // The last storage class named and its dtype: a checkpoint's storages
  // are mostly of one or two classes, each looked up by name otherwise.
  std::string last_class_;
  DType last_dtype_ = DType::UInt8;
  int rebuild_nesting_ = 0;  // _rebuild_from_type_v2 calls being unwrapped
};

}  // namespace ptscope
