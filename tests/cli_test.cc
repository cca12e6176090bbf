// The ptscope executable end to end: what users see on stdout and stderr,
// and the exit statuses the README documents (0 ok, 1 unreadable file,
// 2 usage error).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

namespace {

struct Outcome {
  int status;
  std::string out, err;
};

Outcome ptscope(const std::string& args, const std::string& env = "") {
  // ctest runs each test in its own process, in parallel: one file each.
  std::string err_file = testing::TempDir() + "ptscope_stderr." + std::to_string(getpid()) + ".txt";
  std::string cmd = "cd " PTSCOPE_SOURCE_DIR " && " + env + " " PTSCOPE_BINARY " " + args +
                    " 2>" + err_file;
  Outcome r{-1, "", ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (FILE* e = fopen(err_file.c_str(), "r")) {
    while ((n = fread(buf, 1, sizeof buf, e)) > 0) r.err.append(buf, n);
    fclose(e);
  }
  return r;
}

TEST(Cli, InspectTable) {
  Outcome r = ptscope("inspect fixtures/tied_lm.pt");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("torch-zip"), std::string::npos);
  EXPECT_NE(r.out.find("tied            emb.weight, head.weight"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(Cli, InspectJsonHasTheDocumentedFields) {
  Outcome r = ptscope("inspect --format json fixtures/training_checkpoint.pt");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  for (const char* key : {"file", "format", "file_bytes", "tensors", "numel", "unique_numel",
                          "tensor_bytes", "storage_bytes", "overhead_bytes", "parameters",
                          "buffers", "dtypes", "byte_map", "groups"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["format"], "torch-zip");
  EXPECT_EQ(j["groups"][1]["name"], "optimizer");
  uint64_t mapped = 0;
  for (const auto& row : j["byte_map"]) mapped += row["bytes"].get<uint64_t>();
  EXPECT_EQ(mapped, j["file_bytes"].get<uint64_t>());
}

TEST(Cli, CsvHasRawIntegersAndOneHeader) {
  Outcome r = ptscope("inspect --format csv fixtures/cnn_state_dict.pt fixtures/model.safetensors");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("file,format,file_bytes,", 0), 0u);
  EXPECT_NE(r.out.find("fixtures/cnn_state_dict.pt,torch-zip,7023,15,668,"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
}

TEST(Cli, TensorsCsvNamesTheRule) {
  Outcome r = ptscope("inspect --format tsv --tensors fixtures/cnn_state_dict.pt");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("bn1.running_mean\tfloat32\t[8]\t8\t32\tbuffer\tbatchnorm running stat"),
            std::string::npos)
      << r.out;
}

TEST(Cli, MissingFileIsExitOneWithTheFileNamed) {
  Outcome r = ptscope("inspect fixtures/does_not_exist.pt");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ptscope: error: fixtures/does_not_exist.pt: cannot open: No such file or directory\n");
}

TEST(Cli, OneBadFileDoesNotStopTheOthers) {
  Outcome r = ptscope("inspect --format json fixtures/README.md fixtures/views.pt");
  EXPECT_EQ(r.status, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_TRUE(j[0].contains("error"));
  EXPECT_EQ(j[1]["tensors"], 6);
  EXPECT_NE(r.err.find("fixtures/README.md: not a PyTorch checkpoint"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("at byte 0"), std::string::npos) << r.err;
}

TEST(Cli, UsageErrorsAreExitTwo) {
  EXPECT_EQ(ptscope("inspect").status, 2);
  EXPECT_EQ(ptscope("inspect --format xml fixtures/views.pt").status, 2);
  EXPECT_EQ(ptscope("inspect --depth 3 fixtures/views.pt").status, 2);  // --depth needs --tree
  EXPECT_EQ(ptscope("inspect --format csv --tensors --bytes fixtures/views.pt").status, 2);
  EXPECT_EQ(ptscope("frobnicate").status, 2);
  EXPECT_EQ(ptscope("--help").status, 0);
}

// inspect must never pay LibTorch's start-up: the dynamic loader's own log
// lists every library the process maps, dlopen()ed ones included.
TEST(Cli, InspectNeverLoadsLibTorch) {
  Outcome r = ptscope("inspect fixtures/scripted_cnn.pt", "LD_DEBUG=files");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.err.find("libspdlog"), std::string::npos) << "LD_DEBUG gave no log";
  EXPECT_EQ(r.err.find("libtorch"), std::string::npos);
  EXPECT_EQ(r.err.find("libc10"), std::string::npos);
}

TEST(Cli, BackendLoadsLibTorchOnDemand) {
  Outcome r = ptscope("backend");
  if (r.status != 0 && r.err.find("cannot load the LibTorch backend") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch: " << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("libtorch      1."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sum(arange(100)) = 4950"), std::string::npos) << r.out;
}

}  // namespace

namespace {

bool have_backend() {
  static int ok = -1;
  if (ok < 0) ok = ptscope("backend").status == 0;
  return ok;
}

// scripted_cnn.pt: Conv2d(3, 8, 3) on 1x3x16x16 -> 8x14x14 outputs of 27 MACs
// each (42,336), then Linear(8, 10) (80 MACs).
TEST(CliProfile, CountsMacsPerOpAndModule) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/scripted_cnn.pt --input 1x3x16x16 --iters 2 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto all = nlohmann::json::parse(r.out);
  ASSERT_TRUE(all.is_array()) << "one object per file, as every subcommand writes";
  ASSERT_EQ(all.size(), 1u);
  auto j = all[0];
  EXPECT_EQ(j["file"], "fixtures/scripted_cnn.pt");
  EXPECT_EQ(j["macs"], 42336 + 80);
  EXPECT_EQ(j["flops"].get<uint64_t>() % 2, 0u);
  EXPECT_EQ(j["ops"]["aten::conv2d"]["macs"], 42336);
  EXPECT_EQ(j["ops"]["aten::conv2d"]["flops"], 2 * 42336);
  EXPECT_EQ(j["ops"]["aten::linear"]["macs"], 80);
  EXPECT_EQ(j["modules"]["conv"]["macs"], 42336);
  EXPECT_EQ(j["modules"]["fc"]["macs"], 80);
  EXPECT_EQ(j["inputs_bytes"], 3 * 16 * 16 * 4);
  EXPECT_EQ(j["latency"]["iters"], 2);
  for (const char* key : {"macs", "flops", "ops", "modules", "activation_peak_bytes", "weights_bytes",
                          "inputs_bytes", "latency", "device", "parameters"})
    EXPECT_TRUE(j.contains(key)) << key;
  // The six parameter tensors, the 330 parameters inspect counts.
  EXPECT_EQ(j["parameters"]["tensors"], 6);
  EXPECT_EQ(j["parameters"]["numel"], 330);
  EXPECT_EQ(j["parameters"]["bytes"], 330 * 4);
}

// --timeout ends a LibTorch run that goes on too long (the file's forward
// may never return) with one error line and status 1. Here 100,000 timed
// runs of a small CNN against a 1-second limit.
TEST(CliProfile, TimeoutStopsALongRun) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/scripted_cnn.pt --input 1x3x16x16 --iters 100000 --warmup 0 --timeout 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ptscope: error: fixtures/scripted_cnn.pt: LibTorch ran longer than --timeout 1 s: stopped\n");
}

// CSV and TSV: the ops, modules and layers, with the file in the first
// column; each kind fills its own columns.
TEST(CliProfile, CsvStartsWithTheFile) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/scripted_cnn.pt --input 1x3x16x16 --iters 1 --warmup 0 --format csv");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "file,kind,name,count,macs,flops,type,depth,output_shape,parameters,activation_bytes");
  EXPECT_NE(r.out.find("\nfixtures/scripted_cnn.pt,op,aten::conv2d,1,42336,84672,,,,,\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nfixtures/scripted_cnn.pt,module,conv,,42336,84672,,,,,\n"), std::string::npos) << r.out;
}

// The per-layer rows in CSV and TSV: Conv2d(3, 8, 3) on 1x3x16x16 is a
// 1x8x14x14 float32 output (6,272 bytes) from 8x3x3x3 + 8 = 224 parameters,
// 42,336 MACs; Linear(8, 10) 90 parameters, a 1x10 output. --depth 1 keeps
// the model's children, nothing deeper.
TEST(CliProfile, LayerRowsInCsvAndTsv) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome csv = ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16 --iters 1 --warmup 0 --depth 1 -f csv");
  ASSERT_EQ(csv.status, 0) << csv.err;
  EXPECT_NE(csv.out.find("\nfixtures/scripted_cnn.pt,layer,conv,,42336,84672,Conv2d,0,1x8x14x14,224,6272\n"),
            std::string::npos)
      << csv.out;
  EXPECT_NE(csv.out.find("\nfixtures/scripted_cnn.pt,layer,fc,,80,160,Linear,0,1x10,90,40\n"), std::string::npos)
      << csv.out;
  Outcome tsv = ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16 --iters 1 --warmup 0 --depth 1 -f tsv");
  ASSERT_EQ(tsv.status, 0) << tsv.err;
  EXPECT_EQ(tsv.out.substr(0, tsv.out.find('\n')),
            "file\tkind\tname\tcount\tmacs\tflops\ttype\tdepth\toutput_shape\tparameters\tactivation_bytes");
  EXPECT_NE(tsv.out.find("\nfixtures/scripted_cnn.pt\tlayer\tconv\t\t42336\t84672\tConv2d\t0\t1x8x14x14\t224\t6272\n"),
            std::string::npos)
      << tsv.out;
  // One row per layer, as many as JSON lists at the same depth.
  Outcome js = ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16 --iters 1 --warmup 0 --depth 1 -f json");
  ASSERT_EQ(js.status, 0) << js.err;
  size_t layer_rows = 0;
  for (size_t at = csv.out.find(",layer,"); at != std::string::npos; at = csv.out.find(",layer,", at + 1)) ++layer_rows;
  EXPECT_EQ(layer_rows, nlohmann::json::parse(js.out)[0]["layers"].size());
}

// A TorchScript module's row shows what it returned: nn.MultiheadAttention
// returns (output, None), whose first tensor is the 1x16x64 attention output
// (batch_first, the input's shape; 4,096 float32 bytes); its last op's
// second result, the weights it did not compute, is no shape at all.
TEST(CliProfile, TorchScriptLayerShowsTheReturnedTuplesFirstTensor) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/profile/mha.pt -i 1x16x64 --iters 1 --warmup 0 -f json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto layers = nlohmann::json::parse(r.out)[0]["layers"];
  ASSERT_EQ(layers.size(), 1u) << layers;
  EXPECT_EQ(layers[0]["name"], "attn");
  EXPECT_EQ(layers[0]["type"], "MultiheadAttention");
  EXPECT_EQ(layers[0]["output_shape"], nlohmann::json::array({1, 16, 64}));
  EXPECT_EQ(layers[0]["activation_bytes"], 1 * 16 * 64 * 4);
}

