// The safetensors header's JSON reader (io/safetensors_header.h) on its
// own: each syntax error's byte, the errors held back until the text has
// proved to be JSON, and what an entry hands on. The reader's and the
// scan's use of it are in safetensors_test.cc and scan_test.cc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ptscope/error.h"
#include "safetensors_header.h"

namespace ptscope {
namespace {

constexpr uint64_t kBase = 8;  // where the header text starts in a file

// "no error", or the error as "MESSAGE at byte N".
std::string parse_error(const std::string& text, const HeaderEntryFn& on_entry = [](HeaderEntry&) {}) {
  try {
    for_each_header_entry(text, kBase, on_entry);
  } catch (const Error& e) {
    return e.describe();
  }
  return "no error";
}

std::vector<HeaderEntry> entries(const std::string& text) {
  std::vector<HeaderEntry> all;
  for_each_header_entry(text, kBase, [&](HeaderEntry& e) { all.push_back(e); });
  return all;
}

std::string array_of(size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) s += i ? ",1" : "1";
  return s + "]";
}

TEST(SafetensorsHeader, SyntaxErrorsNameTheOffendingByte) {
  struct Case {
    const char* name;
    std::string text;
    uint64_t at;  // in the text; the error says kBase + at
  };
  const Case cases[] = {
      {"empty", "", 0},
      {"only spaces", "   ", 3},
      {"no value", R"({"a":})", 5},
      {"trailing comma in an object", R"({"a":1,})", 7},
      {"trailing comma in an array", R"({"a":[1,]})", 8},
      {"no comma", R"({"a":[1 2]})", 8},
      {"no colon", R"({"a" 1})", 5},
      {"unquoted key", R"({a:1})", 1},
      {"key without value", R"({"a":1,"b"})", 10},
      {"single quotes", R"({'a':1})", 1},
      {"leading zero", R"({"a":01})", 6},
      {"leading zero, negative", R"({"a":-01})", 7},
      {"minus alone", R"({"a":-})", 6},
      {"plus sign", R"({"a":+1})", 5},
      {"point first", R"({"a":.5})", 5},
      {"point last", R"({"a":1.})", 7},
      {"exponent without digits", R"({"a":1e})", 7},
      {"exponent sign without digits", R"({"a":1e+})", 8},
      {"hexadecimal", R"({"a":0x1})", 6},
      {"infinity", R"({"a":Infinity})", 5},
      {"NaN", R"({"a":NaN})", 5},
      {"a double's overflow", R"({"a":1e400})", 5},
      {"a negative double's overflow", R"({"a":-1e400})", 5},
      {"an integer past a double", "{\"a\":1" + std::string(400, '0') + "}", 5},
      {"a word cut short", R"({"a":tru})", 8},
      {"a word misspelt", R"({"a":nul1})", 8},
      {"capitals", R"({"a":True})", 5},
      {"garbage after the root", R"({"a":1} x)", 8},
      {"a second root", R"({"a":1}{})", 7},
      {"unterminated string", R"({"a":"abc)", 9},
      {"unterminated object", R"({"a":1)", 6},
      {"unterminated array", R"({"a":[1)", 7},
      {"control character in a string", "{\"a\":\"\x01\"}", 6},
      {"tab in a string", "{\"a\":\"\t\"}", 6},
      {"newline in a key", "{\"\n\":1}", 2},
      {"unknown escape", R"({"a":"\x"})", 7},
      {"escaped single quote", R"({"a":"\'"})", 7},
      {"bad hex digit", R"({"a":"\u12G4"})", 10},
      {"short \\u escape", R"({"a":"\u12"})", 10},
      {"lone leading surrogate", R"({"a":"\ud800"})", 6},
      {"leading surrogate, then a letter", R"({"a":"\ud800\u0041"})", 6},
      {"leading surrogate, then another", R"({"a":"\udbff\udbff"})", 6},
      {"leading surrogate at the end", R"({"a":"\ud800)", 6},
      {"lone trailing surrogate", R"({"a":"x\udc00"})", 7},
      {"invalid UTF-8 byte", "{\"a\":\"\xff\"}", 6},
      {"continuation byte first", "{\"a\":\"\x80\"}", 6},
      {"overlong NUL", "{\"a\":\"\xc0\x80\"}", 6},
      {"overlong three-byte form", "{\"a\":\"\xe0\x80\xaf\"}", 7},
      {"surrogate in UTF-8", "{\"a\":\"\xed\xa0\x80\"}", 7},
      {"past U+10FFFF", "{\"a\":\"\xf4\x90\x80\x80\"}", 7},
      {"UTF-8 cut short", "{\"a\":\"\xe2\x82\"}", 8},
      {"UTF-8 outside a string", "{\"a\":1}\xc3\xa9", 7},
      {"byte-order mark", "\xef\xbb\xbf{}", 0},
      {"NUL after the root", std::string("{}\0", 3), 2},
      {"comment", "{} // x", 3},
      // A malformed text says so whatever its entries hold.
      {"after an array over the item limit", R"({"w":)" + array_of(65) + ",", 5 + 131 + 1},
      {"after nesting over the depth limit", R"({"w":)" + std::string(20, '[') + std::string(20, ']') + "]", 45},
      {"a million brackets, unclosed", R"({"w":)" + std::string(1000000, '['), 5 + 1000000},
      {"a root that is no object, unclosed", "[1,", 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ("safetensors header is not valid JSON at byte " + std::to_string(kBase + c.at), parse_error(c.text));
  }
}

TEST(SafetensorsHeader, ValidTexts) {
  const std::string cases[] = {
      "{}",
      " \t\r\n{ \t\r\n} \t\r\n",
      R"({"a":1e-400,"b":-0,"c":0.5E+3,"d":-9223372036854775809,"e":18446744073709551616})",
      R"({"a":"\u0000\"\\\/\b\f\n\r\t\ud83d\ude00\u00e9"})",
      "{\"a\":\"\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"}",
      R"({"a":[],"b":{},"c":[[],{}],"d":{"e":{"f":[null,true,false]}}})",
      R"({"__metadata__":{"k":)" + std::string(14, '[') + std::string(14, ']') + "}}",  // 16 levels
      R"({"w":)" + array_of(64) + "}",
  };
  for (const std::string& text : cases) {
    SCOPED_TRACE(text.substr(0, 80));
    EXPECT_EQ("no error", parse_error(text));
  }
}

