// fixtures/arch/shapes/<model>.json as a Checkpoint: the real model's
// names, shapes, roles and ties, without data.
#pragma once

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "ptscope/checkpoint.h"

namespace ptscope {

inline nlohmann::json read_fixture_json(const std::string& rel) {
  std::ifstream in(std::string(PTSCOPE_SOURCE_DIR) + "/" + rel);
  return nlohmann::json::parse(in);
}

// A contiguous tensor with no data; a storage of its own unless it views
// `storage`, another tensor's.
inline Tensor& add_tensor(Checkpoint& c, const std::string& name, const std::vector<int64_t>& shape, Role role,
                          int storage = -1) {
  Tensor t;
  t.name = name;
  t.shape = shape;
  t.numel = 1;
  t.stride.assign(shape.size(), 0);
  for (size_t i = shape.size(); i-- > 0;) {
    t.stride[i] = static_cast<int64_t>(t.numel);
    t.numel *= static_cast<uint64_t>(shape[i]);
  }
  t.role = role;
  t.storage = storage;
  if (storage < 0) {
    t.storage = static_cast<int>(c.storages.size());
    c.storages.push_back({name, t.dtype, t.nbytes(), std::nullopt, "cpu"});
  }
  c.tensors.push_back(std::move(t));
  return c.tensors.back();
}

inline Checkpoint checkpoint_from_shapes(const nlohmann::json& model) {
  Checkpoint c;
  c.roles_known = true;
  std::map<std::string, int> storage_of;
  for (const auto& row : model["tensors"]) {
    const Tensor& t = add_tensor(c, row[0], row[1].get<std::vector<int64_t>>(),
                                 row[2] == "parameter" ? Role::Parameter : Role::Buffer,
                                 row[3].is_null() ? -1 : storage_of.at(row[3]));
    storage_of[t.name] = t.storage;
  }
  return c;
}

inline Checkpoint model_from_shapes(const std::string& model) {
  return checkpoint_from_shapes(read_fixture_json("fixtures/arch/shapes/" + model + ".json"));
}

}  // namespace ptscope
