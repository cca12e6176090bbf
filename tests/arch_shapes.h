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

inline Checkpoint checkpoint_from_shapes(const nlohmann::json& model) {
  Checkpoint c;
  c.roles_known = true;
  std::map<std::string, int> storage_of;
  for (const auto& row : model["tensors"]) {
    Tensor t;
    t.name = row[0];
    t.shape = row[1].get<std::vector<int64_t>>();
    t.numel = 1;
    t.stride.assign(t.shape.size(), 0);
    for (size_t i = t.shape.size(); i-- > 0;) {
      t.stride[i] = static_cast<int64_t>(t.numel);
      t.numel *= static_cast<uint64_t>(t.shape[i]);
    }
    t.role = row[2] == "parameter" ? Role::Parameter : Role::Buffer;
    if (row[3].is_null()) {
      t.storage = static_cast<int>(c.storages.size());
      c.storages.push_back({t.name, t.dtype, t.nbytes(), std::nullopt, "cpu"});
    } else {
      t.storage = storage_of.at(row[3]);
    }
    storage_of[t.name] = t.storage;
    c.tensors.push_back(std::move(t));
  }
  return c;
}

inline Checkpoint model_from_shapes(const std::string& model) {
  return checkpoint_from_shapes(read_fixture_json("fixtures/arch/shapes/" + model + ".json"));
}

}  // namespace ptscope
