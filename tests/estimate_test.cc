// The estimates against published figures: rules of thumb for weights, the
// ZeRO paper's table, the KV cache of LLaMA-2-7B, Korthikanti et al.'s
// activation formula, Kaplan et al.'s FLOPs per token, torchvision's GFLOPs.
#include <gtest/gtest.h>

#include "checkpoint_builder.h"
#include "batch_search.h"
#include "ptscope/estimate.h"
#include "reader.h"
#include "numbers.h"

namespace ptscope {
namespace {

using test::add_tensor;
using test::model_from_shapes;

// A checkpoint of parameter tensors with these shapes and no data.
Checkpoint parameters(const std::vector<std::vector<int64_t>>& shapes) {
  Checkpoint c;
  c.roles_known = true;
  for (const auto& shape : shapes) add_tensor(c, "w" + std::to_string(c.tensors.size()), shape, Role::Parameter);
  return c;
}

TEST(Estimate, SevenBillionAtEachPrecision) {
  Checkpoint c = parameters({{7000, 1000000}});  // 7 B parameters in one matrix
  EstimateOptions o;
  EXPECT_EQ(estimate(c, o).inference.weights, 28000000000u);
  EXPECT_EQ(human_bytes(28000000000u, Units::Decimal), "28.00 GB");
  EXPECT_EQ(human_bytes(28000000000u, Units::Binary), "26.08 GiB");
  o.dtype = WeightType::BF16;
  EXPECT_EQ(estimate(c, o).inference.weights, 14000000000u);
  o.dtype = WeightType::INT8;  // one byte each, one fp16 scale per row
  EXPECT_EQ(estimate(c, o).inference.weights, 7000000000u + 2 * 7000);
  o.dtype = WeightType::INT4;  // half a byte each, 2.5 bytes per group of 128
  EXPECT_EQ(estimate(c, o).inference.weights, 3500000000u + 136718750u);
  EXPECT_FALSE(estimate(c, o).training.possible);
}

TEST(Estimate, ZeroPaperTable) {
  // Rajbhandari et al. 2020, figure 1: 7.5 B parameters, 64 GPUs, mixed
  // precision Adam (K = 12): 120 / 31.4 / 16.6 / 1.9 GB per GPU.
  const uint64_t psi = 7500000000u;
  EXPECT_EQ(per_gpu_model_states(Strategy::DDP, 2 * psi, 2 * psi, 12 * psi, 64), 120000000000u);
  EXPECT_EQ(per_gpu_model_states(Strategy::Zero1, 2 * psi, 2 * psi, 12 * psi, 64), 31406250000u);
  EXPECT_EQ(per_gpu_model_states(Strategy::Zero2, 2 * psi, 2 * psi, 12 * psi, 64), 16640625000u);
  EXPECT_EQ(per_gpu_model_states(Strategy::Zero3, 2 * psi, 2 * psi, 12 * psi, 64), 1875000000u);

  Checkpoint c = parameters({{7500, 1000000}});
  EstimateOptions o;
  o.optimizer = Optimizer::Adam;
  o.mixed_precision = true;
  o.gpus = 64;
  o.strategy = Strategy::Zero2;
  Estimate e = estimate(c, o);
  EXPECT_EQ(e.training.weights + e.training.gradients + e.training.master_weights + e.training.optimizer,
            16 * psi);
  EXPECT_EQ(e.training.per_gpu, 16640625000u);
  EXPECT_EQ(e.training.per_gpu_by_strategy[3].second, 1875000000u);
}

TEST(Estimate, OptimizerStates) {
  Checkpoint c = parameters({{1024, 512}, {512}, {100}});
  const uint64_t p = 1024 * 512 + 512 + 100;
  auto optimizer = [&](Optimizer opt) {
    EstimateOptions o;
    o.optimizer = opt;
    return estimate(c, o).training.optimizer;
  };
  EXPECT_EQ(optimizer(Optimizer::SGD), 0u);
  EXPECT_EQ(optimizer(Optimizer::Momentum), 4 * p);
  EXPECT_EQ(optimizer(Optimizer::AdamW), 8 * p);
  EXPECT_EQ(optimizer(Optimizer::Adafactor), 4 * (1024 + 512 + 512 + 100));  // row + column sums; vectors whole
  // 8-bit Adam: two bytes plus two fp32 absmax per 2048 elements; tensors
  // under 4096 elements keep fp32 states.
  EXPECT_EQ(optimizer(Optimizer::Adam8bit), 2 * 1024 * 512 + 8 * 256 + 8 * (512 + 100));
}

TEST(Estimate, KvCacheOfLlama2_7b) {
  // 2 x 32 layers x 4096 wide x 2 bytes = 0.5 MiB per token at fp16.
  EstimateOptions o;
  o.dtype = WeightType::FP16;
  o.seq = 4096;
  Estimate e = estimate(model_from_shapes("llama-2-7b"), o);
  ASSERT_TRUE(e.inference.kv_cache);
  EXPECT_EQ(*e.inference.kv_cache, 4096u * 512 * 1024);
  EXPECT_EQ(e.heads, 32);
  EXPECT_EQ(e.heads_source, "shapes");
}

TEST(Estimate, GroupedQueryAttentionShrinksTheCache) {
  EstimateOptions o;
  o.dtype = WeightType::BF16;
  o.seq = 4096;
  Estimate e = estimate(model_from_shapes("mistral-7b"), o);
  EXPECT_EQ(*e.inference.kv_cache, 4096u * 128 * 1024);  // 8 of 32 heads keep keys and values
  EXPECT_EQ(e.heads, 32);  // assumed head_dim 128
  EXPECT_EQ(e.kv_heads, 8);
}

TEST(Estimate, KorthikantiActivations) {
  // GPT-2 small, 16-bit activations, s = 1024, b = 1, a = 12: every layer
  // keeps s*b*h*(34 + 5*a*s/h) bytes (Korthikanti et al. 2022, eq. 1).
  EstimateOptions o;
  o.mixed_precision = true;
  o.heads = 12;
  Estimate e = estimate(model_from_shapes("gpt2"), o);
  const uint64_t s = 1024, h = 768, V = 50257, sbh = s * h;
  const uint64_t layer = sbh * (34 + 5 * 12 * s / h);
  EXPECT_EQ(layer, 89653248u);
  // plus: final norm input 2sbh, embedding dropout mask sbh, output head
  // input 2sbh and fp32 logits 4sbV.
  EXPECT_EQ(*e.training.activations, 12 * layer + 2 * sbh + sbh + 2 * sbh + 4 * s * V);

  o.activation_checkpointing = true;  // each layer's input, one layer recomputed
  e = estimate(model_from_shapes("gpt2"), o);
  EXPECT_EQ(*e.training.activations, 12 * 2 * sbh + layer + 2 * sbh + sbh + 2 * sbh + 4 * s * V);
}

TEST(Estimate, KaplanFlopsPerToken) {
  // 2N + 2*n_layer*n_ctx*d_attn (Kaplan et al. 2020, eq. 2.2), N without the
  // embeddings but with the output projection, which GPT-2 ties to them.
  EstimateOptions o;
  Estimate e = estimate(model_from_shapes("gpt2"), o);
  const uint64_t n = 124439808u - 50257u * 768 - 1024u * 768 + 50257u * 768;
  EXPECT_EQ(*e.flops.forward_per_token, 2 * n + 2 * 12 * 1024 * 768);
  EXPECT_EQ(*e.flops.training_per_token, 3 * *e.flops.forward_per_token);
  EXPECT_EQ(*e.flops.forward_per_sample, 1024 * *e.flops.forward_per_token);
}

// torchvision's published GFLOPS (multiply-adds) at 224 x 224.
TEST(Estimate, TorchvisionFlops) {
  EstimateOptions o;
  auto gmacs = [&](const std::string& m) {
    return static_cast<double>(*estimate(model_from_shapes(m), o).flops.forward_per_sample) / 2e9;
  };
  EXPECT_NEAR(gmacs("resnet50"), 4.09, 0.005);
  EXPECT_NEAR(gmacs("resnet18"), 1.81, 0.005);
  // 2 FLOPs per parameter per token counts biases and norms too (+9E + F
  // per layer): 17.588 against torchvision's 17.56, which counts only the
  // matrix multiply-adds.
  EXPECT_NEAR(gmacs("vit_b_16"), 17.56, 0.03);
  EXPECT_FALSE(estimate(model_from_shapes("resnet50"), o).flops.forward_per_token);
}

// An unrecognised model gets what the count allows (weights, gradients,
// optimizer state, sharding) and nothing else: no activations, no FLOPs (a
// weight may be applied once per sample, per token or per output pixel),
// and totals that say they are lower bounds.
TEST(Estimate, UnrecognisedModelGetsWhatTheCountAllows) {
  Checkpoint c = parameters({{1000, 1000}});
  EstimateOptions o;
  Estimate e = estimate(c, o);
  EXPECT_FALSE(e.architecture);
  EXPECT_FALSE(e.inference.activations);
  EXPECT_FALSE(e.training.activations);
  EXPECT_FALSE(e.flops.forward_per_token);
  EXPECT_FALSE(e.flops.forward_per_sample);
  EXPECT_EQ(e.inference.total, 4000000u);  // the weights, a lower bound
  EXPECT_EQ(e.inference.missing, (std::vector<std::string>{"activations", "any kv cache"}));
  EXPECT_EQ(e.training.missing, (std::vector<std::string>{"activations"}));
  ASSERT_FALSE(e.notes.empty());
  EXPECT_NE(e.notes[0].find("architecture not recognised"), std::string::npos);
  EXPECT_NE(e.notes[0].find("`ptscope profile FILE -i ...` measures them"), std::string::npos) << e.notes[0];
}

// torchvision's MobileNetV3-Small: a CNN no family covers. No per-token
// figure, no FLOPs (2 x parameters would say 5 MFLOPs where torchvision lists
// 2 x 56 M multiply-adds), every total marked incomplete.
TEST(Estimate, UnrecognisedCnnHasNoPerTokenFiguresOrPlainTotals) {
  EstimateOptions o;
  Estimate e = estimate(model_from_shapes("mobilenet_v3_small"), o);
  EXPECT_FALSE(e.architecture);
  EXPECT_EQ(e.sizes.parameters, 2542856u);
  EXPECT_FALSE(e.flops.forward_per_token);
  EXPECT_FALSE(e.flops.forward_per_sample);
  EXPECT_FALSE(e.flops.forward_per_batch);
  EXPECT_NE(e.flops.unknown.find("ptscope profile FILE -i"), std::string::npos) << e.flops.unknown;
  EXPECT_FALSE(e.flops.no_per_token.empty());
  for (const Line& l : e.lines) {
    EXPECT_EQ(l.name.find("per token"), std::string::npos) << l.name;
    if (l.name == "total" || l.section == "per gpu") EXPECT_FALSE(l.missing.empty()) << l.section << " " << l.name;
    if (l.name == "activations" || l.section == "flops") EXPECT_FALSE(l.known) << l.section << " " << l.name;
  }
}

// SmolLM-135M: q_proj [576, 576], k_proj [192, 576], no head axis. The
// usual head widths, powers of two first, give head_dim 64: 9 heads, 3 KV
// heads (widest first would take 96: 6 and 2, which also divide).
TEST(Estimate, HeadsFromTheUsualHeadWidths) {
  EstimateOptions o;
  o.mixed_precision = true;
  o.batch = 8;
  o.seq = 2048;
  Estimate e = estimate(model_from_shapes("smollm-135m"), o);
  ASSERT_TRUE(e.architecture);
  EXPECT_EQ(e.architecture->parameters_from_formula, 134515008u);
  EXPECT_EQ(e.heads, 9);
  EXPECT_EQ(e.kv_heads, 3);
  EXPECT_EQ(e.heads_source, "head_dim 64 assumed: the first of 128/64/96/80 dividing q 576 and kv 192");
  EXPECT_TRUE(e.inference.missing.empty());
  EXPECT_TRUE(e.training.missing.empty());

  // Batch-8 mixed-precision AdamW training at s = 2048, by the formula:
  // per layer attention e*s*b*(h + 2q + 2kv) + e*a*s^2*b (no dropout), gated
  // MLP e*s*b*(h + 4F), two norms 2*e*s*b*h; then the final norm's input,
  // the head's input and fp32 logits 4*s*b*V.
  const uint64_t el = 2, s = 2048, b = 8, h = 576, q = 576, kv = 192, F = 1536, a = 9, L = 30, V = 49152;
  const uint64_t scores = el * a * s * s * b;
  const uint64_t layer = el * s * b * (h + 2 * q + 2 * kv) + scores + el * s * b * (h + 4 * F) + 2 * el * s * b * h;
  const uint64_t activations = L * layer + 2 * el * s * b * h + 4 * s * b * V;
  EXPECT_EQ(*e.training.activations, activations);
  const uint64_t P = 134515008u;
  EXPECT_EQ(e.training.total, 16 * P + activations);  // 2 + 2 + 4 + 8 bytes per parameter
  EXPECT_GT(L * scores, *e.training.activations / 2);  // the s^2 term is most of it
}

// No tensor has a head axis and no usual width divides q 100: the score
// term needs --heads, its line says so and the totals are lower bounds.
TEST(Estimate, UnknownHeadsMarkTheTotalsIncomplete) {
  Checkpoint c;
  c.roles_known = true;
  auto p = [&](const std::string& n, std::vector<int64_t> shape) { add_tensor(c, n, shape, Role::Parameter); };
  p("model.embed_tokens.weight", {1000, 100});
  for (const char* w : {"q_proj", "o_proj"}) p(std::string("model.layers.0.self_attn.") + w + ".weight", {100, 100});
  for (const char* w : {"k_proj", "v_proj"}) p(std::string("model.layers.0.self_attn.") + w + ".weight", {50, 100});
  p("model.layers.0.mlp.gate_proj.weight", {200, 100});
  p("model.layers.0.mlp.up_proj.weight", {200, 100});
  p("model.layers.0.mlp.down_proj.weight", {100, 200});
  p("model.layers.0.input_layernorm.weight", {100});
  p("model.layers.0.post_attention_layernorm.weight", {100});
  p("model.norm.weight", {100});
  EstimateOptions o;
  o.seq = 64;
  Estimate e = estimate(c, o);
  ASSERT_TRUE(e.architecture);
  EXPECT_EQ(e.heads, 0);
  EXPECT_EQ(e.inference.missing, (std::vector<std::string>{"attention scores"}));
  EXPECT_EQ(e.training.missing, (std::vector<std::string>{"attention scores"}));
  int unknown_lines = 0;
  for (const Line& l : e.lines) {
    if (l.name == "attention scores") {
      ++unknown_lines;
      EXPECT_FALSE(l.known);
      EXPECT_EQ(l.formula.rfind("needs --heads", 0), 0u) << l.formula;
    }
    if (l.name == "total" || l.name == "activations" || l.section == "per gpu")
      EXPECT_EQ(l.missing, (std::vector<std::string>{"attention scores"})) << l.section << " " << l.name;
  }
  EXPECT_EQ(unknown_lines, 2);  // inference and training

  o.heads = 5;  // head_dim 20: now complete, and larger by the score term
  Estimate with = estimate(c, o);
  EXPECT_TRUE(with.training.missing.empty());
  EXPECT_EQ(with.heads_source, "--heads");
  EXPECT_EQ(*with.training.activations - *e.training.activations, 4u * 5 * 64 * 64);  // L*e*a*s^2*b
}

// No --dtype: the floating dtype most parameter bytes are in.
TEST(Estimate, FilePrecisionIsWhereMostParameterBytesAre) {
  Checkpoint c = parameters({{1000, 100}, {100}});
  EXPECT_EQ(file_precision(c), WeightType::FP32);
  c.tensors[0].dtype = DType::BFloat16;  // 200,000 bytes against 400
  EXPECT_EQ(file_precision(c), WeightType::BF16);
  c.tensors[0].dtype = DType::Float16;
  EXPECT_EQ(file_precision(c), WeightType::FP16);
  c.tensors[0].dtype = DType::Float64;
  EXPECT_FALSE(file_precision(c));
  EXPECT_EQ(file_precision(load_checkpoint(std::string(PTSCOPE_SOURCE_DIR) + "/fixtures/arch/llama_tiny_bf16.pt")),
            WeightType::BF16);
  EXPECT_EQ(file_precision(load_checkpoint(std::string(PTSCOPE_SOURCE_DIR) + "/fixtures/arch/llama_tiny.pt")),
            WeightType::FP32);
}

TEST(Estimate, EveryFigureHasAFormula) {
  for (const char* m : {"gpt2", "t5-small", "resnet50"}) {
    EstimateOptions o;
    o.mixed_precision = true;
    for (const Line& l : estimate(model_from_shapes(m), o).lines) EXPECT_FALSE(l.formula.empty()) << m << " " << l.name;
  }
}

}  // namespace
}  // namespace ptscope