// Two independent measurements of the forward's activation memory: c10's
// reporting hook and a counting wrapper installed as the CPU allocator.
TEST(CliProfile, ActivationMemoryAgreesWithTheAllocator) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/scripted_cnn.pt --input 8x3x16x16 --iters 1 --format json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  int64_t hook = j["activation_peak_bytes"], allocator = j["allocator_peak_bytes"];
  EXPECT_GT(hook, 8 * 8 * 14 * 14 * 4);  // at least the conv output
  EXPECT_EQ(hook, allocator);
}

TEST(CliProfile, TrainingStepSplitsMemory) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/scripted_cnn.pt -i 2x3x16x16 --train --optimizer adam --iters 1 -f json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto t = nlohmann::json::parse(r.out)[0]["train"];
  EXPECT_EQ(t["parameters_bytes"], 330 * 4);      // the 330 parameters inspect counts
  EXPECT_EQ(t["gradients_bytes"], 330 * 4);
  EXPECT_EQ(t["optimizer_state_bytes"], 2 * 330 * 4);  // Adam: two moments
  EXPECT_GT(t["activations_bytes"].get<int64_t>(), 0);
}

// A state_dict of no family profile builds is turned away before LibTorch
// is loaded, in one line naming what was looked for and what was found.
TEST(CliProfile, UnrecognisedStateDictSaysWhatItLookedFor) {
  Outcome r = ptscope("profile fixtures/cnn_state_dict.pt --input 1x3x16x16");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "ptscope: error: fixtures/cnn_state_dict.pt: holds a torch-zip state_dict of no architecture profile "
            "can build: looked for GPT-2 (wte.weight, h.0.attn.c_attn.weight), the LLaMA family "
            "(embed_tokens.weight, layers.0.self_attn.q_proj.weight), BERT (embeddings.word_embeddings.weight), "
            "T5 (shared.weight), ViT (conv_proj.weight) and ResNet (conv1.weight, layer1.0.conv1.weight, "
            "fc.weight); found 15 tensors (conv1.weight, conv1.bias, bn1.weight, ...)\n");
}

// A mixture of experts needs its top-k: without config.json's
// num_experts_per_tok or --experts-per-token, one line before LibTorch is
// loaded; more than the experts a layer holds, one line too.
TEST(CliProfile, MixtureOfExpertsWithoutTopKSaysSo) {
  Outcome r = ptscope("profile fixtures/moe/mixtral_no_topk --input 1x8:int64");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ptscope: error: fixtures/moe/mixtral_no_topk: holds a llama state_dict with a mixture of experts "
                   "(4 per layer) but no experts per token: give --experts-per-token (or config.json's "
                   "num_experts_per_tok)\n");
  r = ptscope("profile fixtures/moe/mixtral_no_topk --input 1x8:int64 --experts-per-token 5");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ptscope: error: fixtures/moe/mixtral_no_topk: --experts-per-token 5 exceeds the 4 experts a "
                   "layer holds\n");
}

// Mixtral (fixtures/profile_sd/mixtral_tiny, scripts/hf_reference.py):
// each expert runs on the tokens routed to it, so however the router
// splits them the experts of a layer see B*S*k tokens in all: MACs are the
// attention's, the LM head's, and per layer the router's B*S*E*X plus
// B*S*k*3*E*F; one row per expert and the router, named as HF names them.
TEST(CliProfile, MixtralFolderBuildsItsExperts) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  const std::string dir = "fixtures/profile_sd/mixtral_tiny";
  std::ifstream config_file(dir + "/config.json");
  auto cfg = nlohmann::json::parse(config_file);
  const uint64_t E = cfg["hidden_size"], H = cfg["num_attention_heads"], KV = cfg["num_key_value_heads"],
                 F = cfg["intermediate_size"], V = cfg["vocab_size"], L = cfg["num_hidden_layers"],
                 X = cfg["num_local_experts"], K = cfg["num_experts_per_tok"], D = E / H;
  const uint64_t B = 2, S = 16;
  Outcome r = ptscope("profile " + dir + " -i 2x16 --iters 1 --warmup 0 -f json --depth 8");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(j["built"], "llama, 2 layers, hidden 32, 4 heads (2 kv) from config.json, 4 experts per MoE layer, top 2");
  uint64_t attention = E * H * D + 2 * E * KV * D + H * D * E;
  EXPECT_EQ(j["macs"], B * S * (L * (attention + E * X + K * 3 * E * F) + E * V) + B * L * 2 * H * S * S * D);
  EXPECT_TRUE(j["ops_without_formula"].empty()) << j["ops_without_formula"];
  uint64_t expert_macs = 0;
  std::set<std::string> names;
  for (const auto& l : j["layers"]) {
    const std::string name = l["name"];
    names.insert(name);
    if (name.rfind("layers.1.block_sparse_moe.experts.", 0) == 0 && l["depth"] == 2) expert_macs += l["macs"].get<uint64_t>();
  }
  EXPECT_EQ(expert_macs, B * S * K * 3 * E * F);
  for (const char* n : {"layers.0.block_sparse_moe", "layers.0.block_sparse_moe.gate",
                        "layers.0.block_sparse_moe.experts.3", "layers.0.block_sparse_moe.experts.3.w2"})
    EXPECT_TRUE(names.count(n)) << n;
}

// A LLaMA folder with grouped-query attention (fixtures/profile_sd/llama_gqa,
// scripts/hf_reference.py): built from the shapes and config.json, MACs the
// hand count from the config's sizes (linears, QK^T and AV, LM head),
// parameters the formula's, and a per-layer table whose depth-0 rows add up
// to the totals.
TEST(CliProfile, LlamaFolderBuildsFromItsStateDict) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  const std::string dir = "fixtures/profile_sd/llama_gqa";
  std::ifstream config_file(dir + "/config.json");
  auto cfg = nlohmann::json::parse(config_file);
  const uint64_t E = cfg["hidden_size"], H = cfg["num_attention_heads"], KV = cfg["num_key_value_heads"],
                 F = cfg["intermediate_size"], V = cfg["vocab_size"], L = cfg["num_hidden_layers"], D = E / H;
  const uint64_t B = 2, S = 16;
  Outcome r = ptscope("profile " + dir + " -i 2x16 --iters 1 --warmup 0 -f json --depth 8");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(j["built"], "llama, 2 layers, hidden 64, 4 heads (2 kv) from config.json");
  EXPECT_EQ(j["inputs"][0]["dtype"], "int64");
  uint64_t linears = E * H * D + 2 * E * KV * D + H * D * E + 3 * E * F;
  EXPECT_EQ(j["macs"], B * S * (L * linears + E * V) + B * L * 2 * H * S * S * D);
  EXPECT_EQ(j["parameters"]["numel"], V * E + L * (linears + 2 * E) + E + V * E);  // untied head
  uint64_t params = 0, macs = 0, flops = 0;
  for (const auto& l : j["layers"]) {
    for (const char* key : {"name", "type", "depth", "output_shape", "parameters", "macs", "flops", "activation_bytes"})
      ASSERT_TRUE(l.contains(key)) << key;
    if (l["depth"] != 0) continue;
    params += l["parameters"].get<uint64_t>();
    macs += l["macs"].get<uint64_t>();
    flops += l["flops"].get<uint64_t>();
  }
  EXPECT_EQ(params, j["parameters"]["numel"]);
  EXPECT_EQ(macs, j["macs"]);
  EXPECT_EQ(flops, j["flops"]);
  EXPECT_EQ(j["layers"][0]["name"], "embed_tokens");  // forward order
  EXPECT_EQ(j["layers"].back()["name"], "lm_head");
  EXPECT_EQ(j["layers"].back()["output_shape"], nlohmann::json({B, S, V}));
}

