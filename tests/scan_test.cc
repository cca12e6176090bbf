// ptscope scan, table-driven: each row is a file built byte by byte, the
// verdict, and every finding's exact text ("severity kind at: detail").
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fixture_files.h"
#include "pickle_builder.h"
#include "ptscope/scan.h"
#include "safetensors_builder.h"
#include "torch_file_builder.h"
#include "zip_builder.h"

namespace ptscope {
namespace {

using test::PickleAsm;
namespace op = test::op;

std::string write_temp(const std::string& name, const std::string& bytes) {
  std::string path = testing::TempDir() + "ptscope_scan_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::vector<std::string> lines(const ScanResult& r) {
  std::vector<std::string> out;
  for (const Finding& f : r.findings)
    out.push_back(std::string(severity_name(f.severity)) + " " + f.kind + " " +
                  (f.offset ? std::to_string(*f.offset) : f.record_offset ? "+" + std::to_string(*f.record_offset) : "-") + (f.count > 1 ? " x" + std::to_string(f.count) : "") +
                  ": " + f.detail);
  return out;
}

// The payload every row would run: os.system('touch x').
PickleAsm& call_system(PickleAsm& p) {
  return p.global("os", "system").str("touch x").put(op::TUPLE1).put(op::REDUCE);
}

struct Row {
  const char* what;
  std::string file_name;
  std::string bytes;
  Verdict verdict;
  std::string format;
  std::vector<std::string> findings;
};

void check(const Row& row) {
  SCOPED_TRACE(row.what);
  ScanResult r = scan_file(write_temp(row.file_name, row.bytes));
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.format, row.format);
  EXPECT_EQ(verdict_name(r.verdict), std::string(verdict_name(row.verdict)));
  EXPECT_EQ(lines(r), row.findings);
}

TEST(ScanPickle, CallPaths) {
  std::vector<Row> rows;
  const std::string bare = "pickle (torch.load unpickles it while looking for the legacy magic number)";
  {
    PickleAsm p;
    p.proto(2);
    call_system(p).stop();
    rows.push_back({"REDUCE", "reduce.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous global 2: GLOBAL imports os.system: runs programs and touches files",
                     "dangerous call 26: REDUCE calls os.system('touch x'): runs programs and touches files"}});
  }
  {
    PickleAsm p;
    p.proto(2).put(op::MARK).str("touch x").put(op::INST).line("os").line("system").stop();
    rows.push_back({"INST", "inst.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous call 15: INST calls os.system('touch x'): runs programs and touches files",
                     "dangerous global 15: INST imports os.system: runs programs and touches files",
                     "needs-code weights-only 15: torch.load(weights_only=True) refuses opcode INST (it implements protocol 2's subset)"}});
  }
  {
    PickleAsm p;
    p.proto(2).put(op::MARK).global("subprocess", "getoutput").str("touch x").put(op::OBJ).stop();
    rows.push_back({"OBJ", "obj.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous global 3: GLOBAL imports subprocess.getoutput: runs programs",
                     "dangerous call 37: OBJ calls subprocess.getoutput('touch x'): runs programs",
                     "needs-code weights-only 37: torch.load(weights_only=True) refuses opcode OBJ (it implements protocol 2's subset)"}});
  }
  {
    PickleAsm p;
    p.proto(4).put(op::SHORT_BINUNICODE).u8(5).raw("torch").put(op::SHORT_BINUNICODE).u8(23)
        .raw("serialization.os.system").put(op::STACK_GLOBAL).put(op::EMPTY_TUPLE).put(op::NEWOBJ).stop();
    rows.push_back({"protocol-4 dotted name, NEWOBJ", "dotted.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous global 34: STACK_GLOBAL imports torch.serialization.os.system: reaches "
                     "'serialization.os.system' from module torch by attribute lookups (a dotted name)",
                     "dangerous call 36: NEWOBJ calls torch.serialization.os.system(): reaches "
                     "'serialization.os.system' from module torch by attribute lookups (a dotted name)",
                     "needs-code weights-only 2 x2: torch.load(weights_only=True) refuses opcode SHORT_BINUNICODE (it implements protocol 2's subset)",
                     "needs-code weights-only 34: torch.load(weights_only=True) refuses opcode STACK_GLOBAL (it implements protocol 2's subset)"}});
  }
  {
    PickleAsm p;
    p.proto(2).global("__builtin__", "eval").put(op::EMPTY_TUPLE).put(op::EMPTY_DICT).put(op::NEWOBJ_EX).stop();
    rows.push_back({"Python 2 module name, NEWOBJ_EX", "newobj_ex.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous global 2: GLOBAL imports builtins.eval: evaluates Python code",
                     "dangerous call 22: NEWOBJ_EX calls builtins.eval({}): evaluates Python code",
                     "needs-code weights-only 22: torch.load(weights_only=True) refuses opcode NEWOBJ_EX (it implements protocol 2's subset)"}});
  }
  {
    // importlib.import_module('os') then getattr(..., 'system') then a call
    // of what getattr returned: no name the pickle spells is os.system.
    PickleAsm p;
    p.proto(2).global("builtins", "getattr").global("importlib", "import_module").str("os")
        .put(op::TUPLE1).put(op::REDUCE).str("system").put(op::TUPLE2).put(op::REDUCE).str("touch x")
        .put(op::TUPLE1).put(op::REDUCE).stop();
    rows.push_back({"import by name, computed callable", "getattr.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous global 2: GLOBAL imports builtins.getattr: reflection: reaches any attribute",
                     "dangerous global 20: GLOBAL imports importlib.import_module: imports modules by name",
                     "dangerous call 53: REDUCE calls importlib.import_module('os'): imports modules by name",
                     "dangerous call 66: REDUCE calls builtins.getattr(importlib.import_module('os'), 'system'): reflection: reaches any attribute",
                     "dangerous call 80: REDUCE calls a value the pickle built, builtins.getattr(importlib.import_module('os'), "
                     "'system') with ('touch x')"}});
  }
  {
    // BUILD puts __setstate__ in an instance's __dict__; the next BUILD calls it.
    PickleAsm p;
    p.proto(2).global("collections", "OrderedDict").put(op::EMPTY_TUPLE).put(op::REDUCE).put(op::EMPTY_DICT)
        .str("__setstate__").global("os", "system").put(op::SETITEM).put(op::BUILD).str("touch x").put(op::BUILD).stop();
    rows.push_back({"BUILD arms __setstate__", "build.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous global 47: GLOBAL imports os.system: runs programs and touches files",
                     "dangerous build 59: BUILD sets __setstate__ on dict to os.system: only an attack needs to set a special method",
                     "dangerous call 72: BUILD calls the __setstate__ an earlier BUILD set on dict (os.system) with 'touch x'"}});
  }
  {
    // Python's MEMOIZE numbers a slot by the memo's size, not by how many
    // MEMOIZEs came before: after BINPUT 2, the next MEMOIZE writes slot 2
    // again, so BINGET 2 is 'system' to Python and 'print' to a scanner
    // that counts.
    PickleAsm p;
    p.proto(4).put(op::MARK).put(op::SHORT_BINUNICODE).u8(2).raw("os").put(op::MEMOIZE)
        .put(op::SHORT_BINUNICODE).u8(5).raw("print").put(op::BINPUT).u8(2)
        .put(op::SHORT_BINUNICODE).u8(6).raw("system").put(op::MEMOIZE)
        .put(op::BINGET).u8(0).put(op::BINGET).u8(2).put(op::STACK_GLOBAL).put(op::POP_MARK).put(op::NONE).stop();
    rows.push_back({"memo slot written twice", "memo.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous global 30: STACK_GLOBAL imports os.system: runs programs and touches files",
                     "needs-code weights-only 3 x3: torch.load(weights_only=True) refuses opcode SHORT_BINUNICODE (it implements protocol 2's subset)",
                     "needs-code weights-only 7 x2: torch.load(weights_only=True) refuses opcode MEMOIZE (it implements protocol 2's subset)",
                     "needs-code weights-only 30: torch.load(weights_only=True) refuses opcode STACK_GLOBAL (it implements protocol 2's subset)",
                     "needs-code weights-only 31: torch.load(weights_only=True) refuses opcode POP_MARK (it implements protocol 2's subset)",
                     "warning memo-overwrite 25: MEMOIZE writes memo slot 2 a second time: Python resolves the later value, a "
                     "scanner that numbers the memo differently sees another; pickle.dump never does this"}});
  }
  {
    PickleAsm inner;
    inner.proto(2);
    call_system(inner).stop();
    PickleAsm p;
    p.proto(2).global("pickle", "loads").put(op::SHORT_BINBYTES).u8(inner.size()).raw(inner.bytes())
        .put(op::TUPLE1).put(op::REDUCE).stop();
    rows.push_back({"nested pickle.loads", "nested.pkl", p.bytes(), Verdict::Dangerous, bare,
                    {"dangerous global 2: GLOBAL imports pickle.loads: loads more pickles",
                     "dangerous call 47: REDUCE calls pickle.loads(b'\\x80\\x02cos\\x0asystem\\x0aX\\x07\\x00\\x00\\x00touch "
                     "x\\x85R.'): loads more pickles",
                     "dangerous global +2: GLOBAL imports os.system: runs programs and touches files",
                     "dangerous call +26: REDUCE calls os.system('touch x'): runs programs and touches files",
                     "needs-code weights-only 16: torch.load(weights_only=True) refuses opcode SHORT_BINBYTES (it implements protocol 2's subset)"}});
  }
  {
    // Python runs the REDUCE before it meets the bad byte.
    PickleAsm p;
    p.proto(2);
    call_system(p).put(0xff);
    rows.push_back({"payload before a malformed byte", "broken.bin", p.bytes(), Verdict::Dangerous, "pickle (malformed)",
                    {"dangerous global 2: GLOBAL imports os.system: runs programs and touches files",
                     "dangerous call 26: REDUCE calls os.system('touch x'): runs programs and touches files",
                     "needs-code weights-only 27: torch.load(weights_only=True) refuses opcode 0xff (it implements protocol 2's subset)",
                     "warning pickle-malformed 27: the pickle breaks here (pickle 1 (magic number): unknown opcode 0xff): "
                     "Python has already run everything before this byte"}});
  }
  for (const Row& r : rows) check(r);
}

