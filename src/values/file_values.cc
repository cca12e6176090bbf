#include "file_values.h"

#include "value_compare.h"

namespace ptscope {

const TensorFile& FileValues::file(const Checkpoint& c) {
  std::unique_ptr<TensorFile>& f = files_[&c];
  if (!f) f = std::make_unique<TensorFile>(c);
  return *f;
}

std::optional<uint64_t> FileValues::hash(const Checkpoint& c, const Tensor& t) {
  auto it = hashes_.find(&t);
  if (it != hashes_.end()) return it->second;
  ValueHash h = hash_values(file(c), t);
  std::optional<uint64_t> r = h.not_hashed.empty() ? std::optional<uint64_t>(h.hash) : std::nullopt;
  hashes_[&t] = r;
  return r;
}

ValueDiff FileValues::compare(const Checkpoint& ca, const Tensor& a, const Checkpoint& cb, const Tensor& b) {
  return compare_values(file(ca), a, file(cb), b);
}

}  // namespace ptscope