namespace ptscope {
namespace {

using test::add_tensor;
using test::model_from_shapes;

// --max-batch against a simulated out-of-memory: batches above `capacity`
// fail.
TEST(BatchSearch, DoublesThenBisects) {
  for (int64_t capacity : {0, 1, 2, 3, 37, 64, 65, 1000, 4096}) {
    int calls = 0;
    BatchSearch s = search_max_batch([&](int64_t b) { ++calls; return b <= capacity; }, 4096);
    EXPECT_EQ(s.max_batch, capacity);
    EXPECT_EQ(static_cast<int>(s.tries.size()), calls);
    EXPECT_LE(calls, 2 * 13) << capacity;  // log2(4096) doublings, as many halvings
    for (const BatchTry& t : s.tries) EXPECT_EQ(t.fits, t.batch <= capacity);
  }
  EXPECT_EQ(search_max_batch([](int64_t) { return true; }, 100).max_batch, 100);  // the limit caps it
  EXPECT_EQ(search_max_batch([](int64_t b) { return b <= 7; }, 5).max_batch, 5);
  std::vector<int64_t> order;
  for (const BatchTry& t : search_max_batch([](int64_t b) { return b <= 70; }, 100).tries) order.push_back(t.batch);
  EXPECT_EQ(order, (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 100, 82, 73, 68, 70, 71}));
}

}  // namespace
}  // namespace ptscope