TEST(ScanPickle, NeedsCodeAndSafe) {
  std::vector<Row> rows;
  const std::string bare = "pickle (torch.load unpickles it while looking for the legacy magic number)";
  {
    PickleAsm p;
    p.proto(2).global("argparse", "Namespace").put(op::EMPTY_TUPLE).put(op::NEWOBJ).put(op::EMPTY_DICT)
        .str("lr").integer(3).put(op::SETITEM).put(op::BUILD).stop();
    rows.push_back({"argparse.Namespace", "args.pkl", p.bytes(), Verdict::NeedsCode, bare,
                    {"needs-code global 2: GLOBAL imports argparse.Namespace, which torch's weights_only allowlist does not hold",
                     "needs-code call 23: NEWOBJ calls argparse.Namespace()",
                     "needs-code weights-only 35: torch.load(weights_only=True) refuses BUILD on argparse.Namespace"}});
  }
  {
    PickleAsm p;
    p.proto(2).put(op::EMPTY_LIST).str("k").integer(1).put(op::SETITEM).stop();
    rows.push_back({"SETITEM on a list", "list.pkl", p.bytes(), Verdict::NeedsCode, bare,
                    {"needs-code weights-only 11: torch.load(weights_only=True) refuses SETITEM on list"}});
  }
  {
    PickleAsm p;
    p.proto(2).global("collections", "OrderedDict").put(op::EMPTY_TUPLE).put(op::REDUCE).str("n")
        .global("torch", "float16").put(op::SETITEM).stop();
    rows.push_back({"allowlisted globals only", "ok.pkl", p.bytes(), Verdict::Safe, bare, {}});
  }
  {
    test::TorchZip z = test::torch_zip(test::state_pickle(test::TensorSpec{}).bytes);
    rows.push_back({"a torch.save state_dict", "state.pt", z.bytes, Verdict::Safe, "torch.save zip archive", {}});
  }
  rows.push_back({"text", "notes.txt", "hello\n", Verdict::Safe, "not a checkpoint (torch.load fails at byte 0)", {}});
  for (const Row& r : rows) check(r);
}