// T5 (fixtures/profile_sd/t5_tiny, scripts/hf_reference.py: gated-gelu,
// untied head): input_ids and decoder_input_ids, MACs the hand count from the
// config's sizes (encoder, decoder with cross-attention, LM head), and with
// one --input the decoder reads the encoder's ids.
TEST(CliProfile, T5FolderTakesEncoderAndDecoderIds) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  const std::string dir = "fixtures/profile_sd/t5_tiny";
  std::ifstream config_file(dir + "/config.json");
  auto cfg = nlohmann::json::parse(config_file);
  const uint64_t E = cfg["d_model"], H = cfg["num_heads"], D = cfg["d_kv"], F = cfg["d_ff"], V = cfg["vocab_size"],
                 L = cfg["num_layers"], Ld = cfg["num_decoder_layers"], I = H * D;
  const uint64_t B = 2, S = 16, T = 8;
  auto macs = [&](uint64_t t) {
    return B * S * L * (4 * E * I + 3 * E * F) + B * L * 2 * H * S * S * D +
           B * t * Ld * (6 * E * I + 3 * E * F) + B * S * Ld * 2 * E * I + B * Ld * 2 * H * (t * t + t * S) * D +
           B * t * E * V;
  };
  Outcome r = ptscope("profile " + dir + " -i 2x16 -i 2x8 --iters 1 --warmup 0 -f json --depth 8");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(j["built"].get<std::string>().rfind(
                "t5, 2 layers, hidden 32, 2 decoder layers, gated gelu_new, head untied, 4 heads from shapes", 0),
            0u)
      << j["built"];
  EXPECT_EQ(j["inputs"][0]["name"], "input_ids");
  EXPECT_EQ(j["inputs"][1]["name"], "decoder_input_ids");
  EXPECT_EQ(j["macs"], macs(T));
  EXPECT_EQ(j["layers"].back()["name"], "lm_head");
  EXPECT_EQ(j["layers"].back()["output_shape"], nlohmann::json({B, T, V}));
  Outcome one = ptscope("profile " + dir + " -i 2x16 --iters 1 --warmup 0 -f json");
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(nlohmann::json::parse(one.out)[0]["macs"], macs(S));
}

// --depth 1 keeps the model's children only; the table says what no row holds.
TEST(CliProfile, DepthLimitsTheLayerTable) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/profile_sd/gpt2_tiny -i 1x8 --iters 1 --warmup 0 -f json --depth 1");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  std::vector<std::string> names;
  for (const auto& l : j["layers"]) names.push_back(l["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"wte", "wpe", "h.0", "h.1", "ln_f", "lm_head"}));
  Outcome text = ptscope("profile fixtures/profile_sd/gpt2_tiny -i 1x8 --iters 1 --warmup 0 --depth 1");
  EXPECT_NE(text.out.find("layers, in forward order"), std::string::npos) << text.out;
  // wte + wpe is added outside any module, as in GPT2Model.forward.
  EXPECT_NE(text.out.find("(outside any layer)"), std::string::npos) << text.out;
}

// TorchScript too: rows from the interpreter's module hierarchy, whose
// top-level rows carry the per-module counts.
TEST(CliProfile, TorchScriptHasALayerTable) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/profile/convnet.pt -i 1x3x32x32 --iters 1 --warmup 0 -f json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  ASSERT_FALSE(j["layers"].empty());
  for (const auto& l : j["layers"]) {
    if (l["depth"] != 0) continue;
    const std::string name = l["name"];
    ASSERT_TRUE(j["modules"].contains(name)) << name;
    EXPECT_EQ(l["macs"], j["modules"][name]["macs"]) << name;
    EXPECT_FALSE(l["output_shape"].empty()) << name;
  }
}

TEST(CliProfile, WrongInputsNameTheSignature) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16 -i 4");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("forward(x: Tensor) takes 1 inputs, but 2 --input given"), std::string::npos) << r.err;
  EXPECT_EQ(ptscope("profile fixtures/scripted_cnn.pt -i 1x3xAx16").status, 2);
}

// A safetensors file with one NaN and two infinities, written here.
TEST(CliVerify, CountsNanAndInf) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  std::string header = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  while (header.size() % 8) header += ' ';
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  bytes += header;
  const float values[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(), 1.0f};
  bytes.append(reinterpret_cast<const char*>(values), sizeof values);
  std::string path = testing::TempDir() + "nan.safetensors";
  FILE* f = fopen(path.c_str(), "wb");
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  Outcome r = ptscope("inspect --verify --format json " + path);
  ASSERT_EQ(r.status, 3) << r.err;  // the file was read; the answer to "is it clean?" is no
  EXPECT_NE(r.err.find(path + ": 1 NaN and 2 Inf values in 1 tensor"), std::string::npos) << r.err;
  auto v = nlohmann::json::parse(r.out)[0]["verify"];
  EXPECT_EQ(v["tensors_checked"], 1);
  EXPECT_EQ(v["nan"], 1);
  EXPECT_EQ(v["inf"], 2);
  EXPECT_EQ(v["tensors_with_nan_or_inf"][0]["name"], "w");
}

TEST(CliVerify, TorchScriptAgreesWithLibTorch) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("inspect --verify --format json fixtures/traced_cnn.pt");
  ASSERT_EQ(r.status, 0) << r.err;
  auto v = nlohmann::json::parse(r.out)[0]["verify"];
  EXPECT_EQ(v["tensors_checked"], 9);
  EXPECT_EQ(v["mismatches"].size(), 0u);
}

}  // namespace

namespace {

// fixtures/profile/: TorchScript models with MACs computed independently in
// Python from forward hooks and attention formulas (make_profile_fixtures.py).
TEST(CliProfile, MatchesIndependentMacsOnEveryProfileFixture) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  std::ifstream in(PTSCOPE_SOURCE_DIR "/fixtures/profile/expected.json");
  auto all = nlohmann::json::parse(in);
  ASSERT_GE(all.size(), 5u);
  for (const auto& [name, want] : all.items()) {
    SCOPED_TRACE(name);
    std::string args = "profile fixtures/profile/" + name + " --iters 1 --warmup 1 -f json";
    for (const auto& i : want["inputs"]) args += " -i " + i.get<std::string>();
    Outcome r = ptscope(args);
    ASSERT_EQ(r.status, 0) << r.err;
    auto got = nlohmann::json::parse(r.out)[0];
    EXPECT_EQ(got["macs"], want["macs"]);
    EXPECT_EQ(got["ops_without_formula"].size(), 0u) << got["ops_without_formula"];
    for (const auto& [module, macs] : want["modules_macs"].items())
      EXPECT_EQ(got["modules"][module]["macs"], macs) << module;
  }
}

}  // namespace

namespace {

// CI machines have no GPU, and Debian's LibTorch no CUDA: --device cuda must
// say so and exit 1, not fall back to the CPU.
TEST(CliProfile, CudaWithoutCudaSaysSo) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  if (ptscope("backend").out.find("cuda devices  0") == std::string::npos)
    GTEST_SKIP() << "this machine has a GPU";
  Outcome r = ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16 --device cuda");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("device 'cuda' is not available: this LibTorch ("), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16 --device tpu").status, 2);
}

}  // namespace

// estimate: pure arithmetic on the metadata, so no LibTorch either.
TEST(CliEstimate, JsonFieldsAreIntegers) {
  Outcome r = ptscope("estimate fixtures/arch/llama_tiny.pt --seq 64 --dtype bf16 -f json", "LD_DEBUG=files");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("libtorch"), std::string::npos);
  auto j = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(j["parameters"]["numel"], 220480);
  const auto& a = j["architecture"];
  EXPECT_EQ(a["family"], "llama");
  EXPECT_EQ(a["layers"], 2);
  EXPECT_EQ(a["hidden"], 64);
  EXPECT_EQ(a["heads"], 4);  // from rotary inv_freq [8]: head_dim 16
  EXPECT_EQ(a["hidden"], 64);  // heads need config.json or inv_freq: not read yet
  EXPECT_EQ(a["ffn"], 176);
  EXPECT_EQ(a["vocab"], 1000);
  EXPECT_EQ(a["parameters_from_formula"], 220480);
  // bf16 weights plus the fp32 inv_freq buffers (2 layers x 8 floats).
  EXPECT_EQ(j["inference"]["weights_bytes"], 2 * 220480 + 2 * 8 * 4);
  EXPECT_EQ(j["inference"]["kv_cache_bytes"], 2 * 2 * 32 * 64 * 2);  // 2*L*kv*s*b*e
  for (const char* f : {"weights_bytes", "gradient_bytes", "optimizer_bytes", "activation_bytes", "total_bytes",
                        "per_gpu_bytes"})
    EXPECT_TRUE(j["training"][f].is_number_unsigned()) << f;
  EXPECT_TRUE(j["flops_per_token"]["forward"].is_number_unsigned());
  EXPECT_EQ(j["flops_per_token"]["training"], 3 * j["flops_per_token"]["forward"].get<uint64_t>());
}

