#include "value_compare.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "decode.h"

namespace ptscope {
namespace {

class Hasher {
 public:
  void add(const uint8_t* p, size_t n) {
    bytes_ += n;
    while (n) {  // fill the pending word, then whole words
      size_t take = std::min(n, 8 - pending_len_);
      std::memcpy(pending_ + pending_len_, p, take);
      pending_len_ += take;
      p += take;
      n -= take;
      if (pending_len_ == 8) word();
    }
  }
  uint64_t finish() {
    if (pending_len_) {
      std::memset(pending_ + pending_len_, 0, 8 - pending_len_);
      word();
    }
    uint64_t h = h_ ^ bytes_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
  }

 private:
  void word() {
    uint64_t w = 0;
    for (int i = 7; i >= 0; --i) w = w << 8 | pending_[i];
    h_ = (h_ ^ w) * 0x100000001b3ULL;
    pending_len_ = 0;
  }
  uint64_t h_ = 0xcbf29ce484222325ULL, bytes_ = 0;
  uint8_t pending_[8] = {};
  size_t pending_len_ = 0;
};

}  // namespace

ValueHash hash_values(const TensorFile& f, const Tensor& t) {
  ValueHash r;
  r.not_hashed = f.unreadable(t);
  if (!r.not_hashed.empty()) return r;
  Hasher h;
  f.stream(t, [&](const uint8_t* p, size_t n) { h.add(p, n * dtype_size(t.dtype)); });
  r.hash = h.finish();
  return r;
}

ValueDiff compare_values(const TensorFile& fa, const Tensor& a, const TensorFile& fb, const Tensor& b) {
  ValueDiff d;
  d.numel = a.numel;
  if (a.shape != b.shape) d.reason = "shapes differ";
  else if (std::string ra = fa.unreadable(a); !ra.empty()) d.reason = ra;
  else if (std::string rb = fb.unreadable(b); !rb.empty()) d.reason = rb;
  else if (a.dtype != b.dtype && !(decodable(a.dtype) && decodable(b.dtype)))
    d.reason = std::string("no common values between ") + dtype_name(a.dtype) + " and " + dtype_name(b.dtype);
  if (!d.reason.empty()) return d;
  d.compared = true;
  const bool numeric = decodable(a.dtype) && decodable(b.dtype);
  const bool rounding = a.dtype == DType::Float32 && (b.dtype == DType::Float16 || b.dtype == DType::BFloat16);
  if (rounding) d.within_rounding = true;
  const size_t ea = dtype_size(a.dtype), eb = dtype_size(b.dtype);
  Hasher ha, hb;
  double sum_sq_diff = 0, sum_sq_a = 0;
  // Both tensors advance together, a chunk of elements at a time.
  const size_t per_chunk = TensorFile::kChunkBytes / std::max(ea, eb);
  std::vector<uint8_t> bufa(per_chunk * ea), bufb(per_chunk * eb);
  TensorCursor ca(fa, a), cb(fb, b);
  while (size_t n = ca.next(bufa.data(), per_chunk)) {
    if (cb.next(bufb.data(), n) != n) break;  // same shape, so never
    const uint8_t *pa = bufa.data(), *pb = bufb.data();
    ha.add(pa, n * ea);
    hb.add(pb, n * eb);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* xa = pa + i * ea;
      const uint8_t* xb = pb + i * eb;
      if (!numeric) {
        if (std::memcmp(xa, xb, ea) != 0) ++d.changed;
        continue;
      }
      double va = decode_element(a.dtype, xa), vb = decode_element(b.dtype, xb);
      if (rounding && *d.within_rounding) {
        std::optional<double> r = round_to(b.dtype, static_cast<float>(va));
        if (!(*r == vb || (std::isnan(*r) && std::isnan(vb)))) d.within_rounding = false;
      }
      if (va == vb || (std::isnan(va) && std::isnan(vb))) {
        if (std::isfinite(va)) sum_sq_a += va * va;
        continue;
      }
      ++d.changed;
      double diff = std::fabs(vb - va);
      if (std::isnan(diff)) diff = INFINITY;
      d.max_abs_diff = std::max(d.max_abs_diff, diff);
      sum_sq_diff += diff * diff;
      if (std::isfinite(va)) sum_sq_a += va * va;
    }
  }
  d.hash_a = ha.finish();
  d.hash_b = hb.finish();
  d.equal = d.changed == 0 && (a.dtype == b.dtype || numeric);
  if (d.changed) d.rel_l2 = sum_sq_a > 0 ? std::sqrt(sum_sq_diff / sum_sq_a) : INFINITY;
  return d;
}

}  // namespace ptscope