// A tensor's backward-hooks argument is unpickled like everything else.
// The interpreter reuses a released value's slot: what an allowlisted call
// made, once released, must not make the next value in that slot allowed.
// OrderedDict() is popped and released; argparse.Namespace() then takes its
// slot, and BUILD on it is still refused.
TEST(ScanPickle, AReleasedSlotIsNotAllowlisted) {
  PickleAsm p;
  p.proto(2).global("argparse", "Namespace").global("collections", "OrderedDict")
      .put(op::BINPUT).u8(0).put(op::EMPTY_TUPLE).put(op::REDUCE).put(op::POP)
      .put(op::EMPTY_TUPLE).put(op::NEWOBJ).put(op::EMPTY_DICT).str("lr").integer(3)
      .put(op::SETITEM).put(op::BUILD).put(op::BINGET).u8(0).put(op::POP).stop();
  check({"released slot", "reuse.pkl", p.bytes(), Verdict::NeedsCode,
         "pickle (torch.load unpickles it while looking for the legacy magic number)",
         {"needs-code global 2: GLOBAL imports argparse.Namespace, which torch's weights_only allowlist does not hold",
          "needs-code weights-only 51 x2: torch.load(weights_only=True) refuses opcode POP (it implements protocol 2's subset)",
          "needs-code call 53: NEWOBJ calls argparse.Namespace()",
          "needs-code weights-only 65: torch.load(weights_only=True) refuses BUILD on argparse.Namespace"}});
}