// The errors of the entries wait for the syntax check and are at kBase;
// the first one counts.
TEST(SafetensorsHeader, HeldErrors) {
  struct Case {
    const char* name;
    std::string text;
    std::string expected;
  };
  const std::string deep = std::string(15, '[') + std::string(15, ']');  // levels 3 to 17
  const Case cases[] = {
      {"an array", "[1]", "safetensors header is not a JSON object at byte 8"},
      {"a string", R"("x")", "safetensors header is not a JSON object at byte 8"},
      {"a number", "7", "safetensors header is not a JSON object at byte 8"},
      {"17 levels", R"({"w":{"a":)" + deep + "}}", "safetensors header nests deeper than 16 levels at byte 8"},
      {"17 levels in an entry's array", R"({"w":[)" + deep + "]}",
       "safetensors header nests deeper than 16 levels at byte 8"},
      {"a million levels", R"({"w":)" + std::string(1000000, '[') + std::string(1000000, ']') + "}",
       "safetensors header nests deeper than 16 levels at byte 8"},
      {"65 items in a shape", R"({"w":{"shape":)" + array_of(65) + "}}",
       "safetensors tensor 'w' has an array of more than 64 items at byte 8"},
      {"65 items as an entry", R"({"w":)" + array_of(65) + "}",
       "safetensors tensor 'w' has an array of more than 64 items at byte 8"},
      {"65 items in another member", R"({"w":{"x":[)" + array_of(65) + "]}}",
       "safetensors tensor 'w' has an array of more than 64 items at byte 8"},
      {"65 items in metadata", R"({"__metadata__":{"k":)" + array_of(65) + "}}",
       "safetensors tensor '__metadata__' has an array of more than 64 items at byte 8"},
      {"the first of two", R"({"a":)" + array_of(65) + R"(,"b":{"c":)" + deep + "}}",
       "safetensors tensor 'a' has an array of more than 64 items at byte 8"},
      {"too deep before too long", R"({"a":{"c":)" + deep + R"(},"b":)" + array_of(65) + "}",
       "safetensors header nests deeper than 16 levels at byte 8"},
      {"a root array's items", array_of(65), "safetensors header is not a JSON object at byte 8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.expected, parse_error(c.text));
  }
}

// The callback's error waits like the reader's own: a later syntax error
// wins, and no entry is handed on after it.
TEST(SafetensorsHeader, CallbackErrorsWaitForTheSyntaxCheck) {
  std::vector<std::string> seen;
  auto refuse_a = [&](HeaderEntry& e) {
    seen.push_back(e.name);
    if (e.name == "a") throw Error("no 'a'", 3);
  };
  EXPECT_EQ("no 'a' at byte 3", parse_error(R"({"z":1,"a":2,"b":3})", refuse_a));
  EXPECT_EQ((std::vector<std::string>{"z", "a"}), seen);
  seen.clear();
  EXPECT_EQ("safetensors header is not valid JSON at byte 31", parse_error(R"({"z":1,"a":2,"b":3,"c":})", refuse_a));
  // An item-limit error before the callback's: the entry is not handed on.
  seen.clear();
  EXPECT_EQ("safetensors tensor 'y' has an array of more than 64 items at byte 8",
            parse_error(R"({"y":)" + array_of(65) + R"(,"a":1})", refuse_a));
  EXPECT_TRUE(seen.empty());
}

TEST(SafetensorsHeader, Tensors) {
  std::string text =
      R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24],"extra":{"x":[1,{"y":null}]}},)"
      R"("\u0076\u00e9\ud83d\ude00\n":{"data_offsets":[1],"shape":[],"dtype":"U8"},)"
      R"("twice":{"dtype":"F32","dtype":"I8","shape":[9],"shape":"x","data_offsets":7},)"
      R"("odd":{"dtype":4,"shape":[2,-1,3],"data_offsets":[1.0,2]},)"
      R"("list":[1,2],"n":5})";
  std::vector<HeaderEntry> e = entries(text);
  ASSERT_EQ(6u, e.size());

  EXPECT_EQ("w", e[0].name);
  EXPECT_EQ(JsonType::Object, e[0].type);
  EXPECT_EQ(JsonType::String, e[0].dtype_type);
  EXPECT_EQ("F32", e[0].dtype);
  EXPECT_EQ(JsonType::Array, e[0].shape.type);
  EXPECT_EQ((std::vector<uint64_t>{2, 3}), e[0].shape.uints);
  EXPECT_TRUE(e[0].shape.all_unsigned());
  EXPECT_EQ((std::vector<uint64_t>{0, 24}), e[0].data_offsets.uints);
  EXPECT_EQ(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,24],"extra":{"x":[1,{"y":null}]}})",
            text.substr(e[0].text.begin, e[0].text.end - e[0].text.begin));

  EXPECT_EQ("v\xc3\xa9\xf0\x9f\x98\x80\n", e[1].name);  // escapes decoded to UTF-8
  EXPECT_EQ("U8", e[1].dtype);
  EXPECT_EQ(0u, e[1].shape.items);
  EXPECT_EQ(1u, e[1].data_offsets.items);

  // The last of a repeated member counts.
  EXPECT_EQ("I8", e[2].dtype);
  EXPECT_EQ(JsonType::String, e[2].shape.type);
  EXPECT_EQ(JsonType::Unsigned, e[2].data_offsets.type);
  EXPECT_EQ("7", json_dump(text, e[2].data_offsets.text));

  EXPECT_EQ(JsonType::Unsigned, e[3].dtype_type);
  EXPECT_EQ("4", json_dump(text, e[3].dtype_text));
  EXPECT_EQ(3u, e[3].shape.items);
  EXPECT_EQ((std::vector<uint64_t>{2}), e[3].shape.uints);  // up to the first that is not unsigned
  EXPECT_FALSE(e[3].shape.all_unsigned());
  EXPECT_TRUE(e[3].data_offsets.uints.empty());

  EXPECT_EQ(JsonType::Array, e[4].type);
  EXPECT_EQ(JsonType::Absent, e[4].dtype_type);
  EXPECT_EQ(JsonType::Unsigned, e[5].type);
}