TEST(CliEstimate, TableShowsFormulasAndCsvRawIntegers) {
  Outcome t = ptscope("estimate fixtures/arch/gpt2_tiny.pt --gpus 4 --strategy zero3 --mixed-precision --units binary");
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.out.find("gpt2: 2 layers, hidden 64"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("172,288 (equals the count)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("(W + G + O)/N + A, N=4"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("head_dim 64 assumed: the first of 64/96/80 dividing q 64 and kv 64"), std::string::npos)
      << t.out;
  Outcome c = ptscope("estimate fixtures/arch/gpt2_tiny.pt -f csv");
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.out.substr(0, c.out.find('\n')), "file,section,name,value,unit,formula");
  EXPECT_NE(c.out.find("fixtures/arch/gpt2_tiny.pt,inference,weights,721928,bytes,"), std::string::npos) << c.out;
}

// No --dtype: the file's own dtype, said so; --dtype overrides it.
TEST(CliEstimate, DefaultDtypeIsTheFiles) {
  Outcome r = ptscope("estimate fixtures/arch/llama_tiny_bf16.pt --seq 64 -f json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(j["options"]["dtype"], "bf16");
  EXPECT_EQ(j["inference"]["weights_bytes"], 2 * 220480 + 2 * 8 * 2);  // inv_freq is bf16 too
  EXPECT_NE(j["notes"].dump().find("weights at bf16: the file's dtype; --dtype to change"), std::string::npos)
      << j["notes"];
  Outcome t = ptscope("estimate fixtures/arch/llama_tiny_bf16.pt --seq 64");
  EXPECT_NE(t.out.find("inference (bf16, batch 1"), std::string::npos) << t.out;
  auto f = nlohmann::json::parse(ptscope("estimate fixtures/arch/llama_tiny_bf16.pt --dtype fp32 -f json").out)[0];
  EXPECT_EQ(f["options"]["dtype"], "fp32");
  EXPECT_EQ(f["notes"].dump().find("the file's dtype"), std::string::npos) << f["notes"];
  EXPECT_EQ(nlohmann::json::parse(ptscope("estimate fixtures/arch/llama_tiny.pt -f json").out)[0]["options"]["dtype"],
            "fp32");
  EXPECT_NE(ptscope("estimate --help").out.find("the file's dtype"), std::string::npos);
}

// A CNN no family covers (MobileNetV3-Small at quarter width): no per-token
// figure, unknown activations and FLOPs with the reason, totals that say
// "at least", and the way to measure them.
TEST(CliEstimate, UnrecognisedCnnSaysWhatItCannotEstimate) {
  const std::string file = "fixtures/arch/mobilenet_v3_small_tiny.pt";
  Outcome t = ptscope("estimate " + file);
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_EQ(t.out.find("per token"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("    activations                                    unknown (architecture not recognised)\n"),
            std::string::npos) << t.out;
  EXPECT_NE(t.out.find("at least 492.44 kB (480.90 KiB) (incomplete: activations, any kv cache)  weights + "),
            std::string::npos) << t.out;
  EXPECT_NE(t.out.find("forward per sample   unknown (architecture not recognised)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("`ptscope profile FILE -i ...` measures them on a TorchScript file"), std::string::npos)
      << t.out;
  auto j = nlohmann::json::parse(ptscope("estimate -f json " + file).out)[0];
  EXPECT_FALSE(j["inference"]["complete"].get<bool>());
  EXPECT_EQ(j["inference"]["missing"], nlohmann::json({"activations", "any kv cache"}));
  EXPECT_TRUE(j["inference"]["activation_bytes"].is_null());
  EXPECT_FALSE(j["training"]["complete"].get<bool>());
  EXPECT_TRUE(j["flops_per_token"]["forward"].is_null());
  EXPECT_TRUE(j["flops_per_sample"]["forward"].is_null());
  EXPECT_NE(j["flops_per_sample"]["reason"].get<std::string>().find("ptscope profile"), std::string::npos);
  for (const auto& l : j["lines"])
    if (l["value"].is_null()) EXPECT_TRUE(l["reason"].is_string()) << l;
  Outcome c = ptscope("estimate -f csv " + file);
  EXPECT_NE(c.out.find(file + ",inference,activations,,bytes,unknown: architecture not recognised"), std::string::npos)
      << c.out;
}

TEST(CliEstimate, BadInput) {
  Outcome r = ptscope("estimate fixtures/README.md");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  EXPECT_EQ(ptscope("estimate fixtures/arch/gpt2_tiny.pt --dtype int3").status, 2);
  EXPECT_EQ(ptscope("estimate fixtures/arch/gpt2_tiny.pt --gpus 0").status, 2);
}

// An optimizer-only file (a DeepSpeed ZeRO partition) holds no model: one
// error line naming the file, exit 1, nothing on stdout.
TEST(CliEstimate, OptimizerOnlyFileHasNothingToEstimate) {
  const std::string file = "fixtures/trainer/deepspeed_zero_pp_rank_0_mp_rank_00_optim_states.pt";
  Outcome r = ptscope("estimate " + file);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ptscope: error: " + file +
                       ": holds no model state (optimizer state only): nothing to estimate\n");
  Outcome inspect = ptscope("inspect --format json " + file);
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  EXPECT_TRUE(nlohmann::json::parse(inspect.out)[0]["parameters"].is_null()) << inspect.out;
}

// The estimate beside a measurement: CPU training step of the tiny GPT-2
// (TorchScript, same names and shapes as HF's). Weights, gradients and Adam
// state must agree to the byte; saved activations within 10% once the two
// known differences are taken out: the profile's loss is a sum (nothing
// logit-sized is kept, where cross entropy keeps fp32 logits 4*s*b*V), and
// CPU LibTorch's dropout keeps a float mask where CUDA's fused dropout keeps
// one byte per element.
TEST(CliEstimate, AgreesWithMeasuredTrainingStep) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  const int64_t b = 4, s = 64, h = 64, a = 4, L = 2, V = 1000;
  Outcome m = ptscope("profile fixtures/arch/gpt2_tiny_scripted.pt --train --optimizer adam --iters 1 --warmup 0 -i " +
                      std::to_string(b) + "x" + std::to_string(s) + ":int64 -f json");
  ASSERT_EQ(m.status, 0) << m.err;
  Outcome e = ptscope("estimate fixtures/arch/gpt2_tiny_scripted.pt --optimizer adam --heads 4 -b " +
                      std::to_string(b) + " --seq " + std::to_string(s) + " -f json");
  ASSERT_EQ(e.status, 0) << e.err;
  auto measured = nlohmann::json::parse(m.out)[0]["train"];
  auto estimated = nlohmann::json::parse(e.out)[0]["training"];
  EXPECT_EQ(estimated["weights_bytes"].get<int64_t>(),
            measured["parameters_bytes"].get<int64_t>() + measured["buffers_bytes"].get<int64_t>());
  EXPECT_EQ(estimated["gradient_bytes"], measured["gradients_bytes"]);
  EXPECT_EQ(estimated["optimizer_bytes"], measured["optimizer_state_bytes"]);

  const int64_t masks = L * (a * s * s * b + 2 * s * b * h) + s * b * h;  // dropout mask elements
  double expected = estimated["activation_bytes"].get<double>() - 4.0 * s * b * V + 3.0 * masks;
  double ratio = measured["activations_bytes"].get<double>() / expected;
  std::printf("estimate vs measured saved activations: %.0f vs %lld bytes, ratio %.3f\n", expected,
              static_cast<long long>(measured["activations_bytes"].get<int64_t>()), ratio);
  RecordProperty("activation_ratio", std::to_string(ratio));
  EXPECT_GT(ratio, 0.9);
  EXPECT_LT(ratio, 1.1);
}

// HF's Conv1D is addmm(bias, x, W); inside a differentiable graph the JIT
// runs it as mm followed by add, and the interpreter hands the callback the
// subgraph's other values too, before and after the op's own. Per token:
// 2 layers x (64x192 + 64x64 + 64x256 + 256x64) + the tied head 64x1000 +
// attention 2 layers x 2 x 32 x 64 (QK^T and AV, no causal discount).
TEST(CliProfile, CountsDecomposedAddmm) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/arch/gpt2_tiny_scripted.pt -i 1x32:int64 --iters 1 --warmup 0 -f json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(j["macs"], 32 * (2 * (64 * 192 + 64 * 64 + 64 * 256 + 256 * 64) + 64 * 1000 + 2 * 2 * 32 * 64));
  EXPECT_EQ(j["ops"]["aten::mm"]["macs"], 32 * 2 * (64 * 192 + 64 * 64 + 64 * 256 + 256 * 64));
}

// --max-batch on the CPU, against a memory limit: real forwards, measured
// peaks; the batch found fits and the next one was tried and did not.
TEST(CliProfile, MaxBatchUnderAMemoryLimit) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/arch/gpt2_tiny_scripted.pt -i 1x64:int64 --iters 1 --warmup 0 "
                      "--max-batch --memory-limit 8MB -f json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto mb = nlohmann::json::parse(r.out)[0]["max_batch"];
  int64_t n = mb["batch"];
  EXPECT_GT(n, 1);
  EXPECT_EQ(mb["limit_bytes"], 8000000);
  EXPECT_LE(mb["peak_bytes"].get<int64_t>(), 8000000);
  bool next_failed = false;
  for (const auto& t : mb["tries"]) {
    EXPECT_EQ(t["fits"].get<bool>(), t["batch"].get<int64_t>() <= n) << t.dump();
    EXPECT_EQ(t["fits"].get<bool>(), t["peak_bytes"].get<int64_t>() <= 8000000) << t.dump();
    next_failed = next_failed || t["batch"] == n + 1;
  }
  EXPECT_TRUE(next_failed) << mb.dump();
  EXPECT_EQ(ptscope("profile fixtures/arch/gpt2_tiny_scripted.pt -i 1x64:int64 --max-batch").status, 2);
}

// One output schema (README "Output schema"): every subcommand's JSON is an
// array with one object per file, `parameters` is {tensors, numel, bytes}
// wherever it appears, and every CSV/TSV row starts with the file.
namespace {

void expect_count_object(const nlohmann::json& p, const std::string& where) {
  ASSERT_TRUE(p.is_object()) << where << ": " << p;
  for (const char* k : {"tensors", "numel", "bytes"}) EXPECT_TRUE(p[k].is_number_unsigned()) << where << " " << k;
}

TEST(CliSchema, JsonIsAnArrayWhateverTheNumberOfFiles) {
  for (const char* args : {"inspect -f json fixtures/tied_lm.pt", "inspect -f json fixtures/tied_lm.pt fixtures/views.pt",
                           "estimate -f json fixtures/arch/gpt2_tiny.pt"}) {
    Outcome r = ptscope(args);
    ASSERT_EQ(r.status, 0) << args << r.err;
    auto j = nlohmann::json::parse(r.out);
    ASSERT_TRUE(j.is_array()) << args;
    EXPECT_EQ(j[0]["file"].get<std::string>().rfind("fixtures/", 0), 0u) << args;
  }
}

TEST(CliSchema, ParametersAreTheSameObjectEverywhere) {
  auto inspect = nlohmann::json::parse(ptscope("inspect -f json --tree fixtures/tied_lm.pt").out)[0];
  expect_count_object(inspect["parameters"], "inspect");
  expect_count_object(inspect["buffers"], "inspect buffers");
  for (const auto& row : inspect["tree"]) expect_count_object(row["parameters"], "tree " + row["module"].get<std::string>());
  auto estimate = nlohmann::json::parse(ptscope("estimate -f json fixtures/tied_lm.pt").out)[0];
  expect_count_object(estimate["parameters"], "estimate");
  // The same file counted by both commands: the same parameters.
  EXPECT_EQ(inspect["parameters"], estimate["parameters"]);
  auto nested = nlohmann::json::parse(ptscope("inspect -f json fixtures/training_checkpoint.pt").out)[0];
  for (const auto& g : nested["groups"])
    if (!g["parameters"].is_null()) expect_count_object(g["parameters"], "group " + g["name"].get<std::string>());
}

TEST(CliSchema, DelimitedRowsStartWithTheFile) {
  for (const char* args : {"inspect -f csv fixtures/tied_lm.pt", "inspect -f csv --tensors fixtures/tied_lm.pt",
                           "inspect -f tsv --tree fixtures/tied_lm.pt", "inspect -f csv --bytes fixtures/tied_lm.pt",
                           "estimate -f csv fixtures/tied_lm.pt"}) {
    Outcome r = ptscope(args);
    ASSERT_EQ(r.status, 0) << args << r.err;
    std::istringstream lines(r.out);
    std::string header, row;
    std::getline(lines, header);
    EXPECT_EQ(header.rfind("file", 0), 0u) << args << ": " << header;
    while (std::getline(lines, row)) EXPECT_EQ(row.rfind("fixtures/tied_lm.pt", 0), 0u) << args << ": " << row;
  }
}

// A view prints the view, not the summary again; counts agree with nouns.
TEST(CliText, ViewsReplaceTheSummaryAndNounsAgree) {
  Outcome r = ptscope("inspect --tensors fixtures/tied_lm.pt");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("byte map"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  tensors\n"), std::string::npos) << r.out;
  Outcome s = ptscope("inspect fixtures/tied_lm.pt");
  EXPECT_NE(s.out.find("buffers         8 numel in 1 tensor, 64 B\n"), std::string::npos) << s.out;
  Outcome e = ptscope("estimate fixtures/arch/gpt2_tiny.pt");
  EXPECT_NE(e.out.find("(1 GPU)"), std::string::npos) << e.out;
  EXPECT_EQ(e.out.find("1 GPUs"), std::string::npos) << e.out;
}

TEST(CliText, SmallFileSizeIsSaidOnce) {
  std::string path = testing::TempDir() + "ptscope_small." + std::to_string(getpid()) + ".safetensors";
  {
    std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    std::ofstream f(path, std::ios::binary);
    uint64_t n = header.size();
    f.write(reinterpret_cast<const char*>(&n), 8);  // little-endian hosts only, as CI is
    f << header << std::string(8, '\0');
  }
  Outcome r = ptscope("inspect " + path);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("  file size       70 B\n"), std::string::npos) << r.out;  // 8 + 54 + 8
  std::remove(path.c_str());
}

}  // namespace

// The command line behaving as users expect (issue 9, point 6): global flags
// either side of the command, mistakes named with the nearest spelling,
// every error one prefixed line, colour and progress only on a terminal.
namespace {

bool one_error_line(const std::string& err) {
  return err.rfind("ptscope: error: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

TEST(CliUsage, GlobalFlagsBeforeOrAfterTheCommand) {
  for (const char* args : {"-v inspect fixtures/views.pt", "inspect -v fixtures/views.pt",
                           "inspect fixtures/views.pt --verbose"}) {
    Outcome r = ptscope(args);
    EXPECT_EQ(r.status, 0) << args << ": " << r.err;
    EXPECT_NE(r.err.find("ptscope: debug: fixtures/views.pt: 6 tensors"), std::string::npos) << args;
  }
  for (const char* args : {"-f json inspect fixtures/views.pt", "inspect -f json fixtures/views.pt",
                           "inspect fixtures/views.pt --format=json -q"}) {
    Outcome r = ptscope(args);
    ASSERT_EQ(r.status, 0) << args << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)[0]["tensors"], 6) << args;
  }
  EXPECT_EQ(ptscope("estimate fixtures/arch/gpt2_tiny.pt -f csv").out.rfind("file,section,", 0), 0u);
  EXPECT_EQ(ptscope("-q -v inspect fixtures/views.pt").status, 2);
}

TEST(CliUsage, UnknownCommandOrOptionNamesTheNearest) {
  Outcome r = ptscope("inspekt x");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ptscope: error: unknown command 'inspekt' (did you mean inspect?)\n");
  r = ptscope("inspect --tensor fixtures/views.pt");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ptscope: error: unknown option '--tensor' (did you mean --tensors?)\n");
  r = ptscope("frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "ptscope: error: unknown command 'frobnicate'\n");
  r = ptscope("estimate fixtures/arch/gpt2_tiny.pt --gpu 2");
  EXPECT_EQ(r.err, "ptscope: error: unknown option '--gpu' (did you mean --gpus?)\n");
}

TEST(CliUsage, HelpListsNamesAndNumbersAreRefused) {
  Outcome h = ptscope("--help");
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("-f,--format {table,json,csv,tsv}"), std::string::npos) << h.out;
  EXPECT_EQ(h.out.find("->"), std::string::npos) << h.out;
  Outcome e = ptscope("estimate --help");
  for (const char* s : {"--dtype {fp32,fp16,bf16,int8,int4}", "--optimizer {sgd,momentum,adam,adamw,adafactor,adam8bit}",
                        "--strategy {ddp,zero1,zero2,zero3,fsdp}", "--units {decimal,binary,both}"})
    EXPECT_NE(e.out.find(s), std::string::npos) << s << "\n" << e.out;
  EXPECT_EQ(e.out.find("->"), std::string::npos) << e.out;
  Outcome r = ptscope("inspect -f 1 fixtures/views.pt");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  for (const char* args : {"--dtype 1", "--optimizer 0", "--strategy 2", "--units 1"})
    EXPECT_EQ(ptscope(std::string("estimate fixtures/arch/gpt2_tiny.pt ") + args).status, 2) << args;
}

TEST(CliUsage, DtypeSpellingsAreTheSameEverywhere) {
  for (const char* d : {"fp16", "float16", "half", "FP16"}) {
    Outcome r = ptscope(std::string("estimate fixtures/arch/gpt2_tiny.pt -f json --dtype ") + d);
    ASSERT_EQ(r.status, 0) << d << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)[0]["options"]["dtype"], "fp16") << d;
  }
  EXPECT_EQ(ptscope("estimate fixtures/arch/gpt2_tiny.pt --dtype bfloat16").status, 0);
  EXPECT_EQ(ptscope("estimate fixtures/arch/gpt2_tiny.pt --dtype float").status, 0);
  EXPECT_EQ(ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16 --dtype int8").status, 2);
  Outcome bad = ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16:float17");
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(one_error_line(bad.err)) << bad.err;
  EXPECT_NE(bad.err.find("unknown dtype 'float17'"), std::string::npos) << bad.err;
}

TEST(CliUsage, ProfileSendsTorchsCanonicalDtypeNames) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  Outcome r = ptscope("profile fixtures/scripted_cnn.pt -i 1x3x16x16:float --dtype FP32 --iters 1 --warmup 0 -f json");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(j["dtype"], "float32");
  EXPECT_EQ(j["inputs"][0]["dtype"], "float32");
  r = ptscope("profile fixtures/arch/gpt2_tiny_scripted.pt -i 1x8:long --iters 1 --warmup 0 -f json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["inputs"][0]["dtype"], "int64");
}

TEST(CliUsage, EveryErrorIsOnePrefixedLine) {
  for (const char* args : {"inspect", "", "inspect --depth 0 --tree fixtures/views.pt", "inspect -f xml fixtures/views.pt",
                           "estimate fixtures/arch/gpt2_tiny.pt --gpus 0", "estimate a b",
                           "profile fixtures/scripted_cnn.pt", "inspect fixtures/does_not_exist.pt"}) {
    Outcome r = ptscope(args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_TRUE(one_error_line(r.err)) << args << ": " << r.err;
  }
}

// Usage errors the commands find themselves, after CLI11 is done.
TEST(CliUsage, CommandsOwnUsageErrorsArePrefixedExitTwo) {
  Outcome r = ptscope("inspect --format csv --tensors --bytes fixtures/views.pt");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  r = ptscope("profile fixtures/arch/gpt2_tiny_scripted.pt -i 1x64:int64 --max-batch");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("--max-batch on the CPU needs --memory-limit"), std::string::npos) << r.err;
}

// Piped or redirected stderr (as here) gets no progress and no colour.
TEST(CliUsage, NoProgressOrColourWhenStderrIsNotATerminal) {
  Outcome r = ptscope("inspect fixtures/views.pt fixtures/cnn_state_dict.pt fixtures/model.safetensors");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  r = ptscope("inspect fixtures/does_not_exist.pt");
  EXPECT_EQ(r.err.find('\033'), std::string::npos) << r.err;
}

// Under a pseudo-terminal (util-linux script, stdout and stderr both to the
// terminal): colour unless NO_COLOR, progress for several files unless
// --quiet, wiped with a carriage return before the results.
std::string on_a_terminal(const std::string& env, const std::string& args) {
  std::string cmd = "cd " PTSCOPE_SOURCE_DIR " && TERM=xterm " + env + " script -qec '" PTSCOPE_BINARY " " + args +
                    "' /dev/null </dev/null";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(CliUsage, ColourAndProgressOnATerminal) {
  if (std::system("script -qec true /dev/null </dev/null >/dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1)";
  std::string colour = on_a_terminal("", "inspect fixtures/does_not_exist.pt");
  EXPECT_NE(colour.find("\033["), std::string::npos) << colour;
  for (const char* no : {"NO_COLOR=1", "NO_COLOR=yes"}) {
    std::string plain = on_a_terminal(no, "inspect fixtures/does_not_exist.pt");
    EXPECT_NE(plain.find("ptscope: error: fixtures/does_not_exist.pt"), std::string::npos) << plain;
    EXPECT_EQ(plain.find("\033["), std::string::npos) << no << ": " << plain;
  }
  EXPECT_NE(on_a_terminal("NO_COLOR=", "inspect fixtures/does_not_exist.pt").find("\033["), std::string::npos);

  const std::string files = "inspect -f json fixtures/views.pt fixtures/cnn_state_dict.pt";
  std::string progress = on_a_terminal("", files);
  EXPECT_NE(progress.find("[1/2] reading fixtures/views.pt"), std::string::npos) << progress;
  size_t results = progress.find("[\r\n");  // the JSON array, newlines as the terminal writes them
  ASSERT_NE(results, std::string::npos) << progress;
  EXPECT_EQ(progress.substr(results - 1, 1), "\r") << "wiped before the results: " << progress;
  EXPECT_EQ(on_a_terminal("", files + " -q").find("[1/2]"), std::string::npos);
}

}  // namespace

namespace {

// Issue 11: LibTorch reads every torch.ao fixture's tensors as ptscope lists
// them, and the scripted ones' declared state as LibTorch's state_dict.
TEST(CliVerify, AgreesOnEveryQuantizedFixture) {
  if (!have_backend()) GTEST_SKIP() << "no LibTorch backend";
  for (const char* f : {"static_per_channel_state_dict.pt", "static_per_tensor_state_dict.pt",
                        "static_per_channel_scripted.pt", "dynamic_linear_state_dict.pt",
                        "dynamic_linear_module.pt", "dynamic_linear_scripted.pt", "dynamic_lstm_state_dict.pt"}) {
    Outcome r = ptscope(std::string("inspect --verify -f json fixtures/quantized/") + f);
    ASSERT_EQ(r.status, 0) << f << ": " << r.err;
    auto v = nlohmann::json::parse(r.out)[0]["verify"];
    EXPECT_EQ(v["mismatches"].size(), 0u) << f << ": " << v["mismatches"];
    EXPECT_GT(v["tensors_checked"].get<int>(), 0) << f;
  }
}

}  // namespace

TEST(Cli, FolderIsOneReport) {
  Outcome r = ptscope("inspect --format json fixtures/folders/llama_safetensors");
  ASSERT_EQ(r.status, 0) << r.err;
  auto all = nlohmann::json::parse(r.out);
  ASSERT_EQ(all.size(), 1u);
  auto j = all[0];
  EXPECT_EQ(j["file"], "fixtures/folders/llama_safetensors");
  EXPECT_EQ(j["parameters"]["numel"], 220480);
  EXPECT_EQ(j["files"].size(), 3u);
  EXPECT_EQ(j["index"]["checked"], true);
  EXPECT_EQ(j["index"]["problems"].size(), 0u);
  uint64_t mapped = 0, sizes = 0;
  for (const auto& row : j["byte_map"]) mapped += row["bytes"].get<uint64_t>();
  for (const auto& f : j["files"]) sizes += f["file_bytes"].get<uint64_t>();
  EXPECT_EQ(mapped, j["file_bytes"].get<uint64_t>());
  EXPECT_EQ(sizes, j["file_bytes"].get<uint64_t>());
  Outcome t = ptscope("inspect fixtures/folders/llama_bin/pytorch_model.bin.index.json");
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.out.find("pytorch_model.bin.index.json: consistent with the shards"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("pytorch_model-00003-of-00003.bin        2   64,064"), std::string::npos) << t.out;
}

TEST(Cli, FolderConfig) {
  Outcome r = ptscope("inspect fixtures/folders/llama_bin");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("  config  config.json: model_type llama, torch_dtype float32\n"), std::string::npos) << r.out;
  Outcome j = ptscope("inspect --format json fixtures/folders/llama_safetensors");
  ASSERT_EQ(j.status, 0) << j.err;
  auto c = nlohmann::json::parse(j.out)[0]["config"];
  EXPECT_EQ(c["model_type"], "llama");
  EXPECT_EQ(c["num_key_value_heads"], 2);
  Outcome e = ptscope("estimate --format json fixtures/folders/llama_safetensors");
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.out.find("\"heads_source\": \"config.json\""), std::string::npos) << e.out;
  Outcome m = ptscope("estimate fixtures/folders/llama_config_mismatch");
  ASSERT_EQ(m.status, 0) << m.err;
  EXPECT_NE(m.out.find("config.json says hidden_size 128, the shapes 64: the shapes are used"), std::string::npos);
  EXPECT_NE(m.out.find("weights at bf16: config.json's torch_dtype bfloat16 (the files hold fp32)"), std::string::npos);
  Outcome d = ptscope("estimate --dtype fp16 fixtures/folders/llama_config_mismatch");
  EXPECT_NE(d.out.find("inference (fp16"), std::string::npos) << d.out;
  // A config.json that cannot be read: one warning line, the command runs.
  std::string dir = testing::TempDir() + "ptscope_cli_bad_config." + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(PTSCOPE_SOURCE_DIR "/fixtures/folders/llama_config_mismatch/model.safetensors",
                             dir + "/model.safetensors", std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir + "/config.json") << "{\"hidden_size\": ";
  for (const char* cmd : {"estimate ", "inspect "}) {
    Outcome b = ptscope(cmd + dir);
    EXPECT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(b.err, "ptscope: warning: " + dir + "/config.json: not valid JSON; ignored\n");
  }
  std::filesystem::remove_all(dir);
}

TEST(Cli, InconsistentIndexIsExitThree) {
  Outcome r = ptscope("inspect --format json fixtures/folders/bad_total");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err, "ptscope: error: fixtures/folders/bad_total: index: metadata.total_size is 100 but the "
                   "shards' tensors hold 96 bytes\n");
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["index"]["problems"].size(), 1u);
  Outcome e = ptscope("estimate fixtures/folders/bad_missing");
  EXPECT_EQ(e.status, 3) << e.err;
  Outcome one = ptscope("inspect fixtures/folders/bad_missing fixtures/no_such_file.pt");
  EXPECT_EQ(one.status, 1);  // unreadable outranks "no"
}

