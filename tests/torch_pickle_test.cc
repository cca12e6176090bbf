// torch.save's data.pkl through the loader, read_checkpoint(src, "x.pt"): a
// table of hostile object pickles in an otherwise good zip (the test kit's
// torch_zip), with the exact one-line error each must give and the byte of
// data.pkl it points at: views past their storage, sizes that overflow,
// storages of absurd or negative size, unknown storage types, malformed
// persistent ids and memo references, objects nested too deep.
#include <gtest/gtest.h>

#include <functional>

#include "load_error.h"
#include "pickle_builder.h"
#include "torch_file_builder.h"

namespace ptscope {
namespace {

using test::load_error;
using test::PickleAsm;
using test::state_pickle;
using test::StatePickle;
using test::TensorSpec;
using test::torch_zip;
using test::TorchZip;
namespace op = test::op;

std::string n(uint64_t v) { return std::to_string(v); }

std::vector<test::ErrorRow> rows() {
  std::vector<test::ErrorRow> r;
  const TensorSpec good;
  auto with = [&](const std::function<void(TensorSpec&)>& f) {
    TensorSpec t = good;
    f(t);
    return t;
  };

  // Views that reach past their storage (6 float32 elements).
  struct Reach {
    const char* name;
    int64_t offset;
    std::vector<int64_t> shape, stride;
  };
  const Reach reaches[] = {
      {"tensor offset past its storage", 1, {2, 3}, {3, 1}},
      {"tensor stride past its storage", 0, {2, 3}, {4, 1}},
      {"tensor shape past its storage", 0, {7}, {1}},
      {"tensor offset 2**62", int64_t{1} << 62, {1}, {1}},
      {"tensor offset 2**63-1", INT64_MAX, {1}, {1}},
  };
  for (const Reach& x : reaches) {
    StatePickle p = state_pickle(with([&](TensorSpec& t) {
      t.offset = x.offset;
      t.shape = x.shape;
      t.stride = x.stride;
    }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({x.name, z.bytes,
                 "x.pt: tensor reaches past the end of storage '0' at byte " +
                     n(z.layout.data_offset[0] + p.rebuild_at)});
  }
  // Huge declared sizes: refused without arithmetic overflow.
  struct Huge {
    const char* name;
    TensorSpec spec;
    const char* message;
  };
  const Huge huge[] = {
      {"tensor numel overflows", with([](TensorSpec& t) {
         t.shape = {int64_t{1} << 40, int64_t{1} << 40};
         t.stride = {1, 1};
       }),
       "tensor numel overflows"},
      {"tensor extent overflows", with([](TensorSpec& t) {
         t.shape = {3};
         t.stride = {int64_t{1} << 62};
       }),
       "tensor extent overflows"},
      {"tensor negative size", with([](TensorSpec& t) {
         t.shape = {-1};
         t.stride = {1};
       }),
       "tensor has a negative size or stride"},
      {"tensor negative offset", with([](TensorSpec& t) { t.offset = -1; }),
       "tensor has a negative storage offset"},
      {"tensor size and stride lengths", with([](TensorSpec& t) { t.stride = {1}; }),
       "tensor size and stride have different lengths"},
  };
  for (const Huge& h : huge) {
    StatePickle p = state_pickle(h.spec);
    TorchZip z = torch_zip(p.bytes);
    r.push_back({h.name, z.bytes,
                 std::string("x.pt: ") + h.message + " at byte " +
                     n(z.layout.data_offset[0] + p.rebuild_at)});
  }
  {
    // 2**62 float32 elements: 2**64 bytes, which must not wrap to 0.
    StatePickle p = state_pickle(with([](TensorSpec& t) {
      t.storage_numel = int64_t{1} << 62;
      t.shape = {0};
      t.stride = {1};
    }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({"storage of 2**64 bytes", z.bytes,
                 "x.pt: storage '0' declares an absurd size at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    StatePickle p = state_pickle(with([](TensorSpec& t) { t.storage_numel = INT64_MAX; }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({"storage of 2**63-1 elements", z.bytes,
                 "x.pt: storage '0' declares an absurd size at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    StatePickle p = state_pickle(with([](TensorSpec& t) { t.storage_numel = -6; }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({"storage of negative size", z.bytes,
                 "x.pt: storage '0' has a negative size at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    StatePickle p = state_pickle(with([](TensorSpec& t) { t.storage_class = "WeirdStorage"; }));
    TorchZip z = torch_zip(p.bytes);
    r.push_back({"unknown storage class", z.bytes,
                 "x.pt: unknown storage type 'torch.WeirdStorage' at byte " +
                     n(z.layout.data_offset[0] + p.pid_at)});
  }
  {
    // A memo reference to a slot never stored, in place of the storage key.
    PickleAsm a;
    a.proto(2).put(op::EMPTY_DICT).str("w").put(op::BINGET).u8(9);
    a.put({op::SETITEM, op::STOP});
    TorchZip z = torch_zip(a.bytes());
    r.push_back({"bad memo reference in data.pkl", z.bytes,
                 "x.pt: data.pkl: memo key 9 was never stored at byte " +
                     n(z.layout.data_offset[0] + 9)});
  }
  {
    std::string bad = state_pickle(good).bytes;
    size_t get = bad.find(std::string("\x71\x01", 2));  // BINPUT 1 -> BINGET 1 before any PUT 1
    bad[get] = 'h';
    TorchZip z = torch_zip(bad);
    r.push_back({"memo reference before its PUT", z.bytes,
                 "x.pt: data.pkl: memo key 1 was never stored at byte " +
                     n(z.layout.data_offset[0] + get)});
  }
  {
    std::string pkl = state_pickle(good).bytes;
    pkl.pop_back();  // no STOP
    TorchZip z = torch_zip(pkl);
    r.push_back({"data.pkl without STOP", z.bytes,
                 "x.pt: data.pkl: pickle ends without a STOP opcode at byte " +
                     n(z.layout.data_offset[0] + pkl.size())});
  }
  {
    PickleAsm a;
    a.proto(2).str("storage").put(op::BINPERSID).stop();
    TorchZip z = torch_zip(a.bytes());
    r.push_back({"persistent id not a tuple", z.bytes,
                 "x.pt: persistent id is not a ('storage', ...) tuple at byte " +
                     n(z.layout.data_offset[0] + 2)});
  }
  {
    // 300 nested lists: parsed fine, too deep to name tensors in.
    std::string pkl = "\x80\x02" + std::string(300, ']') + std::string(299, 'a') + ".";
    TorchZip z = torch_zip(pkl);
    r.push_back({"objects nested 300 deep", z.bytes,
                 "x.pt: objects nested deeper than 200 levels at byte " +
                     n(z.layout.data_offset[0] + 2 + 201)});
  }
  return r;
}

TEST(TorchPickleErrors, Table) {
  test::expect_load_errors(rows());
}

}  // namespace
}  // namespace ptscope