TEST(ScanPickle, PayloadInATensorsHooks) {
  PickleAsm p;
  p.proto(2).global("collections", "OrderedDict").put(op::EMPTY_TUPLE).put(op::REDUCE).str("w")
      .global("torch._utils", "_rebuild_tensor_v2").put(op::MARK)
      .put(op::MARK).str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(6).put(op::TUPLE)
      .put(op::BINPERSID).integer(0).put(op::MARK).integer(6).put(op::TUPLE).put(op::MARK).integer(1).put(op::TUPLE)
      .put(op::NEWFALSE).global("collections", "OrderedDict").put(op::EMPTY_TUPLE).put(op::REDUCE).str("h");
  call_system(p).put(op::SETITEM).put(op::TUPLE).put(op::REDUCE).put(op::SETITEM).stop();
  test::TorchZip z = test::torch_zip(p.bytes());
  ScanResult r = scan_file(write_temp("hooks.pt", z.bytes));
  EXPECT_EQ(r.verdict, Verdict::Dangerous);
  ASSERT_FALSE(r.findings.empty());
  EXPECT_EQ(r.findings[0].global, "os.system");
  EXPECT_EQ(r.findings[0].record, "archive/data.pkl");
}

TEST(ScanContainer, ZipFindings) {
  test::TorchZip clean = test::torch_zip(test::state_pickle(test::TensorSpec{}).bytes);
  struct ZipRow {
    const char* what;
    std::string bytes;
    std::vector<std::string> findings;
  };
  std::vector<ZipRow> rows;
  {
    std::string b = clean.bytes;
    uint64_t name_at = clean.layout.header_offset[0] + 30;
    b[name_at + 8] = 'X';  // "archive/data.pkl" -> "archive/Xata.pkl" in the local header only
    rows.push_back({"local and central names differ", b,
                    {"warning zip-name-mismatch " + std::to_string(clean.layout.header_offset[0]) +
                     ": the local header names 'archive/Xata.pkl', the central directory 'archive/data.pkl': "
                     "Python's zipfile refuses the record, torch reads it by the central name"}});
  }
  {
    std::string b = clean.bytes;
    b[clean.layout.data_offset[0] + 3] ^= 0;  // same bytes...
    // ...but the central directory's CRC of data.pkl flipped.
    uint64_t crc_at = clean.layout.cd_offset + 16;
    b[crc_at] ^= 0x01;
    char want[16];
    uint32_t recorded = 0, computed = 0;
    for (int i = 3; i >= 0; --i) recorded = recorded << 8 | static_cast<uint8_t>(b[crc_at + i]);
    computed = recorded ^ 0x01;
    std::snprintf(want, sizeof want, "0x%08x", recorded);
    std::string rec = want;
    std::snprintf(want, sizeof want, "0x%08x", computed);
    rows.push_back({"CRC mismatch", b,
                    {"warning zip-crc " + std::to_string(clean.layout.header_offset[0]) + ": CRC-32 recorded " + rec +
                     ", computed " + want + ": Python's zipfile refuses to read the record, so scanners built on it skip it"}});
  }
  {
    test::ZipBuilder z;
    PickleAsm extra;
    extra.proto(2);
    call_system(extra).stop();
    z.add("archive/data.pkl", test::state_pickle(test::TensorSpec{}).bytes)
        .add("archive/data/0", std::string(24, '\0'))
        .add("archive/data/7", std::string(8, '\0'))
        .add("archive/extra.pkl", extra.bytes());
    std::string b = z.build();
    uint64_t unread_at = z.layout().header_offset[2], extra_at = z.layout().data_offset[3];
    rows.push_back({"a storage nothing names, a pickle outside data.pkl", b,
                    {"dangerous global " + std::to_string(extra_at + 2) + ": GLOBAL imports os.system: runs programs and touches files",
                     "dangerous call " + std::to_string(extra_at + 26) + ": REDUCE calls os.system('touch x'): runs programs and touches files",
                     "warning zip-unread " + std::to_string(unread_at) + ": no persistent id in data.pkl names this storage: nothing reads it",
                     "warning pickle-outside-data-pkl " + std::to_string(extra_at) +
                         ": a pickle outside data.pkl: torch.load never unpickles it, but a tool or a later pickle.load might"}});
  }
  for (const ZipRow& row : rows) {
    SCOPED_TRACE(row.what);
    ScanResult r = scan_file(write_temp("zip.pt", row.bytes));
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(lines(r), row.findings);
  }
}

