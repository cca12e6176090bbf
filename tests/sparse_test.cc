// Sparse tensors counted as torch counts them: one entry per sparse tensor
// with its dense shape and numel, its layout and nnz, its bytes those of its
// indices and values, which the byte map labels as tensor data. Against
// torch's own numbers (fixtures/sparse/expected.json, written by
// scripts/make_sparse_fixtures.py), and a table of malformed rebuilds.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "byte_map.h"
#include "fixture_files.h"
#include "load_error.h"
#include "pickle_builder.h"
#include "ptscope/load.h"
#include "ptscope/summary.h"
#include "region_labels.h"
#include "torch_file_builder.h"

namespace ptscope {
namespace {

using json = nlohmann::json;
using test::PickleAsm;
namespace op = test::op;

class SparseFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(SparseFixture, MatchesTorch) {
  const std::string name = GetParam();
  const json want =
      json::parse(test::slurp(test::source_path("fixtures/sparse/expected.json")))[name];
  ASSERT_TRUE(want.is_object()) << name;
  Checkpoint c = load_checkpoint(test::source_path("fixtures/sparse/" + name));
  Summary s = summarize(c);

  EXPECT_EQ(format_name(c.format), want["format"].get<std::string>());
  EXPECT_EQ(c.file_bytes, want["file_bytes"].get<uint64_t>());
  EXPECT_EQ(s.all.tensors, want["tensors"].get<uint64_t>());
  EXPECT_EQ(s.all.numel, want["numel"].get<uint64_t>());
  EXPECT_EQ(s.all.bytes, want["bytes"].get<uint64_t>());
  ASSERT_EQ(c.tensors.size(), want["entries"].size());
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const Tensor& t = c.tensors[i];
    const json& e = want["entries"][i];
    SCOPED_TRACE(e["name"].get<std::string>());
    EXPECT_EQ(t.name, e["name"].get<std::string>());
    EXPECT_EQ(dtype_name(t.dtype), e["dtype"].get<std::string>());
    EXPECT_EQ(layout_name(t.layout), e["layout"].get<std::string>());
    EXPECT_EQ(t.shape, e["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(t.numel, e["numel"].get<uint64_t>());
    EXPECT_EQ(t.nbytes(), e["bytes"].get<uint64_t>());
    if (!e["nnz"].is_null()) EXPECT_EQ(t.nnz, e["nnz"].get<uint64_t>());
  }

  // Every stored byte is some tensor's: the indices and values storages
  // are the sparse tensors' data, not unused storage.
  uint64_t tensor_data = 0;
  for (const ByteMapRow& r : byte_map(byte_ranges(c))) {
    EXPECT_NE(r.label, label::kUnusedStorage);
    if (r.label == label::kTensorData) tensor_data = r.bytes;
  }
  EXPECT_EQ(tensor_data, want["bytes"].get<uint64_t>());
}

INSTANTIATE_TEST_SUITE_P(Files, SparseFixture,
                         ::testing::Values("sparse_state_dict.pt", "sparse_legacy.pt"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// data.pkl of {'w': torch._utils.<rebuild>(layout, data)}, its parts
// float32 tensors over one 6-element storage '0'. The pieces of `data` are
// written by the caller; `at` is the rebuild GLOBAL every error points at.
struct SparsePickle {
  PickleAsm a;
  uint64_t at = 0;
};

// A 1-d tensor of n elements over storage '0'.
void tensor(PickleAsm& a, int64_t n) {
  a.global("torch._utils", "_rebuild_tensor_v2").put(op::MARK);
  a.put(op::MARK).str("storage").global("torch", "FloatStorage").str("0").str("cpu");
  a.integer(6).put({op::TUPLE, op::BINPERSID});
  a.integer(0).put(op::MARK).integer(n).put(op::TUPLE);
  a.put(op::MARK).integer(1).put(op::TUPLE);
  a.put({op::NEWFALSE, op::NONE, op::TUPLE, op::REDUCE});
}

void size(PickleAsm& a, std::initializer_list<int64_t> dims) {
  a.put(op::MARK);
  for (int64_t d : dims) a.integer(d);
  a.put(op::TUPLE);
}

// `data` writes the items of the data tuple.
std::string sparse_pickle(const std::string& rebuild, const std::string& layout,
                          const std::function<void(PickleAsm&)>& data, uint64_t* at) {
  PickleAsm a;
  a.proto(2).put(op::EMPTY_DICT).str("w");
  *at = a.size();
  a.global("torch._utils", rebuild).global("torch", layout);
  a.put(op::MARK);
  data(a);
  a.put({op::TUPLE, op::TUPLE2, op::REDUCE, op::SETITEM, op::STOP});
  return a.bytes();
}

TEST(Sparse, CooFromHandWrittenPickle) {
  uint64_t at = 0;
  std::string pkl = sparse_pickle("_rebuild_sparse_tensor", "sparse_coo",
                                  [](PickleAsm& a) {
                                    tensor(a, 4);  // indices [4] (1-d COO, nnz 4)
                                    tensor(a, 4);  // values [4]
                                    size(a, {100});
                                  },
                                  &at);
  test::TorchZip z = test::torch_zip(pkl);
  std::string path = testing::TempDir() + "sparse_coo.pt";
  {
    FILE* f = fopen(path.c_str(), "wb");
    ASSERT_TRUE(f);
    fwrite(z.bytes.data(), 1, z.bytes.size(), f);
    fclose(f);
  }
  Checkpoint c = load_checkpoint(path);
  ASSERT_EQ(c.tensors.size(), 1u);
  const Tensor& t = c.tensors[0];
  EXPECT_EQ(t.name, "w");
  EXPECT_EQ(t.layout, Layout::SparseCoo);
  EXPECT_EQ(t.shape, std::vector<int64_t>{100});
  EXPECT_EQ(t.numel, 100u);
  EXPECT_EQ(t.nnz, 4u);
  EXPECT_EQ(t.storage, -1);
  ASSERT_EQ(t.parts.size(), 2u);
  EXPECT_EQ(t.parts[0].name, "indices");
  EXPECT_EQ(t.parts[1].name, "values");
  EXPECT_EQ(t.nbytes(), 32u);
  uint64_t tensor_data = 0, unused = 0;
  for (const ByteMapRow& r : byte_map(byte_ranges(c))) {
    if (r.label == label::kTensorData) tensor_data = r.bytes;
    if (r.label == label::kUnusedStorage) unused = r.bytes;
  }
  EXPECT_EQ(tensor_data, 16u);  // both parts view the first 4 of 6 floats
  EXPECT_EQ(unused, 8u);
}

std::vector<test::ErrorRow> rows() {
  struct Row {
    const char* name;
    const char* rebuild;
    const char* layout;
    std::function<void(PickleAsm&)> data;
    const char* message;
  };
  const Row table[] = {
      {"coo with two items", "_rebuild_sparse_tensor", "sparse_coo",
       [](PickleAsm& a) { tensor(a, 2); tensor(a, 2); },
       "sparse tensor data is not a tuple of (indices, values, size[, is_coalesced])"},
      {"coo with five items", "_rebuild_sparse_tensor", "sparse_coo",
       [](PickleAsm& a) {
         tensor(a, 2); tensor(a, 2); size(a, {4}); a.put(op::NEWTRUE).put(op::NONE);
       },
       "sparse tensor data is not a tuple of (indices, values, size[, is_coalesced])"},
      {"csr with three items", "_rebuild_sparse_csr_tensor", "sparse_csr",
       [](PickleAsm& a) { tensor(a, 3); tensor(a, 2); size(a, {2, 2}); },
       "sparse tensor data is not a tuple of (compressed_indices, plain_indices, values, size)"},
      {"negative size", "_rebuild_sparse_tensor", "sparse_coo",
       [](PickleAsm& a) { tensor(a, 2); tensor(a, 2); size(a, {4, -1}); },
       "sparse tensor has a negative size"},
      {"dense numel overflows", "_rebuild_sparse_tensor", "sparse_coo",
       [](PickleAsm& a) {
         tensor(a, 2); tensor(a, 2); size(a, {int64_t{1} << 40, int64_t{1} << 40});
       },
       "sparse tensor numel overflows"},
      {"size not a tuple", "_rebuild_sparse_tensor", "sparse_coo",
       [](PickleAsm& a) { tensor(a, 2); tensor(a, 2); a.str("4x4"); },
       "tensor size is not a tuple"},
      {"indices not a tensor", "_rebuild_sparse_tensor", "sparse_coo",
       [](PickleAsm& a) { a.integer(5); tensor(a, 2); size(a, {4}); },
       "sparse tensor indices is not a strided tensor"},
      {"csr values not a tensor", "_rebuild_sparse_csr_tensor", "sparse_csr",
       [](PickleAsm& a) { tensor(a, 3); tensor(a, 2); a.put(op::NONE); size(a, {2, 2}); },
       "sparse tensor values is not a strided tensor"},
      {"csc plain indices not a tensor", "_rebuild_sparse_tensor", "sparse_csc",
       [](PickleAsm& a) { tensor(a, 3); a.str("x"); tensor(a, 2); size(a, {2, 2}); },
       "sparse tensor row_indices is not a strided tensor"},
      {"strided layout", "_rebuild_sparse_tensor", "strided",
       [](PickleAsm& a) { tensor(a, 2); tensor(a, 2); size(a, {4}); },
       "sparse tensor layout is not a torch sparse layout"},
  };
  std::vector<test::ErrorRow> r;
  for (const Row& x : table) {
    uint64_t at = 0;
    std::string pkl = sparse_pickle(x.rebuild, x.layout, x.data, &at);
    test::TorchZip z = test::torch_zip(pkl);
    r.push_back({x.name, z.bytes,
                 std::string("x.pt: ") + x.message + " at byte " +
                     std::to_string(z.layout.data_offset[0] + at)});
  }
  {
    // A sparse tensor whose values are themselves sparse: refused, since
    // through the memo such nesting could copy exponentially many parts.
    PickleAsm a;
    a.proto(2).put(op::EMPTY_DICT).str("w");
    uint64_t at = a.size();
    a.global("torch._utils", "_rebuild_sparse_tensor").global("torch", "sparse_coo");
    a.put(op::MARK);
    tensor(a, 2);
    a.global("torch._utils", "_rebuild_sparse_tensor").global("torch", "sparse_coo");
    a.put(op::MARK);
    tensor(a, 2);
    tensor(a, 2);
    size(a, {4});
    a.put({op::TUPLE, op::TUPLE2, op::REDUCE});
    size(a, {4});
    a.put({op::TUPLE, op::TUPLE2, op::REDUCE, op::SETITEM, op::STOP});
    test::TorchZip z = test::torch_zip(a.bytes());
    r.push_back({"sparse values", z.bytes,
                 "x.pt: sparse tensor values is not a strided tensor at byte " +
                     std::to_string(z.layout.data_offset[0] + at)});
  }
  return r;
}

TEST(SparseErrors, Table) { test::expect_load_errors(rows()); }

}  // namespace
}  // namespace ptscope
