// ptscope estimate FILE: memory for inference and training, on one GPU or
// sharded, and FLOPs per token, from the checkpoint's metadata alone.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "choice.h"
#include "commands.h"
#include "dtype_names.h"
#include "estimate_report.h"
#include "html_page.h"
#include "html_reports.h"
#include "numbers.h"
#include "ptscope/error.h"
#include "ptscope/load.h"

namespace ptscope::cli {
namespace {

struct EstimateArgs {
  std::string file;
  EstimateOptions options;
  int64_t seq = 0, heads = 0, experts_per_token = 0;
  Units units = Units::Both;
  OutputFormat format = OutputFormat::Table;
  bool dtype_given = false;
  bool strategy_given = false;  // --strategy or --gpus on the command line
  std::string html;             // --html FILE
};

int run_estimate(EstimateArgs& a) {
  if (a.seq) a.options.seq = a.seq;
  if (a.heads) a.options.heads = a.heads;
  if (a.experts_per_token) a.options.experts_per_token = a.experts_per_token;
  std::vector<EstimatedFile> files;
  // A folder or index is one model: its shards merged, its index checked.
  Model m = load_model(a.file);
  std::optional<IndexCheck> index = std::move(m.index);
  Checkpoint c = index ? merge_checkpoints(std::move(m.files), m.path) : std::move(m.files.front());
  if (!m.config_problem.empty()) spdlog::warn("{}", m.config_problem);
  std::optional<DeepSpeedCheckpoint> deepspeed = std::move(m.deepspeed);
  a.options.config = std::move(m.config);
  // No --dtype: a quantized file's stored bits, else config.json's
  // torch_dtype, else the floating dtype most parameter bytes are in.
  std::optional<WeightType> stored, from_config;
  if (!a.dtype_given) {
    stored = stored_precision(c);
    const std::optional<std::string>& td = a.options.config ? a.options.config->torch_dtype : std::nullopt;
    if (!stored && td && float_dtype_from_name(*td)) from_config = weight_type_from_name(*td);
    if (!stored && !from_config) stored = file_precision(c);
  }
  if (stored) a.options.dtype = *stored;
  if (from_config) a.options.dtype = *from_config;
  const std::string dtype = weight_type_name(a.options.dtype);
  bool quantized = a.options.dtype == WeightType::INT8 || a.options.dtype == WeightType::INT4;
  // What the files hold, when config.json says otherwise.
  std::string differs;
  if (from_config)
    if (std::optional<WeightType> f = file_precision(c); f && *f != *from_config)
      differs = std::string(" (the files hold ") + weight_type_name(*f) + ")";
  Estimate e;
  try {
    e = estimate(c, a.options);
  } catch (const Error& err) {  // no model in it: say which file
    throw err.in_file(a.file);
  }
  if (from_config)
    e.notes.push_back("weights at " + dtype + ": config.json's torch_dtype " + *a.options.config->torch_dtype +
                      differs +
                      "; --dtype to change");
  if (stored)
    e.notes.push_back("weights at " + dtype +
                      (quantized ? ": no --dtype given, and the file's quantized weights are stored at that precision"
                                 : ": the file's dtype; --dtype to change"));
  if (deepspeed && deepspeed->zero_stage && deepspeed->dp_world_size && *deepspeed->zero_stage >= 1 &&
      *deepspeed->zero_stage <= 3 && !a.strategy_given)
    e.notes.push_back("DeepSpeed checkpoint of a ZeRO-" + std::to_string(*deepspeed->zero_stage) + " run over " +
                      std::to_string(*deepspeed->dp_world_size) + " data-parallel ranks: --strategy zero" +
                      std::to_string(*deepspeed->zero_stage) + " --gpus " + std::to_string(*deepspeed->dp_world_size) +
                      " estimates it as trained");
  files.push_back({std::move(c), std::move(e)});
  write_report(std::cout, EstimateReport(files, a.options, a.units), a.format);
  if (!a.html.empty()) write_html_file(a.html, estimate_html(files.front(), a.options));
  std::vector<std::string> problems = index ? index->problems : std::vector<std::string>{};
  if (deepspeed) problems.insert(problems.end(), deepspeed->problems.begin(), deepspeed->problems.end());
  for (const std::string& p : problems) spdlog::error("{}: {}", a.file, p);
  return problems.empty() ? kOk : kNo;
}

}  // namespace

Run setup_estimate(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<EstimateArgs>();
  EstimateOptions& o = a->options;
  app.add_option("file", a->file, "Checkpoint (.pt/.pth zip or legacy, TorchScript, safetensors), model folder, DeepSpeed or DCP checkpoint folder, or shard index file")->required();
  app.add_option("--html", a->html, "Also write a self-contained HTML page (memory per strategy, treemap, tensor table) to this file");
  std::vector<std::string> dtypes = float_dtype_names();
  dtypes.insert(dtypes.end(), {"int8", "int4"});
  add_choice<WeightType>(app, "--dtype", o.dtype, dtypes, weight_type_from_name,
                         "Weight precision (spellings: " + dtype_aliases() +
                             "); default: the file's, the dtype most parameter bytes are in, "
                             "or the stored bits of a quantized file")
      ->default_str("the file's dtype");
  app.add_option("--group-size", o.group_size, "int4: weights per fp16 scale and zero point")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  add_choice<Optimizer>(app, "--optimizer", o.optimizer,
             {{"sgd", Optimizer::SGD}, {"momentum", Optimizer::Momentum}, {"adam", Optimizer::Adam},
              {"adamw", Optimizer::AdamW}, {"adafactor", Optimizer::Adafactor}, {"adam8bit", Optimizer::Adam8bit}},
             "Optimizer")
      ->default_str("adamw");
  app.add_flag("--mixed-precision", o.mixed_precision,
               "16-bit weights and gradients with an fp32 master copy and fp32 optimizer state");
  app.add_option("-b,--batch", o.batch, "Samples per GPU")->check(CLI::Range(1, 1 << 24))->capture_default_str();
  app.add_option("--seq", a->seq, "Tokens per sample (default: the positions the file fixes, else 2048)")
      ->check(CLI::Range(1, 1 << 24));
  app.add_option("--heads", a->heads, "Attention heads, where the shapes do not fix them")
      ->check(CLI::Range(1, 1 << 16));
  app.add_option("--experts-per-token", a->experts_per_token,
                 "Mixture of experts: experts each token is routed to (default: config.json's num_experts_per_tok)")
      ->check(CLI::Range(1, 1 << 16));
  app.add_option("--image", o.image, "Image height = width for CNNs")->check(CLI::Range(8, 1 << 16))->capture_default_str();
  app.add_option("--gpus", o.gpus, "GPUs to shard training over")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  add_choice<Strategy>(app, "--strategy", o.strategy,
             {{"ddp", Strategy::DDP}, {"zero1", Strategy::Zero1}, {"zero2", Strategy::Zero2},
              {"zero3", Strategy::Zero3}, {"fsdp", Strategy::FSDP}},
             "Sharding strategy")
      ->default_str("ddp");
  app.add_flag("--activation-checkpointing", o.activation_checkpointing,
               "Keep only each layer's input and recompute the rest in backward");
  add_choice<Units>(app, "--units", a->units, {{"decimal", Units::Decimal}, {"binary", Units::Binary}, {"both", Units::Both}},
             "Byte units in the table")
      ->default_str("both");
  CLI::Option* dtype_option = app.get_option("--dtype");
  CLI::Option* strategy_option = app.get_option("--strategy");
  CLI::Option* gpus_option = app.get_option("--gpus");
  return [a, &global, dtype_option, strategy_option, gpus_option] {
    a->format = global.format;
    a->dtype_given = dtype_option->count() > 0;
    a->strategy_given = strategy_option->count() > 0 || gpus_option->count() > 0;
    return run_estimate(*a);
  };
}

}  // namespace ptscope::cli