// A pickle's CRC is always checked; a storage's only with --crc, which
// reads every record.
TEST(ScanContainer, CrcOfEveryRecordWithTheOption) {
  test::TorchZip z = test::torch_zip(test::state_pickle(test::TensorSpec{}).bytes);
  std::string b = z.bytes;
  b[z.layout.data_offset[1]] ^= 0x01;  // data/0, a storage
  std::string path = write_temp("storage_crc.pt", b);
  EXPECT_EQ(lines(scan_file(path)), std::vector<std::string>{});
  ScanOptions crc;
  crc.crc = true;
  std::vector<std::string> found = lines(scan_file(path, crc));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].substr(0, found[0].find(':')),
            "warning zip-crc " + std::to_string(z.layout.header_offset[1]));
}

TEST(ScanContainer, PolyglotAndExtension) {
  // A pickle torch.load runs, followed by a clean archive zip tools see.
  PickleAsm p;
  p.proto(2);
  call_system(p).stop();
  test::TorchZip z = test::torch_zip(test::state_pickle(test::TensorSpec{}).bytes);
  ScanResult r = scan_file(write_temp("polyglot.pt", p.bytes() + z.bytes));
  EXPECT_EQ(r.verdict, Verdict::Dangerous);
  std::vector<std::string> kinds;
  for (const Finding& f : r.findings) kinds.push_back(f.kind);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "polyglot"), kinds.end());

  ScanResult renamed = scan_file(write_temp("renamed.safetensors", z.bytes));
  EXPECT_EQ(renamed.format, "torch.save zip archive");
  ASSERT_EQ(lines(renamed).size(), 1u);
  EXPECT_EQ(lines(renamed)[0],
            "warning format-extension 0: the name promises safetensors, the content is torch.save zip archive: "
            "tools that choose their reader by the name are misled");
}

