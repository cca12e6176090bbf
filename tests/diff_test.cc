// ptscope diff: the fixture pairs of scripts/make_diff_fixtures.py against
// what torch computed comparing the loaded tensors (fixtures/diff/
// expected.json), the element decoders, and the name pairing on data-less
// checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include "decode.h"
#include "diff.h"
#include "file_values.h"
#include "fixture_files.h"
#include "ptscope/load.h"
#include "torch_file_builder.h"
#include "zip_builder.h"
#include "tensor_layout.h"
#include "value_compare.h"

namespace ptscope {
namespace {

using test::fixture;
using test::read_fixture_json;

Diff diff_pair(const std::string& b, bool values = true) {
  Model ma = load_model(fixture("diff/base.pt")), mb = load_model(fixture("diff/" + b));
  FileValues v;
  return diff_models(ma, mb, values ? &v : nullptr);
}

std::set<std::string> names(const std::vector<TensorBrief>& ts) {
  std::set<std::string> out;
  for (const TensorBrief& t : ts) out.insert(t.name);
  return out;
}

// Every pair: the changed tensors, their counts of changed elements, max
// |b - a| and relative L2 are torch's; added and removed are torch's too,
// except where ptscope pairs a prefix change (checked apart).
class DiffFixture : public testing::TestWithParam<const char*> {};

TEST_P(DiffFixture, MatchesTorch) {
  const std::string name = GetParam();
  nlohmann::json e = read_fixture_json("fixtures/diff/expected.json")[name];
  Diff d = diff_pair(name);
  EXPECT_EQ(names(d.added), e["added"].get<std::set<std::string>>());
  EXPECT_EQ(names(d.removed), e["removed"].get<std::set<std::string>>());
  EXPECT_TRUE(d.renamed.empty());
  std::set<std::string> changed;
  for (const TensorChange& c : d.changed) {
    changed.insert(c.name);
    ASSERT_TRUE(e["changed"].contains(c.name)) << c.name;
    const nlohmann::json& x = e["changed"][c.name];
    EXPECT_EQ(dtype_name(c.a.dtype), x["dtype"][0].get<std::string>());
    EXPECT_EQ(dtype_name(c.b.dtype), x["dtype"][1].get<std::string>());
    ASSERT_TRUE(c.values && c.values->compared) << c.name;
    EXPECT_EQ(c.values->changed, x["changed"].get<uint64_t>()) << c.name;
    EXPECT_EQ(c.values->numel, x["numel"].get<uint64_t>()) << c.name;
    EXPECT_DOUBLE_EQ(c.values->max_abs_diff, x["max_abs_diff"].get<double>()) << c.name;
    if (x.contains("rel_l2")) EXPECT_NEAR(c.values->rel_l2, x["rel_l2"].get<double>(), 1e-12) << c.name;
  }
  std::set<std::string> want;
  for (auto& [k, v] : e["changed"].items()) want.insert(k);
  EXPECT_EQ(changed, want);
  EXPECT_EQ(d.same(), want.empty() && e["added"].empty() && e["removed"].empty());
  EXPECT_EQ(d.unchanged.size() + d.changed.size() + d.removed.size(), 9u);
}

INSTANTIATE_TEST_SUITE_P(Pairs, DiffFixture,
                         testing::Values("finetuned.pt", "pruned.pt", "fp16.pt", "added_removed.pt",
                                         "base.safetensors", "strided.pt"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Diff, Fp16CopyIsWithinFloat16Rounding) {
  Diff d = diff_pair("fp16.pt");
  ASSERT_EQ(d.changed.size(), 8u);
  for (const TensorChange& c : d.changed) {
    EXPECT_TRUE(c.dtype_changed());
    ASSERT_TRUE(c.values->within_rounding) << c.name;
    EXPECT_TRUE(*c.values->within_rounding) << c.name;
  }
  // The fine-tuned copy is no rounding of the base: no claim is made.
  for (const TensorChange& c : diff_pair("finetuned.pt").changed) EXPECT_FALSE(c.values->within_rounding);
}

TEST(Diff, PrefixChangeIsOneMapping) {
  nlohmann::json e = read_fixture_json("fixtures/diff/expected.json")["renamed.pt"];
  Diff d = diff_pair("renamed.pt");
  ASSERT_EQ(d.renamed.size(), 1u);
  EXPECT_TRUE(d.renamed[0].prefix);
  EXPECT_EQ(d.renamed[0].from, "");
  EXPECT_EQ(d.renamed[0].to, "module.");
  EXPECT_EQ(d.renamed[0].tensors, e["removed"].size());  // every name torch sees removed
  EXPECT_TRUE(d.added.empty() && d.removed.empty() && d.changed.empty());
  EXPECT_EQ(d.renamed_equal.size(), 9u);
  EXPECT_FALSE(d.same());
}

TEST(Diff, SameDataUnderAnotherNameIsARename) {
  nlohmann::json e = read_fixture_json("fixtures/diff/expected.json")["renamed_one.pt"];
  EXPECT_EQ(e["removed"], nlohmann::json::array({"fc2.weight"}));  // torch, by name
  EXPECT_EQ(e["added"], nlohmann::json::array({"classifier.kernel"}));
  Diff d = diff_pair("renamed_one.pt");
  ASSERT_EQ(d.renamed.size(), 1u);
  EXPECT_FALSE(d.renamed[0].prefix);
  EXPECT_EQ(d.renamed[0].from, "fc2.weight");
  EXPECT_EQ(d.renamed[0].to, "classifier.kernel");
  EXPECT_TRUE(d.added.empty() && d.removed.empty() && d.changed.empty());
  EXPECT_EQ(d.unchanged.size(), 8u);
  // Without values there is no evidence: an added and a removed tensor.
  Diff s = diff_pair("renamed_one.pt", false);
  EXPECT_TRUE(s.renamed.empty());
  EXPECT_EQ(names(s.added), std::set<std::string>{"classifier.kernel"});
}

TEST(Diff, StructureOnlyReadsNoValues) {
  Diff d = diff_pair("finetuned.pt", false);
  EXPECT_FALSE(d.values_compared);
  EXPECT_TRUE(d.same());  // same names, shapes and dtypes
  Diff h = diff_pair("fp16.pt", false);
  EXPECT_EQ(h.changed.size(), 8u);
  for (const TensorChange& c : h.changed) EXPECT_FALSE(c.values);
}

TEST(Diff, TotalsAreTheTwoSummaries) {
  Diff d = diff_pair("fp16.pt");
  auto row = [&](const std::string& label) {
    for (const TotalRow& r : d.totals)
      if (r.label == label) return r;
    ADD_FAILURE() << label;
    return TotalRow{};
  };
  EXPECT_EQ(row("file bytes").a, d.ia.checkpoint.file_bytes);
  EXPECT_EQ(row("tensor bytes").a, 1112u);  // 277 numel: 276 float32 and one int64
  EXPECT_EQ(row("tensor bytes").b, 560u);   // 276 float16 and one int64
  EXPECT_EQ(row("bytes float16").a, 0u);
  EXPECT_EQ(row("parameters").b, 244u);
}

// A view's hash is that of its elements, whatever its strides or file.
TEST(Values, HashFollowsElementsNotLayout) {
  std::vector<uint64_t> hashes;
  for (const char* f : {"diff/base.pt", "diff/strided.pt", "diff/base.safetensors"}) {
    Model m = load_model(fixture(f));
    const Checkpoint& c = m.files.front();
    TensorFile tf(c);
    for (const Tensor& t : c.tensors)
      if (t.name == "fc1.weight") {
        ValueHash h = hash_values(tf, t);
        EXPECT_EQ(h.not_hashed, "");
        hashes.push_back(h.hash);
      }
  }
  ASSERT_EQ(hashes.size(), 3u);
  EXPECT_EQ(hashes[0], hashes[1]);
  EXPECT_EQ(hashes[0], hashes[2]);
  Model m = load_model(fixture("diff/pruned.pt"));
  TensorFile tf(m.files.front());
  for (const Tensor& t : m.files.front().tensors)
    if (t.name == "fc1.weight") EXPECT_NE(hash_values(tf, t).hash, hashes[0]);
}

// fixtures/views.pt holds a column and a transpose of one storage: streamed
// through their strides they equal the contiguous copies torch made.
TEST(Values, StridedViewsStreamInLogicalOrder) {
  Model m = load_model(fixture("views.pt"));
  const Checkpoint& c = m.files.front();
  TensorFile tf(c);
  for (const Tensor& t : c.tensors) {
    ASSERT_EQ(tf.unreadable(t), "") << t.name;
    uint64_t n = 0;
    tf.stream(t, [&](const uint8_t*, size_t k) { n += k; }, 8);  // tiny chunks: many calls
    EXPECT_EQ(n, t.numel) << t.name;
  }
}

// The three ways through a strided view (one window over its extent,
// slabs along its unit-stride dimension, chunked windows) give the same
// elements: a window of a few bytes forces the other two.
TEST(Values, EveryPathThroughAViewAgrees) {
  for (const char* f : {"views.pt", "legacy_views.pt", "diff/strided.pt", "dtypes.pt"}) {
    Model m = load_model(fixture(f));
    const Checkpoint& c = m.files.front();
    TensorFile whole(c);
    size_t strided = 0;
    for (const Tensor& t : c.tensors) {
      if (!whole.unreadable(t).empty()) continue;
      strided += t.stride != contiguous_strides(t.shape);
      uint64_t h = hash_values(whole, t).hash;
      // 64 and 100 bytes: slabs of several rows (fc1.weight: 2 and 3, the last one short).
      for (size_t window : {1, 16, 64, 100}) EXPECT_EQ(hash_values(TensorFile(c, window), t).hash, h) << f << " " << t.name << " " << window;
    }
    if (std::string(f) != "dtypes.pt") EXPECT_GT(strided, 0u) << f;
  }
  Model a = load_model(fixture("diff/base.pt")), b = load_model(fixture("diff/strided.pt"));
  TensorFile fa(a.files.front()), fb(b.files.front(), 16);
  for (const Tensor& t : a.files.front().tensors)
    if (t.name == "fc1.weight")
      for (const Tensor& u : b.files.front().tensors)
        if (u.name == "fc1.weight") EXPECT_TRUE(compare_values(fa, t, fb, u).equal);
}

TEST(Decode, Float16AndBFloat16) {
  EXPECT_EQ(half_to_double(0x3c00), 1.0);
  EXPECT_EQ(half_to_double(0xc000), -2.0);
  EXPECT_EQ(half_to_double(0x0001), std::ldexp(1.0, -24));  // smallest subnormal
  EXPECT_EQ(half_to_double(0x7bff), 65504.0);
  EXPECT_TRUE(std::isinf(half_to_double(0x7c00)));
  EXPECT_TRUE(std::isnan(half_to_double(0x7e00)));
  EXPECT_EQ(bfloat16_to_double(0x3f80), 1.0);
  EXPECT_EQ(bfloat16_to_double(0xc040), -3.0);
}

TEST(Decode, Float8Kinds) {
  auto f8 = [](DType t, uint8_t b) { return decode_element(t, &b); };
  EXPECT_EQ(f8(DType::Float8E4M3FN, 0x7e), 448.0);  // the largest e4m3fn
  EXPECT_TRUE(std::isnan(f8(DType::Float8E4M3FN, 0x7f)));
  EXPECT_EQ(f8(DType::Float8E4M3FN, 0x38), 1.0);
  EXPECT_EQ(f8(DType::Float8E4M3FN, 0x01), std::ldexp(1.0, -9));
  EXPECT_EQ(f8(DType::Float8E5M2, 0x7b), 57344.0);
  EXPECT_TRUE(std::isinf(f8(DType::Float8E5M2, 0x7c)));
  EXPECT_EQ(f8(DType::Float8E5M2, 0x3c), 1.0);
  EXPECT_TRUE(std::isnan(f8(DType::Float8E4M3FNUZ, 0x80)));
  EXPECT_EQ(f8(DType::Float8E4M3FNUZ, 0x7f), 240.0);
  EXPECT_EQ(f8(DType::Float8E4M3FNUZ, 0x40), 1.0);
  EXPECT_EQ(f8(DType::Float8E5M2FNUZ, 0x40), 1.0);
  EXPECT_EQ(f8(DType::Float8E5M2FNUZ, 0x7f), 57344.0);
}

TEST(Decode, RoundingAsTorchRounds) {
  EXPECT_EQ(*round_to(DType::Float16, 1.0f + std::ldexp(1.0f, -11)), 1.0);  // a tie: to even
  EXPECT_EQ(*round_to(DType::Float16, 1.0f + 3 * std::ldexp(1.0f, -11)), 1.0 + std::ldexp(1.0, -9));
  EXPECT_EQ(*round_to(DType::Float16, 65519.0f), 65504.0);
  EXPECT_TRUE(std::isinf(*round_to(DType::Float16, 65520.0f)));
  EXPECT_EQ(*round_to(DType::Float16, std::ldexp(1.0f, -25)), 0.0);  // half the smallest subnormal: to even
  EXPECT_EQ(*round_to(DType::BFloat16, 1.00390625f), 1.0);           // a tie: to even
  EXPECT_EQ(*round_to(DType::BFloat16, 1.01171875f), 1.015625);
  EXPECT_FALSE(round_to(DType::Float32, 1.0f));
}

// Names only: data-less checkpoints paired by a prefix change and left over.
Model names_model(const std::vector<std::pair<std::string, std::vector<int64_t>>>& ts) {
  Model m;
  m.path = "mem";
  Checkpoint c;
  c.path = "mem";
  for (const auto& [n, shape] : ts) {
    Tensor t;
    t.name = n;
    t.shape = shape;
    t.numel = 1;
    for (int64_t s : shape) t.numel *= static_cast<uint64_t>(s);
    c.tensors.push_back(t);
  }
  m.files.push_back(c);
  return m;
}

TEST(Diff, PrefixMappingLeavesTheRestAlone) {
  Model a = names_model({{"module.enc.w", {4, 4}}, {"module.dec.w", {4, 2}}, {"module.dec.b", {2}}, {"gone", {3}}});
  Model b = names_model({{"enc.w", {4, 4}}, {"dec.w", {4, 2}}, {"dec.b", {5}}, {"new", {3}}});
  Diff d = diff_models(a, b, nullptr);
  ASSERT_EQ(d.renamed.size(), 1u);
  EXPECT_EQ(d.renamed[0].from, "module.");
  EXPECT_EQ(d.renamed[0].to, "");
  // dec.b changed shape, so it cannot vote; the mapping still pairs it by name.
  EXPECT_EQ(d.renamed[0].tensors, 3u);
  ASSERT_EQ(d.changed.size(), 1u);
  EXPECT_EQ(d.changed[0].name, "dec.b");
  EXPECT_EQ(d.changed[0].from, "module.dec.b");
  EXPECT_EQ(names(d.removed), std::set<std::string>{"gone"});
  EXPECT_EQ(names(d.added), std::set<std::string>{"new"});
}

TEST(Diff, OneCoincidenceIsNoMapping) {
  Model a = names_model({{"x.w", {4}}, {"y", {2}}});
  Model b = names_model({{"z.w", {4}}, {"y", {2}}});
  Diff d = diff_models(a, b, nullptr);
  EXPECT_TRUE(d.renamed.empty());  // one tensor is not a consistent prefix change
  EXPECT_EQ(names(d.removed), std::set<std::string>{"x.w"});
  EXPECT_EQ(names(d.added), std::set<std::string>{"z.w"});
}

// Values that cannot be streamed are said so, never guessed: the pair is
// compared by shape and dtype and listed with the reason.
TEST(Diff, UnreadableValuesAreNotCompared) {
  std::string pkl = test::state_pickle(test::TensorSpec{}).bytes;
  std::string data(24, '\0');
  float one = 1.0f;
  std::memcpy(&data[0], &one, 4);
  test::ZipBuilder::Options o;
  o.align = true;
  test::ZipBuilder z(o);
  z.add_deflated("archive/data/0", data).add("archive/data.pkl", pkl).add("archive/version", "3\n");
  std::string stored_path = testing::TempDir() + "diff_stored.pt", deflated_path = testing::TempDir() + "diff_deflated.pt";
  std::ofstream(stored_path, std::ios::binary) << test::torch_zip(pkl, "0", data).bytes;
  std::ofstream(deflated_path, std::ios::binary) << z.build();
  Model a = load_model(stored_path), b = load_model(deflated_path);
  FileValues v;
  Diff d = diff_models(a, b, &v);
  EXPECT_TRUE(d.same());
  ASSERT_EQ(d.not_compared.size(), 1u);
  EXPECT_EQ(d.not_compared[0].first, "w");
  EXPECT_EQ(d.not_compared[0].second, "a deflated zip record");

  // Sparse tensors: the entry is one tensor over its parts.
  Model s = load_model(fixture("sparse/sparse_state_dict.pt"));
  Diff ds = diff_models(s, s, &v);
  EXPECT_TRUE(ds.same());
  EXPECT_EQ(ds.not_compared.size(), 2u);  // COO and CSR; the dense bias is compared
  for (const auto& [name, why] : ds.not_compared) EXPECT_EQ(why.rfind("a sparse_", 0), 0u) << name << ": " << why;
}

// Quantized dtypes are compared byte for byte; shards of a folder are read
// where each tensor lies.
TEST(Diff, QuantizedAndFoldersCompareTheirBytes) {
  Model q = load_model(fixture("quantized/static_per_channel_state_dict.pt"));
  FileValues v;
  Diff dq = diff_models(q, q, &v);
  EXPECT_TRUE(dq.same());
  EXPECT_TRUE(dq.not_compared.empty());
  Model f = load_model(fixture("folders/llama_safetensors")), g = load_model(fixture("folders/llama_bin"));
  ASSERT_GT(f.files.size(), 1u);
  Diff dfg = diff_models(f, g, &v);
  EXPECT_TRUE(dfg.same()) << dfg.changed.size() << " changed, " << dfg.added.size() << " added";
  EXPECT_EQ(dfg.unchanged.size(), dfg.ia.summary.all.tensors);
}

}  // namespace
}  // namespace ptscope