TEST(Cli, EstimateFolderIsTheWholeModel) {
  Outcome r = ptscope("estimate --format json fixtures/folders/llama_safetensors");
  ASSERT_EQ(r.status, 0) << r.err;
  auto a = nlohmann::json::parse(r.out)[0]["architecture"];
  EXPECT_EQ(a["family"], "llama");
  EXPECT_EQ(a["layers"], 2);
  EXPECT_EQ(a["hidden"], 64);  // heads need config.json or inv_freq: not read yet
  EXPECT_EQ(a["parameters_from_formula"], 220480);
}

// Issue 12: a DeepSpeed run folder is one report; `latest` followed.
TEST(Cli, DeepSpeedFolder) {
  Outcome r = ptscope("inspect fixtures/deepspeed/zero2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("  parameters      255 numel in 8 tensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  deepspeed       ZeRO-2, dp world size 2, 2 ranks read, global_step2 from latest, "
                       "global_steps 2, DeepSpeed 0.19.6; parameters from module, padding 1\n"),
            std::string::npos)
      << r.out;
  Outcome j = ptscope("inspect -f json fixtures/deepspeed/zero3");
  ASSERT_EQ(j.status, 0) << j.err;
  auto all = nlohmann::json::parse(j.out)[0];
  EXPECT_EQ(all["parameters"]["numel"], 255);
  EXPECT_EQ(all["files"].size(), 4u);
  auto d = all["deepspeed"];
  EXPECT_EQ(d["zero_stage"], 3);
  EXPECT_EQ(d["dp_world_size"], 2);
  EXPECT_EQ(d["partition_count"], 2);
  EXPECT_EQ(d["tag"], "global_step2");
  EXPECT_EQ(d["params_from"], "param_shapes");
  EXPECT_EQ(d["ranks"].size(), 2u);
  EXPECT_EQ(d["ranks"][1]["padding"], 1);
  EXPECT_EQ(d["problems"].size(), 0u);
  Outcome e = ptscope("estimate fixtures/deepspeed/zero3");
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_NE(e.out.find("  parameters      255\n"), std::string::npos) << e.out;
  const std::string note = "DeepSpeed checkpoint of a ZeRO-3 run over 2 data-parallel ranks: --strategy zero3 --gpus 2 "
                           "estimates it as trained";
  EXPECT_NE(e.out.find(note), std::string::npos) << e.out;
  Outcome given = ptscope("estimate --strategy zero3 --gpus 2 fixtures/deepspeed/zero3/global_step2");
  ASSERT_EQ(given.status, 0) << given.err;
  EXPECT_EQ(given.out.find(note), std::string::npos) << given.out;
}