TEST(ScanContainer, TorchScriptIsCode) {
  ScanResult r = scan_file(write_temp("script.pt", test::torchscript_zip("def forward(self):\n  return 1\n")));
  EXPECT_EQ(r.format, "TorchScript archive");
  EXPECT_EQ(r.verdict, Verdict::NeedsCode);
  ASSERT_FALSE(r.findings.empty());
  EXPECT_EQ(r.findings[0].kind, "torchscript");
}

TEST(ScanContainer, SafetensorsStrictness) {
  // Header by hand: a hole between two tensors and a non-string metadata value.
  std::string header =
      R"({"__metadata__":{"step":3},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header + std::string(12, '\0');
  ScanResult r = scan_file(write_temp("holes.safetensors", bytes));
  EXPECT_EQ(r.verdict, Verdict::Safe);
  EXPECT_EQ(lines(r), (std::vector<std::string>{
                          "warning safetensors-header 8: __metadata__ value 'step' is not a string: safetensors' own loader refuses this file",
                          "warning safetensors-header 8: the data has a 4-byte hole at data offset 4: safetensors' own loader refuses this file"}));
}

// An array longer than limits::kMaxTensorDims stops the header check with a
// note, not a claim that the library refuses it (it has no such bound).
TEST(ScanContainer, SafetensorsLongArrayIsNotScanned) {
  std::string shape = "[1";
  for (int i = 1; i < 65; ++i) shape += ",1";
  std::string header = R"({"w":{"dtype":"U8","shape":)" + shape + R"(],"data_offsets":[0,1]}})";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header + std::string(1, '\0');
  ScanResult r = scan_file(write_temp("long.safetensors", bytes));
  EXPECT_EQ(r.verdict, Verdict::Safe);
  EXPECT_EQ(lines(r), (std::vector<std::string>{
                          "info not-scanned 8: safetensors tensor 'w' has an array of more than 64 items: ptscope "
                          "reads no longer array, the rest of the header was not checked"}));
}

TEST(ScanContainer, NumpyObjectArray) {
  PickleAsm p;
  p.proto(3);
  call_system(p).stop();
  // Version 1: a 2-byte header length; header and magic padded to 128 bytes.
  auto npy_file = [](std::string header, const std::string& data) {
    header += std::string(128 - 10 - header.size() - 1, ' ') + "\n";
    return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header + data;
  };
  std::string npy = npy_file("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", p.bytes());
  ScanResult r = scan_file(write_temp("objects.npy", npy));
  EXPECT_EQ(r.format, "NumPy .npy object array (its data is a pickle)");
  EXPECT_EQ(r.verdict, Verdict::Dangerous);

  std::string numeric = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", std::string(4, '\0'));
  ScanResult plain = scan_file(write_temp("floats.npy", numeric));
  EXPECT_EQ(plain.format, "NumPy .npy array");
  EXPECT_EQ(plain.verdict, Verdict::Safe);

  test::ZipBuilder z;
  z.add_deflated("arr_0.npy", npy);
  ScanResult npz = scan_file(write_temp("arrays.npz", z.build()));
  EXPECT_EQ(npz.format, "NumPy .npz archive (numpy.load reads it; torch.load finds no data.pkl)");
  EXPECT_EQ(npz.verdict, Verdict::Dangerous);
}

