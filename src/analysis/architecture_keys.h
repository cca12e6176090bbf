// Lookups by key name over a checkpoint's model tensors, for the
// architecture recognisers: shapes by name, anchors by suffix, block counts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ptscope/checkpoint.h"

namespace ptscope {

class ModelKeys {
 public:
  explicit ModelKeys(const Checkpoint& c);

  bool has(const std::string& name) const { return by_name_.count(name) > 0; }
  // Size of axis `axis` of `name`; 0 when the key or the axis is missing.
  int64_t dim(const std::string& name, size_t axis) const;
  uint64_t numel(const std::string& name) const;
  // The prefix before the first key that ends in "." + suffix (or is suffix).
  std::optional<std::string> prefix_of(const std::string& suffix) const;
  // How many blocks stem0., stem1., ... there are, counting up from 0.
  int64_t count_blocks(const std::string& stem) const;
  // Whether both keys exist and view the very same elements.
  bool tied(const std::string& a, const std::string& b) const;

 private:
  std::map<std::string, const Tensor*> by_name_;
};

// "model.transformer." minus "transformer." -> "model."; unchanged otherwise.
std::string strip_suffix(const std::string& prefix, const std::string& suffix);

}  // namespace ptscope