TEST(Cli, DeepSpeedProblemsAndErrors) {
  for (const char* cmd : {"inspect ", "estimate "}) {
    Outcome r = ptscope(std::string(cmd) + "fixtures/deepspeed/bad_missing_rank");
    EXPECT_EQ(r.status, 3) << cmd;
    EXPECT_EQ(r.err, "ptscope: error: fixtures/deepspeed/bad_missing_rank: deepspeed: "
                     "zero_pp_rank_1_mp_rank_00_optim_states.pt is missing: partition_count says 2 ranks\n");
    Outcome l = ptscope(std::string(cmd) + "fixtures/deepspeed/bad_latest_escape");
    EXPECT_EQ(l.status, 1) << cmd;
    EXPECT_EQ(l.err, "ptscope: error: fixtures/deepspeed/bad_latest_escape/latest: tag '../zero2/global_step2' "
                     "is not a plain folder name at byte 2\n");
  }
}

namespace {

// Issue 11: the quantized block in inspect's JSON, and estimate starting
// from the stored bits when no --dtype is given.
TEST(CliQuantized, JsonBlockAndStoredBitsDefault) {
  Outcome r = ptscope("inspect -f json fixtures/packed/llama_tiny_gptq.pt");
  ASSERT_EQ(r.status, 0) << r.err;
  auto q = nlohmann::json::parse(r.out)[0]["quantized"];
  EXPECT_EQ(q["tensors"], 14);
  EXPECT_EQ(q["numel"], 92160);
  EXPECT_EQ(q["schemes"], nlohmann::json::array({"gptq"}));
  EXPECT_EQ(q["bits_per_weight"], 4.0);
  auto plain = nlohmann::json::parse(ptscope("inspect -f json fixtures/tied_lm.pt").out)[0];
  EXPECT_FALSE(plain.contains("quantized"));
  auto e = nlohmann::json::parse(ptscope("estimate -f json fixtures/packed/llama_tiny_gptq.pt").out)[0];
  EXPECT_EQ(e["options"]["dtype"], "int4");
  e = nlohmann::json::parse(ptscope("estimate -f json --dtype fp16 fixtures/packed/llama_tiny_gptq.pt").out)[0];
  EXPECT_EQ(e["options"]["dtype"], "fp16");
}

// Issue 12: a mixture of experts in estimate (table and JSON) and inspect,
// and what is unknown without top-k.
TEST(CliMoe, EstimateAndInspectAFolderOfExperts) {
  std::ifstream truth_file(PTSCOPE_SOURCE_DIR "/fixtures/moe/expected.json");
  auto truth = nlohmann::json::parse(truth_file);
  const auto& want = truth["mixtral"];
  Outcome r = ptscope("estimate -f json fixtures/moe/mixtral");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  auto x = j["experts"];
  EXPECT_EQ(x["naming"], "mixtral");
  EXPECT_EQ(x["experts"], want["experts"]);
  EXPECT_EQ(x["moe_layers"], want["moe_layers"]);
  EXPECT_EQ(x["experts_per_token"], 2);
  EXPECT_EQ(x["experts_per_token_source"], "config.json");
  EXPECT_EQ(x["total_parameters"], want["parameters"]);
  EXPECT_EQ(x["expert_parameters"], want["expert_parameters"]);
  EXPECT_EQ(x["router_parameters"], want["router_parameters"]);
  EXPECT_EQ(x["active_parameters"], want["active_parameters"]);
  EXPECT_EQ(x["expert_bytes"], 4 * want["expert_parameters"].get<uint64_t>());
  EXPECT_EQ(x["complete"], true);
  EXPECT_EQ(j["architecture"]["experts"], want["experts"]);
  EXPECT_EQ(j["flops_per_token"]["forward"], want["forward_flops_per_token"]);
  bool counted = false;
  for (const auto& l : j["lines"])
    if (l["section"] == "experts" && l["name"] == "active per token") {
      EXPECT_EQ(l["unit"], "parameters");
      EXPECT_EQ(l["value"], want["active_parameters"]);
      counted = true;
    }
  EXPECT_TRUE(counted);
  Outcome t = ptscope("estimate fixtures/moe/mixtral");
  EXPECT_NE(t.out.find("  experts (mixtral naming, top-2 from config.json)\n"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("    active per token                 8,400  P - routed experts"), std::string::npos) << t.out;

  Outcome i = ptscope("inspect fixtures/moe/qwen2_moe");
  ASSERT_EQ(i.status, 0) << i.err;
  EXPECT_NE(i.out.find("  experts         qwen2_moe naming: 4 per layer in 2 MoE layers, 4,608 parameters routed, router "
                       "128, shared 2,336; 8,496 active per token (top-2, config.json)\n"),
            std::string::npos)
      << i.out;
  auto ij = nlohmann::json::parse(ptscope("inspect -f json fixtures/moe/qwen2_moe").out)[0]["experts"];
  EXPECT_EQ(ij["shared_expert_parameters"], truth["qwen2_moe"]["shared_expert_parameters"]);
  EXPECT_EQ(ij["active_parameters"], truth["qwen2_moe"]["active_parameters"]);
  auto dense = nlohmann::json::parse(ptscope("inspect -f json fixtures/tied_lm.pt").out)[0];
  EXPECT_FALSE(dense.contains("experts"));
}

TEST(CliMoe, WithoutTopKTheActiveFiguresNeedTheOption) {
  Outcome r = ptscope("estimate -f json fixtures/moe/mixtral_no_topk");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  EXPECT_EQ(j["experts"]["active_parameters"], nullptr);
  EXPECT_EQ(j["experts"]["experts_per_token"], nullptr);
  EXPECT_EQ(j["experts"]["complete"], false);
  EXPECT_EQ(j["flops_per_token"]["forward"], nullptr);
  EXPECT_EQ(j["flops_per_token"]["reason"], "needs --experts-per-token");
  EXPECT_EQ(j["inference"]["complete"], false);
  EXPECT_EQ(j["inference"]["missing"], nlohmann::json::array({"routed experts' activations"}));
  Outcome t = ptscope("estimate fixtures/moe/mixtral_no_topk");
  EXPECT_NE(t.out.find("active per token  unknown (needs --experts-per-token"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("forward per token    unknown (needs --experts-per-token)"), std::string::npos) << t.out;
  Outcome i = ptscope("inspect fixtures/moe/mixtral_no_topk");
  EXPECT_NE(i.out.find("active per token: `ptscope estimate --experts-per-token K`"), std::string::npos) << i.out;

  Outcome k = ptscope("estimate -f json --experts-per-token 2 fixtures/moe/mixtral_no_topk");
  ASSERT_EQ(k.status, 0) << k.err;
  auto kj = nlohmann::json::parse(k.out)[0];
  EXPECT_EQ(kj["experts"]["active_parameters"], 8400);
  EXPECT_EQ(kj["experts"]["experts_per_token_source"], "--experts-per-token");
  EXPECT_EQ(kj["inference"]["complete"], true);
  EXPECT_EQ(ptscope("estimate --experts-per-token 0 fixtures/moe/mixtral").status, 2);
  Outcome big = ptscope("estimate --experts-per-token 5 fixtures/moe/mixtral");
  EXPECT_EQ(big.status, 1);
  EXPECT_EQ(big.err, "ptscope: error: fixtures/moe/mixtral: --experts-per-token 5 exceeds the 4 experts a layer holds\n");
}

}  // namespace

TEST(Cli, ScanExitStatuses) {
  Outcome safe = ptscope("scan fixtures/tied_lm.pt fixtures/model.safetensors");
  EXPECT_EQ(safe.status, 0) << safe.err;
  EXPECT_NE(safe.out.find("2 files: 2 safe, 0 needs-code, 0 dangerous, 0 not read"), std::string::npos) << safe.out;
  Outcome code = ptscope("scan fixtures/whole_module.pt");
  EXPECT_EQ(code.status, 3);
  EXPECT_EQ(ptscope("scan --fail-on dangerous fixtures/whole_module.pt").status, 0);
  Outcome bad = ptscope("scan -f json fixtures/malicious/zip_reduce_global.pt");
  EXPECT_EQ(bad.status, 3);
  auto j = nlohmann::json::parse(bad.out)[0];
  EXPECT_EQ(j["verdict"], "dangerous");
  EXPECT_EQ(j["findings"][0]["global"], "os.system");
  for (const char* key : {"severity", "kind", "global", "record", "offset", "record_offset", "count", "detail"})
    EXPECT_TRUE(j["findings"][0].contains(key)) << key;
  Outcome missing = ptscope("scan fixtures/malicious/zip_reduce_global.pt fixtures/nonexistent.pt");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "ptscope: error: fixtures/nonexistent.pt: no such file\n");
  EXPECT_EQ(ptscope("scan --fail-on maybe fixtures/tied_lm.pt").status, 2);
}

TEST(Cli, InspectJsonHasTheVerdict) {
  Outcome r = ptscope("inspect -f json fixtures/whole_module.pt");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out)[0]["safety"];
  EXPECT_EQ(j["verdict"], "needs-code");
  EXPECT_GT(j["findings"].get<int>(), 0);
  EXPECT_EQ(j["summary"].get<std::string>().rfind("needs-code: __main__.WholeNet", 0), 0u) << j;
}