TEST(ScanErrors, UnreadableFiles) {
  ScanResult missing = scan_file("/nonexistent/ptscope.pt");
  EXPECT_EQ(missing.error, "/nonexistent/ptscope.pt: no such file");
  ScanResult dir = scan_file(testing::TempDir());
  EXPECT_EQ(dir.error, testing::TempDir() + ": not a regular file");
}

}  // namespace
}  // namespace ptscope

namespace ptscope {
namespace {

// fixtures/malicious/expected.tsv (scripts/make_malicious_fixtures.py):
// every fixture's verdict, each payload proven to run under torch.load by
// scripts/check_malicious_payloads.py.
TEST(ScanFixtures, MaliciousVerdicts) {
  std::ifstream tsv(test::source_path("fixtures/malicious/expected.tsv"));
  ASSERT_TRUE(tsv) << "fixtures/malicious/expected.tsv is missing";
  std::string line;
  std::getline(tsv, line);  // header
  size_t rows = 0;
  while (std::getline(tsv, line)) {
    std::string file = line.substr(0, line.find('\t'));
    std::string rest = line.substr(file.size() + 1);
    std::string verdict = rest.substr(0, rest.find('\t'));
    SCOPED_TRACE(file);
    ScanResult r = scan_file(test::source_path("fixtures/malicious/" + file));
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(verdict_name(r.verdict), verdict);
    ++rows;
  }
  EXPECT_GE(rows, 50u);
}

// Every other committed fixture was written by real torch (or by a format's
// documented layout): none is dangerous; whole modules, trainer state with
// argparse, TorchScript and protocol-4 pickles are not safe.
TEST(ScanFixtures, RealCheckpointsAreNeverDangerous) {
  std::vector<ScanResult> all = scan_paths({test::source_path("fixtures")});
  size_t files = 0;
  for (const ScanResult& r : all) {
    if (r.path.find("/malicious/") != std::string::npos) continue;
    SCOPED_TRACE(r.path);
    ++files;
    EXPECT_EQ(r.error, "");
    EXPECT_NE(r.verdict, Verdict::Dangerous);
  }
  EXPECT_GT(files, 100u);
  auto verdict = [](const std::string& name) { return scan_file(test::fixture(name)).verdict; };
  EXPECT_EQ(verdict("tied_lm.pt"), Verdict::Safe);
  EXPECT_EQ(verdict("cnn_legacy.pt"), Verdict::Safe);
  EXPECT_EQ(verdict("model.safetensors"), Verdict::Safe);
  EXPECT_EQ(verdict("dtypes.pt"), Verdict::Safe);  // a storage that starts with 0x80 is not a pickle
  EXPECT_EQ(verdict("whole_module.pt"), Verdict::NeedsCode);
  EXPECT_EQ(verdict("training_checkpoint.pt"), Verdict::NeedsCode);  // argparse.Namespace
  EXPECT_EQ(verdict("scripted_cnn.pt"), Verdict::NeedsCode);
  EXPECT_EQ(verdict("cnn_protocol4.pt"), Verdict::NeedsCode);  // weights_only has no protocol-4 opcodes
}

// The shared corpus (torch 2.x files from burn and tch-rs): state_dicts are
// safe, TorchScript archives need code, nothing is dangerous.
TEST(ScanFixtures, Corpus) {
  std::string dir = test::source_path("../shared/corpus");
  if (const char* env = std::getenv("PTSCOPE_CORPUS"); env && *env) dir = env;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) GTEST_SKIP() << "no corpus at " << dir;
  for (const ScanResult& r : scan_paths({dir})) {
    SCOPED_TRACE(r.path);
    EXPECT_EQ(r.error, "");
    EXPECT_NE(r.verdict, Verdict::Dangerous);
    if (r.format == "TorchScript archive") EXPECT_EQ(r.verdict, Verdict::NeedsCode);
    if (r.format == "torch.save zip archive" || r.format == "legacy torch.save" || r.format == "safetensors")
      EXPECT_EQ(r.verdict, Verdict::Safe);
  }
}

}  // namespace
}  // namespace ptscope