// Numbers class as nlohmann and serde_json class them: a shape or offset
// is an integer in [0, 2**64) written without fraction or exponent.
TEST(SafetensorsHeader, Numbers) {
  struct Case {
    const char* number;
    JsonType type;
    uint64_t value;  // when Unsigned
  };
  const Case cases[] = {
      {"0", JsonType::Unsigned, 0},
      {"7", JsonType::Unsigned, 7},
      {"18446744073709551615", JsonType::Unsigned, ~uint64_t{0}},
      {"18446744073709551616", JsonType::Float, 0},  // 2**64
      {"-0", JsonType::Signed, 0},
      {"-1", JsonType::Signed, 0},
      {"-9223372036854775808", JsonType::Signed, 0},
      {"-9223372036854775809", JsonType::Float, 0},
      {"1.0", JsonType::Float, 0},
      {"1e3", JsonType::Float, 0},
      {"1E+3", JsonType::Float, 0},
      {"0e0", JsonType::Float, 0},
      {"1e-400", JsonType::Float, 0},  // underflows to 0: a number still
      {"1.7976931348623157e308", JsonType::Float, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.number);
    std::vector<HeaderEntry> e = entries(std::string(R"({"w":{"shape":[)") + c.number + "]}}");
    ASSERT_EQ(1u, e.size());
    EXPECT_EQ(1u, e[0].shape.items);
    EXPECT_EQ(c.type == JsonType::Unsigned, e[0].shape.all_unsigned());
    if (c.type == JsonType::Unsigned) EXPECT_EQ(c.value, e[0].shape.uints[0]);
    e = entries(std::string(R"({"w":)") + c.number + "}");
    EXPECT_EQ(c.type, e[0].type);
  }
  EXPECT_EQ("safetensors header is not valid JSON at byte 13", parse_error(R"({"w":1.7976931348623159e308})"));
}

TEST(SafetensorsHeader, Metadata) {
  std::string text =
      R"({"__metadata__":{"format":"pt","n":7,"nested":{"b":[1.0],"a":"\u00e9"},"format":"tf"},)"
      R"("x":{"__metadata__":1}})";
  std::vector<HeaderEntry> e = entries(text);
  ASSERT_EQ(2u, e.size());
  ASSERT_EQ(4u, e[0].metadata.size());  // in text order, a repeated key twice
  EXPECT_EQ("format", e[0].metadata[0].key);
  EXPECT_EQ("pt", e[0].metadata[0].value);
  EXPECT_EQ(JsonType::Unsigned, e[0].metadata[1].type);
  EXPECT_EQ("7", json_dump(text, e[0].metadata[1].text));
  EXPECT_EQ(JsonType::Object, e[0].metadata[2].type);
  EXPECT_EQ("{\"a\":\"\xc3\xa9\",\"b\":[1.0]}", json_dump(text, e[0].metadata[2].text));  // as nlohmann writes it
  EXPECT_EQ("tf", e[0].metadata[3].value);
  EXPECT_TRUE(e[1].metadata.empty());  // only the top-level entry is metadata
}

}  // namespace
}  // namespace ptscope
