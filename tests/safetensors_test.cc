// The safetensors reader: tensors, dtypes, shapes, metadata and regions of
// files built in memory and of the fixture, and every malformed header with
// its exact error.
#include <gtest/gtest.h>

#include "ptscope/error.h"
#include "reader.h"
#include "address_space.h"
#include "fixture_files.h"
#include "little_endian.h"
#include "load_error.h"
#include "safetensors_builder.h"

namespace ptscope {
namespace {

using test::safetensors_bytes;

Checkpoint read(const std::string& bytes) {
  return read_checkpoint(MemorySource(bytes), "m.safetensors");
}

// describe() of the error, through the loader (so the file name is attached).
std::string read_error(const std::string& bytes) {
  return test::load_error(bytes, "m.safetensors");
}

// One tensor "w" with the given dtype, shape and data_offsets, and `data`.
std::string one_tensor(const std::string& dtype, const std::string& shape,
                       const std::string& offsets, const std::string& data) {
  return safetensors_bytes("{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
                               ",\"data_offsets\":" + offsets + "}}",
                           data);
}

TEST(SafetensorsTest, Fixture) {
  std::string bytes = test::slurp(test::fixture("model.safetensors"));
  ASSERT_EQ(4664u, bytes.size());
  Checkpoint c = read(bytes);
  EXPECT_EQ(Format::Safetensors, c.format);
  EXPECT_EQ("m.safetensors", c.path);
  EXPECT_EQ(4664u, c.file_bytes);
  EXPECT_TRUE(c.roles_known);
  EXPECT_EQ((std::map<std::string, std::string>{{"format", "pt"}}), c.metadata);
  struct Want {
    const char* name;
    DType dtype;
    std::vector<int64_t> shape, stride;
    uint64_t begin, nbytes;
  };
  const Want want[] = {
      {"emb.weight", DType::Float32, {50, 16}, {16, 1}, 0, 3200},
      {"head.bias", DType::Float32, {50}, {1}, 3200, 200},
      {"ln.bias", DType::Float32, {16}, {1}, 3400, 64},
      {"ln.weight", DType::BFloat16, {16}, {1}, 3464, 32},
      {"position_ids", DType::Int64, {1, 8}, {8, 1}, 3496, 64},
      {"proj.bias", DType::Float32, {16}, {1}, 3560, 64},
      {"proj.weight", DType::Float16, {16, 16}, {16, 1}, 3624, 512},
  };
  ASSERT_EQ(std::size(want), c.tensors.size());
  ASSERT_EQ(std::size(want), c.storages.size());
  const uint64_t base = 8 + 520;
  for (size_t i = 0; i < std::size(want); ++i) {
    const Want& w = want[i];
    const Tensor& t = c.tensors[i];
    SCOPED_TRACE(w.name);
    EXPECT_EQ(w.name, t.name);
    EXPECT_EQ(w.dtype, t.dtype);
    EXPECT_EQ(w.shape, t.shape);
    EXPECT_EQ(w.stride, t.stride);
    EXPECT_EQ(w.nbytes, t.nbytes());
    EXPECT_EQ(0u, t.storage_offset);
    ASSERT_EQ(static_cast<int>(i), t.storage);
    const Storage& s = c.storages[i];
    EXPECT_EQ(w.name, s.key);
    EXPECT_EQ(w.nbytes, s.nbytes);
    EXPECT_EQ(base + w.begin, s.file_offset);
  }
  // position_ids is int64: a buffer by the dtype rule.
  EXPECT_EQ(Role::Buffer, c.tensors[4].role);
  EXPECT_EQ(Role::Parameter, c.tensors[0].role);
  // Regions: the header, then one per tensor, back to back to the end.
  ASSERT_EQ(8u, c.regions.size());
  EXPECT_EQ("safetensors header", c.regions[0].label);
  EXPECT_EQ(0u, c.regions[0].offset);
  EXPECT_EQ(base, c.regions[0].size);
  uint64_t at = base;
  for (size_t i = 1; i < c.regions.size(); ++i) {
    EXPECT_EQ("tensor data", c.regions[i].label);
    EXPECT_EQ(at, c.regions[i].offset);
    EXPECT_EQ(static_cast<int>(i - 1), c.regions[i].storage);
    at += c.regions[i].size;
  }
  EXPECT_EQ(bytes.size(), at);
}

TEST(SafetensorsTest, Dtypes) {
  struct Case {
    const char* code;
    DType dtype;
    uint64_t size;
  };
  const Case cases[] = {
      {"BOOL", DType::Bool, 1},       {"U8", DType::UInt8, 1},
      {"I8", DType::Int8, 1},         {"I16", DType::Int16, 2},
      {"U16", DType::UInt16, 2},      {"I32", DType::Int32, 4},
      {"U32", DType::UInt32, 4},      {"I64", DType::Int64, 8},
      {"U64", DType::UInt64, 8},      {"F16", DType::Float16, 2},
      {"BF16", DType::BFloat16, 2},   {"F32", DType::Float32, 4},
      {"F64", DType::Float64, 8},     {"C64", DType::Complex64, 8},
      {"C128", DType::Complex128, 16}, {"F8_E4M3", DType::Float8E4M3FN, 1},
      {"F8_E5M2", DType::Float8E5M2, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.code);
    uint64_t n = 3 * c.size;
    Checkpoint ck = read(one_tensor(c.code, "[3]", "[0," + std::to_string(n) + "]",
                                    std::string(n, '\0')));
    ASSERT_EQ(1u, ck.tensors.size());
    EXPECT_EQ(c.dtype, ck.tensors[0].dtype);
    EXPECT_EQ(3u, ck.tensors[0].numel);
    EXPECT_EQ(n, ck.storages[0].nbytes);
  }
}

TEST(SafetensorsTest, Shapes) {
  struct Case {
    const char* shape;
    uint64_t numel;
    std::vector<int64_t> stride;
  };
  const Case cases[] = {
      {"[]", 1, {}},
      {"[5]", 5, {1}},
      {"[2,3,4]", 24, {12, 4, 1}},
      {"[0,3]", 0, {3, 1}},
      {"[2,0,3]", 0, {3, 3, 1}},
      {"[1,1,1,7]", 7, {7, 7, 7, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.shape);
    std::string n = std::to_string(c.numel);
    Checkpoint ck = read(one_tensor("U8", c.shape, "[0," + n + "]", std::string(c.numel, 'x')));
    ASSERT_EQ(1u, ck.tensors.size());
    EXPECT_EQ(c.numel, ck.tensors[0].numel);
    EXPECT_EQ(c.stride, ck.tensors[0].stride);
    EXPECT_EQ(c.stride.size(), ck.tensors[0].shape.size());
  }
}

TEST(SafetensorsTest, MetadataAndOrder) {
  std::string header =
      R"({"__metadata__":{"format":"pt","epoch":"3","n":7,"nested":{"a":[1]}},)"
      R"("z":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
      R"("a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})";
  Checkpoint c = read(safetensors_bytes(header + "   ", "abc"));
  EXPECT_EQ((std::map<std::string, std::string>{
                {"format", "pt"}, {"epoch", "3"}, {"n", "7"}, {"nested", R"({"a":[1]})"}}),
            c.metadata);
  ASSERT_EQ(2u, c.tensors.size());
  EXPECT_EQ("z", c.tensors[0].name);  // header order, not sorted
  EXPECT_EQ("a", c.tensors[1].name);
  EXPECT_EQ(8 + header.size() + 3 + 2, c.storages[1].file_offset);
}

TEST(SafetensorsTest, EmptyHeader) {
  Checkpoint c = read(safetensors_bytes("{}", ""));
  EXPECT_TRUE(c.tensors.empty());
  ASSERT_EQ(1u, c.regions.size());
  EXPECT_EQ(10u, c.regions[0].size);
}

// The safetensors library's strictness (tensor.rs: Metadata::validate and
// read_metadata): tensors, ordered by data_offsets, tile the data exactly.
TEST(SafetensorsErrors, Tiling) {
  auto two = [](const std::string& a, const std::string& b, size_t data) {
    return safetensors_bytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":)" + a +
                                 R"(},"b":{"dtype":"U8","shape":[2],"data_offsets":)" + b + "}}",
                             std::string(data, 'x'));
  };
  struct Case {
    const char* name;
    std::string bytes;
    std::string expected;
  };
  const Case cases[] = {
      {"back to back", two("[0,2]", "[2,4]", 4), "no error"},
      {"back to back, listed in reverse", two("[2,4]", "[0,2]", 4), "no error"},
      {"overlap", two("[0,2]", "[1,3]", 4),
       "m.safetensors: safetensors tensors 'a' and 'b' overlap at byte 8"},
      {"same bytes", two("[0,2]", "[0,2]", 2),
       "m.safetensors: safetensors tensors 'a' and 'b' overlap at byte 8"},
      {"hole", two("[0,2]", "[3,5]", 5),
       "m.safetensors: safetensors tensor 'b' starts at data offset 3, leaving a hole of 1 bytes "
       "at byte 8"},
      {"hole at the start", two("[1,3]", "[3,5]", 5),
       "m.safetensors: safetensors tensor 'a' starts at data offset 1, leaving a hole of 1 bytes "
       "at byte 8"},
      {"data after the last tensor", two("[0,2]", "[2,4]", 5),
       "m.safetensors: safetensors tensors end at data offset 4 but the file holds 5 data bytes "
       "at byte 8"},
      {"data and no tensor", safetensors_bytes("{}", "x"),
       "m.safetensors: safetensors tensors end at data offset 0 but the file holds 1 data bytes "
       "at byte 8"},
      {"a name twice",
       safetensors_bytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                         R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                         "xx"),
       "m.safetensors: safetensors header names 'a' twice at byte 8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.expected, read_error(c.bytes));
  }
}

