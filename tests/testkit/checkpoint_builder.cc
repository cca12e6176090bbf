#include "checkpoint_builder.h"

#include <map>

#include "fixture_files.h"
#include "tensor_layout.h"

namespace ptscope::test {

Tensor contiguous_tensor(const std::string& name, const std::vector<int64_t>& shape,
                         DType dtype) {
  Tensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = shape;
  t.stride = contiguous_strides(shape);
  t.numel = 1;
  for (int64_t n : shape) t.numel *= static_cast<uint64_t>(n);
  return t;
}

Tensor& add_tensor(Checkpoint& c, const std::string& name, const std::vector<int64_t>& shape,
                   Role role, int storage) {
  Tensor t = contiguous_tensor(name, shape);
  t.role = role;
  t.storage = storage;
  if (storage < 0) {
    t.storage = static_cast<int>(c.storages.size());
    c.storages.push_back({name, t.dtype, t.nbytes(), std::nullopt, "cpu"});
  }
  c.tensors.push_back(std::move(t));
  return c.tensors.back();
}

Checkpoint checkpoint_from_shapes(const nlohmann::json& model) {
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

Checkpoint model_from_shapes(const std::string& model) {
  return checkpoint_from_shapes(read_fixture_json("fixtures/arch/shapes/" + model + ".json"));
}

}  // namespace ptscope::test
