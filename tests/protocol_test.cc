// The plugin protocol: requests and replies survive the trip through JSON,
// a field left out takes its struct's default, and the names profile takes
// map to the estimate's enums.
#include <gtest/gtest.h>

#include "protocol.h"

namespace ptscope {
namespace {

using json = ProtocolJson;

template <typename T>
T round_trip(const T& v) {
  return json::parse(json(v).dump()).get<T>();
}

TEST(Protocol, ProfileRequestRoundTrips) {
  ProfileRequest r;
  r.file = "m.pt";
  r.inputs = {{{1, 3, 224, 224}, std::nullopt}, {{1, 128}, std::string("int64")}};
  r.batch = 8;
  r.warmup = 1;
  r.iters = 2;
  r.dtype = "bfloat16";
  r.train = true;
  r.optimizer = "sgd";
  r.device = "cuda:1";
  r.counter_overhead = true;
  r.max_batch = true;
  r.memory_limit = 123;
  r.max_batch_limit = 64;
  json j = r;
  EXPECT_TRUE(j["inputs"][0]["dtype"].is_null());
  ProfileRequest back = round_trip(r);
  EXPECT_EQ(json(back), j);
  EXPECT_EQ(back.inputs[1].dtype, "int64");
  EXPECT_FALSE(back.inputs[0].dtype);
  EXPECT_EQ(back.max_batch_limit, 64);
}

TEST(Protocol, MissingFieldsTakeTheDefaults) {
  ProfileRequest r = json::parse(R"({"file": "m.pt", "inputs": [{"shape": [2, 3]}]})").get<ProfileRequest>();
  ProfileRequest d;
  EXPECT_EQ(r.file, "m.pt");
  EXPECT_EQ(r.inputs[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_FALSE(r.inputs[0].dtype);
  EXPECT_EQ(r.warmup, d.warmup);
  EXPECT_EQ(r.iters, d.iters);
  EXPECT_EQ(r.dtype, d.dtype);
  EXPECT_EQ(r.optimizer, d.optimizer);
  EXPECT_EQ(r.device, d.device);
  EXPECT_EQ(r.max_batch_limit, d.max_batch_limit);

  VerifyReply v = json::parse(R"({"nan": 2})").get<VerifyReply>();
  EXPECT_EQ(v.nan, 2);
  EXPECT_EQ(v.tensors_checked, 0);
  EXPECT_TRUE(v.mismatches.empty());

  ProfileReply p = json::parse(R"({"file": "m.pt", "macs": 5})").get<ProfileReply>();
  ASSERT_TRUE(p.forward);
  EXPECT_EQ(p.forward->macs, 5u);
  EXPECT_FALSE(p.forward->allocator_peak_bytes);
  EXPECT_FALSE(p.forward->gpu);
  EXPECT_FALSE(p.train);
}

Latency some_latency() {
  Latency l;
  l.median_ms = 1.5;
  l.p10_ms = 1.0;
  l.p90_ms = 2.0;
  l.mean_ms = 1.6;
  l.iters = 10;
  l.warmup = 3;
  l.throughput = 666.7;
  l.threads = 4;
  return l;
}

ProfileReply common_reply() {
  ProfileReply r;
  r.file = "m.pt";
  r.device = "cpu";
  r.dtype = "float32";
  r.batch = 1;
  r.inputs = {{"x", {1, 3, 16, 16}, "float32", 3072}};
  r.parameters = {2, 330, 1320};
  r.weights_bytes = 1320;
  r.inputs_bytes = 3072;
  return r;
}

TEST(Protocol, ForwardReplyRoundTripsFlat) {
  ProfileReply r = common_reply();
  Forward& f = r.forward.emplace();
  f.macs = 42416;
  f.flops = 84832;
  f.flops_fwd_bwd_estimate = 3 * 84832;
  f.ops["aten::conv2d"] = {1, 42336, 84672};
  f.modules["conv"] = {42336, 84672};
  f.ops_without_formula = {"aten::weird"};
  f.activation_peak_bytes = 6272;
  f.cuda = CudaPeaks{10, 20};
  f.latency = some_latency();
  f.latency_with_counter = some_latency();
  MaxBatch& mb = f.max_batch.emplace();
  mb.batch = 4;
  mb.peak_bytes = 1000;
  mb.tries = {{4, 1000, std::nullopt, true}, {8, std::nullopt, std::string("out of memory"), false}};
  f.gpu = GpuProcess{std::nullopt, "no NVML", std::nullopt};

  json j = r;
  // The forward's fields at the top level, beside the common ones.
  EXPECT_EQ(j["macs"], 42416);
  EXPECT_EQ(j["ops"]["aten::conv2d"]["flops"], 84672);
  EXPECT_EQ(j["parameters"]["numel"], 330);
  EXPECT_EQ(j["peak_allocated_bytes"], 10);
  EXPECT_FALSE(j.contains("allocator_peak_bytes"));
  EXPECT_FALSE(j.contains("train"));
  EXPECT_TRUE(j["max_batch"]["limit_bytes"].is_null());  // null, not absent
  EXPECT_FALSE(j["max_batch"]["tries"][0].contains("error"));
  EXPECT_FALSE(j["max_batch"]["tries"][1].contains("peak_bytes"));
  EXPECT_TRUE(j["process_bytes"].is_null());
  EXPECT_EQ(j["process_bytes_unavailable"], "no NVML");
  EXPECT_TRUE(j["gpu_name"].is_null());

  ProfileReply back = round_trip(r);
  EXPECT_EQ(json(back), j);
  ASSERT_TRUE(back.forward && back.forward->gpu && back.forward->max_batch);
  EXPECT_FALSE(back.forward->gpu->process_bytes);
  EXPECT_EQ(back.forward->max_batch->tries[1].error, "out of memory");
}

// profile on a state_dict: the build request and the per-layer rows cross
// whole; a build without eps or rope theta takes the family's defaults.
TEST(Protocol, ModelBuildAndLayersRoundTrip) {
  ProfileRequest r;
  r.file = "folder";
  r.save_io = "io.pt";
  ModelBuild& b = r.build.emplace();
  b.family = "llama";
  b.layers = 2;
  b.hidden = 64;
  b.heads = 4;
  b.kv_heads = 2;
  b.head_dim = 16;
  b.heads_source = "config.json";
  b.lm_head = true;
  b.norm_eps = 1e-5;
  b.files = {"folder/pytorch_model.bin"};
  b.tensors.push_back({"embed_tokens.weight", "float32", {64, 64}, {64, 1}, 0, 4096, 16384, 0});
  ProfileRequest back = round_trip(r);
  EXPECT_EQ(json(back), json(r));
  ASSERT_TRUE(back.build);
  EXPECT_EQ(back.build->tensors.at(0).file_offset, 4096u);
  EXPECT_EQ(back.save_io, "io.pt");
  EXPECT_FALSE(round_trip(ProfileRequest{}).build);

  ModelBuild t5;
  t5.family = "t5";
  t5.decoder_layers = 6;
  t5.relative_buckets = 32;
  t5.relative_max_distance = 64;
  t5.gated_mlp = true;
  t5.activation = "gelu_new";
  EXPECT_EQ(json(json(t5).get<ModelBuild>()), json(t5));
  EXPECT_EQ(default_norm_eps("t5"), 1e-6);

  // rope_scaling, sliding window and dropout travel to the plugin.
  ModelBuild llama3;
  llama3.family = "llama";
  llama3.rope = {"llama3", 8.0, 1.0, 4.0, 0, 0, 0, 8192};
  llama3.max_positions = 131072;
  llama3.sliding_window = 4096;
  llama3.dropout_attention = 0.1;
  ModelBuild llama3_back = json(llama3).get<ModelBuild>();
  EXPECT_EQ(json(llama3_back), json(llama3));
  EXPECT_EQ(llama3_back.rope.type, "llama3");
  EXPECT_EQ(llama3_back.rope.original_max_positions, 8192);
  EXPECT_EQ(llama3_back.sliding_window, 4096);

  ModelBuild defaults = json::parse(R"({"family": "gpt2"})").get<ModelBuild>();
  EXPECT_EQ(defaults.relative_max_distance, 128);  // T5Config's default
  EXPECT_EQ(defaults.norm_eps, 0);  // 0: default_norm_eps(family) in the plugin
  EXPECT_EQ(defaults.rope_theta, 10000.0);
  EXPECT_TRUE(defaults.rope.type.empty());  // no rope_scaling
  EXPECT_EQ(defaults.sliding_window, 0);
  EXPECT_EQ(defaults.dropout_hidden, 0);
  EXPECT_EQ(default_norm_eps("llama"), 1e-6);
  EXPECT_EQ(default_norm_eps("gpt2"), 1e-5);
  EXPECT_EQ(default_norm_eps("bert"), 1e-12);  // BertConfig.layer_norm_eps
  EXPECT_EQ(defaults.padding_idx, -1);         // BERT's positions, 0 onwards
  ModelBuild roberta = json::parse(R"({"family": "bert", "padding_idx": 1})").get<ModelBuild>();
  EXPECT_EQ(roberta.padding_idx, 1);

  ProfileReply reply;
  reply.built = "llama, 2 layers";
  reply.build_ms = 1.5;
  Forward& f = reply.forward.emplace();
  f.layers.push_back({"layers.0", "LlamaDecoderLayer", 0, {1, 16, 64}, 30848, 524288, 1072448, 4096});
  ProfileReply rb = round_trip(reply);
  EXPECT_EQ(json(rb), json(reply));
  ASSERT_EQ(rb.forward->layers.size(), 1u);
  EXPECT_EQ(rb.forward->layers[0].output_shape, (std::vector<int64_t>{1, 16, 64}));
  EXPECT_EQ(*rb.build_ms, 1.5);
}

TEST(Protocol, TrainReplyRoundTrips) {
  ProfileReply r = common_reply();
  Train& t = r.train.emplace();
  t.optimizer = "adam";
  t.peak_bytes = 9000;
  t.parameters_bytes = 1320;
  t.gradients_bytes = 1320;
  t.optimizer_state_bytes = 2640;
  t.activations_bytes = 4000;
  t.forward_backward_peak_bytes = 5000;
  t.rule_of_thumb_bytes = 9280;
  t.latency = some_latency();
  json j = r;
  EXPECT_FALSE(j.contains("macs"));
  EXPECT_FALSE(j["train"].contains("peak_allocated_bytes"));
  ProfileReply back = round_trip(r);
  EXPECT_EQ(json(back), j);
  EXPECT_FALSE(back.forward);
  ASSERT_TRUE(back.train);
  EXPECT_EQ(back.train->optimizer_state_bytes, 2640u);
}

TEST(Protocol, VerifyRoundTrips) {
  VerifyRequest q;
  q.file = "m.pt";
  q.torchscript = true;
  q.tensors = {{"w", "float32", {2, 3}, {3, 1}, 0, uint64_t{64}, 24}, {"meta", "float16", {4}, {1}, 0, std::nullopt, 0}};
  json jq = q;
  EXPECT_TRUE(jq["tensors"][1]["file_offset"].is_null());
  VerifyRequest qb = round_trip(q);
  EXPECT_EQ(json(qb), jq);
  EXPECT_EQ(qb.tensors[0].file_offset, uint64_t{64});

  VerifyReply v;
  v.tensors_checked = 1;
  v.elements_checked = 4;
  v.nan = 1;
  v.inf = 2;
  v.tensors_with_nan_or_inf = {{"w", 1, 2}};
  v.not_checked = {"f8: LibTorch 1.13.1 has no float8_e4m3fn"};
  v.mismatches = {"x: not in the module LibTorch loaded"};
  json jv = v;
  EXPECT_EQ(jv.dump(), R"({"tensors_checked":1,"elements_checked":4,"nan":1,"inf":2,)"
                       R"("tensors_with_nan_or_inf":[{"name":"w","nan":1,"inf":2}],)"
                       R"("not_checked":["f8: LibTorch 1.13.1 has no float8_e4m3fn"],)"
                       R"("mismatches":["x: not in the module LibTorch loaded"]})");
  EXPECT_EQ(json(round_trip(v)), jv);
}

TEST(Protocol, ProfileNamesMapToTheEstimate) {
  EXPECT_EQ(profile_weight_type("fp32"), WeightType::FP32);
  EXPECT_EQ(profile_weight_type("float32"), WeightType::FP32);
  EXPECT_EQ(profile_weight_type("fp16"), WeightType::FP16);
  EXPECT_EQ(profile_weight_type("float16"), WeightType::FP16);
  EXPECT_EQ(profile_weight_type("bf16"), WeightType::BF16);
  EXPECT_EQ(profile_weight_type("bfloat16"), WeightType::BF16);
  EXPECT_FALSE(profile_weight_type("float64"));
  EXPECT_FALSE(profile_weight_type("int3"));
  EXPECT_EQ(profile_dtype("int64"), DType::Int64);
  EXPECT_EQ(profile_optimizer("sgd"), Optimizer::Momentum);
  EXPECT_EQ(profile_optimizer("adam"), Optimizer::Adam);
  EXPECT_EQ(profile_optimizer("adamw"), Optimizer::AdamW);
  EXPECT_FALSE(profile_optimizer("lion"));
}

}  // namespace
}  // namespace ptscope