// limits::kMaxTensorDims bounds every array of the header, before it is
// kept: a shape of 64 dimensions is read, one of 65 refused.
TEST(SafetensorsErrors, ArraysAtMostTheDimensionLimit) {
  auto ones = [](size_t n) {
    std::string s = "[";
    for (size_t i = 0; i < n; ++i) s += i ? ",1" : "1";
    return s + "]";
  };
  EXPECT_EQ(64u, read(one_tensor("U8", ones(64), "[0,1]", "x")).tensors[0].shape.size());
  EXPECT_EQ("m.safetensors: safetensors tensor 'w' has an array of more than 64 items at byte 8",
            read_error(one_tensor("U8", ones(65), "[0,1]", "x")));
  EXPECT_EQ("m.safetensors: safetensors tensor '__metadata__' has an array of more than 64 items "
            "at byte 8",
            read_error(safetensors_bytes(R"({"__metadata__":{"k":)" + ones(65) + "}}", "")));
}

TEST(SafetensorsErrors, Header) {
  struct Case {
    const char* name;
    std::string bytes;
    std::string expected;
  };
  std::string good = one_tensor("F32", "[2]", "[0,8]", std::string(8, '\0'));
  std::string past_end = good;
  test::poke_le(past_end, 0, 1000, 8);
  std::string huge = good;
  test::poke_le(huge, 0, 200u << 20, 8);
  // limits::kMaxSafetensorsHeader, the safetensors library's MAX_HEADER_SIZE:
  // at the limit the length is allowed (and then runs past the end), one
  // byte over it is refused.
  std::string at_limit = good, over_limit = good;
  test::poke_le(at_limit, 0, 100'000'000, 8);
  test::poke_le(over_limit, 0, 100'000'001, 8);
  std::string max_u64 = good;
  test::poke_le(max_u64, 0, ~uint64_t{0}, 8);
  const Case cases[] = {
      {"good", good, "no error"},
      {"header length past the end", past_end,
       "m.safetensors: safetensors header: 1000 bytes run past the end of the data (" +
           std::to_string(good.size()) + " bytes) at byte 8"},
      {"truncated in the header", good.substr(0, 20),
       "m.safetensors: safetensors header: " + std::to_string(good.size() - 16) +
           " bytes run past the end of the data (20 bytes) at byte 8"},
      {"header over 100 MiB", huge,
       "m.safetensors: safetensors header of 209715200 bytes is over the 100000000-byte limit "
       "at byte 0"},
      {"header at the limit", at_limit,
       "m.safetensors: safetensors header: 100000000 bytes run past the end of the data (" +
           std::to_string(good.size()) + " bytes) at byte 8"},
      {"header one byte over the limit", over_limit,
       "m.safetensors: safetensors header of 100000001 bytes is over the 100000000-byte limit "
       "at byte 0"},
      {"header length 2**64-1", max_u64,
       "m.safetensors: safetensors header of 18446744073709551615 bytes is over the "
       "100000000-byte limit at byte 0"},
      {"not an object", safetensors_bytes("{}", "").replace(8, 2, "[]"),
       "m.safetensors: not a PyTorch checkpoint: no zip signature, safetensors header or pickle "
       "protocol marker at byte 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.expected, read_error(c.bytes));
  }
}

TEST(SafetensorsErrors, AHugeHeaderIsNotAllocated) {
  // 100 MB declared, 20 bytes present: the length is checked against the
  // file before a buffer is made. The child may grow by 32 MiB only.
  std::string bytes = safetensors_bytes("{}", "");
  test::poke_le(bytes, 0, 100'000'000, 8);
  bytes += std::string(10, ' ');
  EXPECT_EXIT(
      {
        test::limit_address_space(32u << 20);
        std::exit(read_error(bytes) ==
                          "m.safetensors: safetensors header: 100000000 bytes run past the end "
                          "of the data (20 bytes) at byte 8"
                      ? 0
                      : 1);
      },
      testing::ExitedWithCode(0), "");
}

TEST(SafetensorsErrors, InvalidJsonPointsAtTheByte) {
  struct Case {
    const char* header;
    uint64_t at;  // offset in the file of the first byte that cannot be JSON
  };
  const Case cases[] = {
      {R"({"a":})", 8 + 5},
      {R"({"a":1,})", 8 + 7},
      {R"({"a" 1})", 8 + 5},
      {R"({"a":tru})", 8 + 8},             // the '}' that ends "tru"
      {R"({"a":1} x)", 8 + 8},
      {R"({"a":"unterminated)", 8 + 18},   // the end of the header
      {"{\"a\":\"\x01\"}", 8 + 6},
      {R"({"a":1)", 8 + 6},                // the end of the header
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    EXPECT_EQ("m.safetensors: safetensors header is not valid JSON at byte " +
                  std::to_string(c.at),
              read_error(safetensors_bytes(c.header, "")));
  }
}

// After the root only spaces, tabs and line ends, as serde_json (the
// safetensors library's parser) has it: nlohmann took a NUL byte for the
// end of the text, so a NUL-padded header used to be read.
TEST(SafetensorsErrors, NulPaddingIsNotWhitespace) {
  std::string header = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  EXPECT_EQ("m.safetensors: safetensors header is not valid JSON at byte " + std::to_string(8 + header.size()),
            read_error(safetensors_bytes(header + std::string(3, '\0'), "x")));
  EXPECT_EQ("no error", read_error(safetensors_bytes(header + " \t\r\n", "x")));
}

TEST(SafetensorsErrors, Tensors) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* expected;
  };
  const std::string d8(8, '\0');
  const Case cases[] = {
      {"unknown dtype", one_tensor("Q7", "[2]", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' has an unknown dtype \"Q7\" at byte 8"},
      {"dtype not a string",
       safetensors_bytes(R"({"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", d8),
       "m.safetensors: safetensors tensor 'w' has an unknown dtype 4 at byte 8"},
      {"torch-only dtype", one_tensor("QINT8", "[2]", "[0,2]", d8),
       "m.safetensors: safetensors tensor 'w' has an unknown dtype \"QINT8\" at byte 8"},
      {"data_offsets past the data", one_tensor("F32", "[2]", "[0,100]", d8),
       "m.safetensors: safetensors tensor 'w' data_offsets [0, 100] lie outside the 8 data "
       "bytes at byte 8"},
      {"data_offsets reversed", one_tensor("F32", "[0]", "[8,0]", d8),
       "m.safetensors: safetensors tensor 'w' data_offsets [8, 0] lie outside the 8 data "
       "bytes at byte 8"},
      {"data_offsets one past", one_tensor("U8", "[1]", "[8,9]", d8),
       "m.safetensors: safetensors tensor 'w' data_offsets [8, 9] lie outside the 8 data "
       "bytes at byte 8"},
      {"size mismatch", one_tensor("F32", "[3]", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' has 8 bytes for 12 bytes of elements at byte 8"},
      {"size mismatch, too many bytes", one_tensor("F32", "[1]", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' has 8 bytes for 4 bytes of elements at byte 8"},
      {"missing data_offsets",
       safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2]}})", d8),
       "m.safetensors: safetensors tensor 'w' lacks dtype, shape or data_offsets at byte 8"},
      {"entry not an object", safetensors_bytes(R"({"w":[1,2]})", d8),
       "m.safetensors: safetensors tensor 'w' lacks dtype, shape or data_offsets at byte 8"},
      {"shape not a list", one_tensor("F32", "2", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' has a malformed shape or data_offsets at byte 8"},
      {"three data_offsets", one_tensor("F32", "[2]", "[0,4,8]", d8),
       "m.safetensors: safetensors tensor 'w' has a malformed shape or data_offsets at byte 8"},
      {"negative size", one_tensor("F32", "[-2]", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' is not a non-negative integer at byte 8"},
      {"fractional size", one_tensor("F32", "[2.0]", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' is not a non-negative integer at byte 8"},
      {"negative offset", one_tensor("F32", "[2]", "[-1,8]", d8),
       "m.safetensors: safetensors tensor 'w' is not a non-negative integer at byte 8"},
      // As safetensors' serde_json reads a usize: an exponent or a value
      // of 2**64 makes a float, not an integer.
      {"size with an exponent", one_tensor("F32", "[2e0]", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' is not a non-negative integer at byte 8"},
      {"offset with an exponent", one_tensor("F32", "[2]", "[0,8e0]", d8),
       "m.safetensors: safetensors tensor 'w' is not a non-negative integer at byte 8"},
      {"offset 2**64", one_tensor("F32", "[2]", "[0,18446744073709551616]", d8),
       "m.safetensors: safetensors tensor 'w' is not a non-negative integer at byte 8"},
      {"size -0", one_tensor("F32", "[-0]", "[0,0]", d8),
       "m.safetensors: safetensors tensor 'w' is not a non-negative integer at byte 8"},
      {"numel overflows", one_tensor("U8", "[4294967296,4294967296,4]", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' numel overflows at byte 8"},
      {"size 2**64-1", one_tensor("U8", "[18446744073709551615]", "[0,8]", d8),
       "m.safetensors: safetensors tensor 'w' numel overflows at byte 8"},
      // 2**61 float64 elements are 2**64 bytes: nbytes must not wrap to 0.
      {"nbytes overflows", one_tensor("F64", "[2305843009213693952]", "[0,0]", d8),
       "m.safetensors: safetensors tensor 'w' numel overflows at byte 8"},
      // An empty tensor whose other sizes could not be strided.
      {"huge sizes next to a zero", one_tensor("U8", "[0,4611686018427387904,4]", "[0,0]", d8),
       "m.safetensors: safetensors tensor 'w' numel overflows at byte 8"},
      {"metadata not an object", safetensors_bytes(R"({"__metadata__":[1]})", ""),
       "m.safetensors: safetensors __metadata__ is not an object at byte 8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.expected, read_error(c.bytes));
  }
}

TEST(SafetensorsErrors, DeepNesting) {
  // 16 levels are fine; the 17th is refused at its bracket, even in a text cut short.
  std::string ok = R"({"__metadata__":{"a":)" + std::string(14, '[') + std::string(14, ']') + "}}";
  EXPECT_EQ("no error", read_error(safetensors_bytes(ok, "")));
  std::string deep = R"({"__metadata__":{"a":)" + std::string(100000, '[');
  EXPECT_EQ("m.safetensors: safetensors header nests deeper than 16 levels at byte " +
                std::to_string(8 + 21 + 14),
            read_error(safetensors_bytes(deep, "")));
  // Brackets inside strings do not count.
  std::string quoted = R"({"__metadata__":{"a":")" + std::string(100, '[') + R"(\"["}})";
  EXPECT_EQ("no error", read_error(safetensors_bytes(quoted, "")));
}

TEST(SafetensorsErrors, ReaderDirectly) {
  // Without the loader: no file name, offsets the same.
  auto reader = make_safetensors_reader();
  std::string bytes = safetensors_bytes("[1]", "");
  EXPECT_FALSE(reader->accepts(MemorySource(bytes)));
  try {
    reader->read(MemorySource(bytes));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ("safetensors header is not a JSON object", e.message());
    EXPECT_EQ(8u, e.offset());
    EXPECT_EQ("", e.file());
  }
}

TEST(SafetensorsTest, Accepts) {
  auto reader = make_safetensors_reader();
  struct Case {
    const char* name;
    std::string bytes;
    bool accepted;
  };
  std::string truncated = safetensors_bytes(R"({"a":1})", "");
  const Case cases[] = {
      {"minimal", safetensors_bytes("{}", ""), true},
      {"truncated header", truncated.substr(0, 12), true},
      {"8 bytes", std::string(8, '\0'), false},
      {"header length 1", safetensors_bytes("{", ""), false},
      {"no brace", safetensors_bytes(" {}", ""), false},
      {"zip", "PK\x03\x04" + std::string(20, '\0'), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.accepted, reader->accepts(MemorySource(c.bytes)));
  }
}

}  // namespace
}  // namespace ptscope