TEST(Cli, InspectShowsTheVerdict) {
  Outcome r = ptscope("inspect fixtures/malicious/zip_reduce_global.pt");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("  safety          dangerous: os.system (zip_reduce_global/data.pkl at byte 66); "
                       "ptscope scan for all 3 findings\n"),
            std::string::npos)
      << r.out;
}

// ptscope diff: exit 0 same, 3 different, 1 unreadable, 2 usage.
TEST(CliDiff, ExitStatuses) {
  EXPECT_EQ(ptscope("diff fixtures/diff/base.pt fixtures/diff/base.safetensors").status, 0);
  EXPECT_EQ(ptscope("diff fixtures/diff/base.pt fixtures/diff/strided.pt").status, 0);
  EXPECT_EQ(ptscope("diff fixtures/diff/base.pt fixtures/diff/finetuned.pt").status, 3);
  EXPECT_EQ(ptscope("diff --structure fixtures/diff/base.pt fixtures/diff/finetuned.pt").status, 0);
  EXPECT_EQ(ptscope("diff fixtures/diff/base.pt fixtures/diff/missing.pt").status, 1);
  EXPECT_EQ(ptscope("diff fixtures/diff/base.pt").status, 2);
  EXPECT_EQ(ptscope("diff --frobnicate fixtures/diff/base.pt fixtures/diff/fp16.pt").status, 2);
  EXPECT_EQ(ptscope("inspect --html /dev/null fixtures/views.pt fixtures/tied_lm.pt").status, 2);  // one page, one file
}

