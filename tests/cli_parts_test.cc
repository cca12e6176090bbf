// The command line's parts that need no process: dtype spellings,
// suggestions, the progress line, and tables padded by display width.
#include <gtest/gtest.h>

#include <sstream>

#include "display_width.h"
#include "dtype_names.h"
#include "progress.h"
#include "report.h"
#include "suggest.h"

namespace ptscope::cli {
namespace {

TEST(DtypeNames, EverySpellingOfTheFloatTypes) {
  for (const char* n : {"fp16", "float16", "half", "FP16"}) EXPECT_EQ(float_dtype_from_name(n), DType::Float16) << n;
  for (const char* n : {"bf16", "bfloat16"}) EXPECT_EQ(float_dtype_from_name(n), DType::BFloat16) << n;
  for (const char* n : {"fp32", "float32", "float"}) EXPECT_EQ(float_dtype_from_name(n), DType::Float32) << n;
  EXPECT_EQ(float_dtype_from_name("int8"), std::nullopt);
  EXPECT_EQ(float_dtype_from_name("1"), std::nullopt);
}

TEST(DtypeNames, EstimateAlsoTakesQuantizedTypes) {
  EXPECT_EQ(weight_type_from_name("half"), WeightType::FP16);
  EXPECT_EQ(weight_type_from_name("bfloat16"), WeightType::BF16);
  EXPECT_EQ(weight_type_from_name("float"), WeightType::FP32);
  EXPECT_EQ(weight_type_from_name("int8"), WeightType::INT8);
  EXPECT_EQ(weight_type_from_name("int4"), WeightType::INT4);
  EXPECT_EQ(weight_type_from_name("int3"), std::nullopt);
}

TEST(DtypeNames, InputsLeaveAsTorchsCanonicalNames) {
  EXPECT_EQ(torch_dtype_name("fp16"), "float16");
  EXPECT_EQ(torch_dtype_name("half"), "float16");
  EXPECT_EQ(torch_dtype_name("bf16"), "bfloat16");
  EXPECT_EQ(torch_dtype_name("float"), "float32");
  EXPECT_EQ(torch_dtype_name("long"), "int64");
  EXPECT_EQ(torch_dtype_name("int64"), "int64");
  EXPECT_EQ(torch_dtype_name("bool"), "bool");
  EXPECT_EQ(torch_dtype_name("int3"), std::nullopt);
}

TEST(DtypeNames, HelpListsOneSpellingPerTypeAndTheAliases) {
  EXPECT_EQ(float_dtype_names(), (std::vector<std::string>{"fp32", "fp16", "bf16"}));
  EXPECT_EQ(dtype_aliases(), "fp32 = float32 = float, fp16 = float16 = half, bf16 = bfloat16");
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("inspekt", "inspect"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(Suggest, NearestOnlyWhenClose) {
  std::vector<std::string> commands = {"inspect", "profile", "estimate", "backend"};
  EXPECT_EQ(nearest("inspekt", commands), "inspect");
  EXPECT_EQ(nearest("estimat", commands), "estimate");
  EXPECT_EQ(nearest("frobnicate", commands), "");
  EXPECT_EQ(nearest("--tensor", {"--tree", "--tensors", "--bytes"}), "--tensors");
}

TEST(Progress, LineSaysWhatHowFarAndTheRate) {
  EXPECT_EQ(progress_line("reading a.pt", 0, 3, 0.0), "[1/3] reading a.pt");
  EXPECT_EQ(progress_line("reading c.pt", 2, 3, 4.0), "[3/3] reading c.pt  0.5 files/s");
}

TEST(DisplayWidth, WideCombiningAndInvalid) {
  EXPECT_EQ(display_width("layer.weight"), 12u);
  EXPECT_EQ(display_width("\u6743\u91cd"), 4u);          // 权重: two ideographs
  EXPECT_EQ(display_width("caf\u00e9"), 4u);              // precomposed é
  EXPECT_EQ(display_width("cafe\u0301"), 4u);             // e + combining acute
  EXPECT_EQ(display_width("\uff21"), 2u);                 // fullwidth A
  EXPECT_EQ(display_width(std::string("a\xff" "b")), 3u);  // a stray byte counts one
}

TEST(DisplayWidth, ShortenInTheMiddle) {
  EXPECT_EQ(shorten_middle("abcdef", 6), "abcdef");
  EXPECT_EQ(shorten_middle("abcdefgh", 5), "ab\u2026gh");
  EXPECT_EQ(shorten_middle("\u6743\u91cd\u6743\u91cd", 5), "\u6743\u2026\u91cd");  // 8 columns into 5
  EXPECT_EQ(shorten_middle("e\u0301e\u0301e\u0301e\u0301", 3), "e\u0301\u2026e\u0301");
}

TEST(WriteTable, PadsByDisplayWidth) {
  TextTable t{{"name", "bytes"}, {false, true},
              {{"\u6743\u91cd", "1024"}, {"caf\u00e9.bias", "8"}, {"w", "12"}}};
  std::ostringstream out;
  write_table(out, t);
  EXPECT_EQ(out.str(),
            "name       bytes\n"
            "\u6743\u91cd       1,024\n"
            "caf\u00e9.bias      8\n"
            "w             12\n");
}

TEST(WriteTable, ShortensLongNamesToSixtyColumns) {
  std::string name = "model.encoder.layers.11.attention.self.query_key_value.weight.extra.long.name";
  TextTable t{{"name", "numel"}, {false, true}, {{name, "3"}}};
  std::ostringstream out;
  write_table(out, t);
  std::string row = out.str().substr(out.str().find('\n') + 1);
  std::string shown = row.substr(0, row.find("  "));
  EXPECT_EQ(display_width(shown), 60u);
  EXPECT_EQ(shown, "model.encoder.layers.11.attent\u2026_value.weight.extra.long.name");
  std::ostringstream csv;
  write_delimited(csv, t, ',');
  EXPECT_NE(csv.str().find(name), std::string::npos);
}

// A name from a file cannot forge a row or reach the terminal: control
// characters are escaped as \xHH in CSV and TSV as in tables (issue 14).
TEST(WriteDelimited, EscapesControlCharacters) {
  TextTable t{{"name", "numel"},
              {false, true},
              {{"row\nforged,1", "1"}, {"title\x1b]0;x\x07", "2"}, {"tab\there \"q\"", "3"},
               {"csi\u009b31m", "4"}}};
  std::ostringstream csv, tsv;
  write_delimited(csv, t, ',');
  write_delimited(tsv, t, '\t');
  EXPECT_EQ(csv.str(),
            "name,numel\n"
            "\"row\\x0aforged,1\",1\n"
            "title\\x1b]0;x\\x07,2\n"
            "\"tab\\x09here \"\"q\"\"\",3\n"
            "csi\\x9b31m,4\n");
  EXPECT_EQ(tsv.str(),
            "name\tnumel\n"
            "row\\x0aforged,1\t1\n"
            "title\\x1b]0;x\\x07\t2\n"
            "tab\\x09here \"q\"\t3\n"
            "csi\\x9b31m\t4\n");
}

TEST(WriteTable, NeverCutsTheLastColumn) {
  // estimate's formulas: nothing follows them, and they must be read whole.
  std::string formula(90, 'x');
  TextTable t{{"", "formula"}, {false, false}, {{"weights", formula}}};
  std::ostringstream out;
  write_table(out, t);
  EXPECT_EQ(out.str(), "         formula\nweights  " + formula + "\n");
}

}  // namespace
}  // namespace ptscope::cli
