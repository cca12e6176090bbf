// The diff's ValueOracle over the files themselves: each checkpoint file
// opened once, on first use, and its tensors' values read from it.
#pragma once

#include <map>
#include <memory>

#include "tensor_stream.h"
#include "value_diff.h"

namespace ptscope {

class FileValues : public ValueOracle {
 public:
  std::optional<uint64_t> hash(const Checkpoint& c, const Tensor& t) override;
  ValueDiff compare(const Checkpoint& ca, const Tensor& a, const Checkpoint& cb, const Tensor& b) override;

 private:
  const TensorFile& file(const Checkpoint& c);
  std::map<const Checkpoint*, std::unique_ptr<TensorFile>> files_;
  std::map<const Tensor*, std::optional<uint64_t>> hashes_;
};

}  // namespace ptscope