TEST(CliDiff, TableSaysWhatChanged) {
  Outcome r = ptscope("diff fixtures/diff/base.pt fixtures/diff/fp16.pt");
  ASSERT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.out.find("fc1.weight       dtype float32 -> float16; values within float16 rounding (max |d| 0.00012"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("bytes float16       0    552  +552"), std::string::npos) << r.out;
  Outcome p = ptscope("diff fixtures/diff/renamed.pt fixtures/diff/finetuned.pt");
  EXPECT_NE(p.out.find("renamed         prefix 'module.' -> '' on 9 tensors"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("fc2.weight  module.fc2.weight  max |d| 0.0333, rel L2 0.0683, 100.00% of 64 changed"),
            std::string::npos)
      << p.out;
}

TEST(CliDiff, JsonHasTheDocumentedFields) {
  Outcome r = ptscope("diff -f json fixtures/diff/base.pt fixtures/diff/added_removed.pt");
  ASSERT_EQ(r.status, 3) << r.err;
  auto j = nlohmann::json::parse(r.out)[0];
  for (const char* key : {"a", "b", "added", "removed", "renamed", "changed", "unchanged", "totals"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["added"][0]["name"], "head.scale");
  EXPECT_EQ(j["removed"][0]["name"], "fc2.bias");
  EXPECT_EQ(j["unchanged"], 8);
  EXPECT_EQ(j["totals"]["tensors"]["delta"], 0);
  EXPECT_EQ(j["totals"]["parameters"]["a"], 244);
  Outcome p = ptscope("diff -f json fixtures/diff/base.pt fixtures/diff/pruned.pt");
  auto c = nlohmann::json::parse(p.out)[0]["changed"][0];
  EXPECT_EQ(c["name"], "fc1.weight");
  EXPECT_TRUE(c["shape"].is_null());
  EXPECT_EQ(c["values"]["changed_elements"], 64);
  EXPECT_EQ(c["values"]["changed_fraction"], 0.5);
}

// A DCP folder's values are not read yet: said so, per tensor, never guessed.
TEST(CliDiff, DcpValuesAreNotCompared) {
  Outcome r = ptscope("diff fixtures/dcp/one_rank fixtures/dcp/two_ranks -f json");
  ASSERT_EQ(r.status, 0) << r.err;  // the same model saved over one and two ranks
  auto j = nlohmann::json::parse(r.out)[0];
  ASSERT_EQ(j["not_compared"].size(), 4u);  // model.w, model.b, emb, step
  for (const auto& n : j["not_compared"]) EXPECT_EQ(n["reason"], "a DCP tensor (its chunks are not streamed yet)");
}

// Values are read from the files, never through LibTorch.
TEST(CliDiff, NeverLoadsLibTorch) {
  Outcome r = ptscope("diff fixtures/diff/base.pt fixtures/diff/finetuned.pt", "LD_DEBUG=files");
  ASSERT_EQ(r.status, 3);
  EXPECT_NE(r.err.find("libspdlog"), std::string::npos) << "LD_DEBUG gave no log";
  EXPECT_EQ(r.err.find("libtorch"), std::string::npos);
  EXPECT_EQ(r.err.find("libc10"), std::string::npos);
}
