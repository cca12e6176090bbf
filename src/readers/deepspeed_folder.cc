// DeepSpeed checkpoint folders, as DeepSpeedEngine.save_checkpoint writes
// them. Followed: deepspeedai/DeepSpeed at commit edaa7221 (0.19.6):
// deepspeed/runtime/engine.py (save_checkpoint, _get_ckpt_name,
// _get_rank_zero_ckpt_name, _common_checkpoint_state, _save_zero_checkpoint),
// deepspeed/runtime/zero/stage_1_and_2.py and stage3.py (state_dict),
// deepspeed/runtime/bf16_optimizer.py (state_dict),
// deepspeed/utils/zero_to_fp32.py (how the parts are put back together) and
// deepspeed/checkpoint/constants.py (the key names).
//
//   RUN/latest            the tag, as text (fd.write(tag)); zero_to_fp32
//                         reads it with .strip()
//   RUN/TAG/              TAG is f"global_step{N}" unless the caller named it
//     mp_rank_MM_model_states.pt                 one per model-parallel rank
//         (ZeRO-3: zero_pp_rank_D_mp_rank_MM_model_states.pt, one per
//          data-parallel rank, each a copy with placeholder parameters)
//       {module: state_dict (full weights; ZeRO-3: torch.empty(0) per
//                parameter, buffers whole),
//        buffer_names: [name], optimizer: None under ZeRO,
//        param_shapes: [OrderedDict name -> torch.Size] one per optimizer
//                group, frozen_param_shapes, shared_params {alias: name},
//        frozen_param_fragments, lr_scheduler, skipped_steps, global_steps,
//        global_samples, dp_world_size, mp_world_size, ds_config, ds_version}
//     [bf16_|fp16_]zero_pp_rank_D_mp_rank_MM_optim_states.pt   one per dp rank
//       {optimizer_state_dict: {
//          zero_stage: ZeroStageEnum(n) (an int subclass, pickled as a call),
//          partition_count: [world per group] (stage 1/2) or world (stage 3),
//          stage 1/2, bf16: base_optimizer_state: torch optimizer state_dict
//            over this rank's padded flat partitions;
//            single_partition_of_fp32_groups: [partition, padding removed];
//            group_paddings: [padding inside this rank's partition]
//          stage 3: optimizer_state_dict: the same over the partitions;
//            fp32_flat_groups: [partition]; each parameter split on its own
//            in ceil(numel / world) pieces, the last padded
//          loss_scaler, dynamic_loss_scale, overflow, ...},
//        ds_config, ds_version}
//
// Each file is read by the one-file path (the torch pickle is interpreted,
// never run); a RootVisitor picks the values above out of its pickle
// (deepspeed_state.h).
// Stage 1/2 flat groups are padded to a multiple of 2 x world
// (stage_1_and_2.py nccl_start_alignment_factor), which zero_to_fp32 allows
// for when it checks the partitions against param_shapes; so does this.
#include "deepspeed_folder.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <regex>
#include <set>

#include "affixes.h"
#include "byte_source.h"
#include "deepspeed_state.h"
#include "model_folder.h"
#include "ptscope/error.h"
#include "tensor_layout.h"

namespace ptscope {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxLatestBytes = 4096;

// --- file names ------------------------------------------------------------

struct DsFile {
  std::string name;
  bool optim = false;   // *_optim_states.pt, else *_model_states.pt
  int64_t dp = -1;      // -1: mp_rank_MM_model_states.pt, which has no dp rank
  int64_t mp = 0;
  std::string prefix;   // "", "bf16_" or "fp16_"
};

std::optional<DsFile> parse_name(const std::string& name) {
  static const std::regex zero(R"(^(bf16_|fp16_)?zero_pp_rank_(\d{1,9})_mp_rank_(\d{1,9})_(optim|model)_states\.pt$)");
  static const std::regex model(R"(^mp_rank_(\d{1,9})_model_states\.pt$)");
  std::smatch m;
  if (std::regex_match(name, m, zero))
    return DsFile{name, m[4] == "optim", std::stoll(m[2]), std::stoll(m[3]), m[1]};
  if (std::regex_match(name, m, model)) return DsFile{name, false, -1, std::stoll(m[1]), ""};
  return std::nullopt;
}

std::string mp_text(int64_t mp) {
  std::string s = std::to_string(mp);
  return s.size() < 2 ? "0" + s : s;  // engine.py: f"{mp_rank:02d}"
}

std::vector<DsFile> deepspeed_files(const fs::path& dir) {
  std::vector<DsFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec))
      if (auto f = parse_name(it->path().filename().string())) out.push_back(*f);
  if (ec) throw Error("cannot list the folder: " + ec.message()).in_file(dir.string());
  // Model states first, then by model-parallel and data-parallel rank.
  std::sort(out.begin(), out.end(), [](const DsFile& a, const DsFile& b) {
    return std::tie(a.optim, a.mp, a.dp, a.name) < std::tie(b.optim, b.mp, b.dp, b.name);
  });
  return out;
}

bool holds_model_files(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    for (const char* ext : {".safetensors", ".bin", ".pt", ".pth", ".index.json"})
      if (n.size() > std::strlen(ext) && n.compare(n.size() - std::strlen(ext), std::string::npos, ext) == 0)
        return true;
  }
  return false;
}

// --- putting the files together --------------------------------------------


// The index after `prefix` in "prefix.G" or "prefix.G.rest"; -1 when none.
int64_t group_index(const std::string& name, const std::string& prefix) {
  if (!starts_with(name, prefix)) return -1;
  size_t end = name.find('.', prefix.size());
  std::string g = name.substr(prefix.size(), end == std::string::npos ? std::string::npos : end - prefix.size());
  if (g.empty() || g.size() > 9 || g.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(g);
}

std::string text_of(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "none"; }

// Ranks 0..world-1 that have no file: the first few named, the rest
// counted in one line, so that a hostile partition_count cannot make a
// million lines. Returns whether any is missing.
bool list_missing(int64_t world, const std::set<int64_t>& present, const std::function<std::string(int64_t)>& name,
                  std::vector<std::string>& problems) {
  constexpr int64_t kNamed = 16;
  int64_t named = 0, r = 0;
  for (; r < world && named < kNamed; ++r)
    if (!present.count(r)) {
      problems.push_back("deepspeed: " + name(r) + " is missing: partition_count says " + std::to_string(world) +
                         " ranks");
      ++named;
    }
  int64_t later = static_cast<int64_t>(
      std::count_if(present.lower_bound(r), present.end(), [&](int64_t p) { return p < world; }));
  if (int64_t rest = world - r - later; rest > 0)
    problems.push_back("deepspeed: " + std::to_string(rest) + " more ranks' files are missing");
  return named > 0;
}

// The primary model-states file's module: exact roles from buffer_names,
// and ZeRO-3's empty placeholders given the shapes param_shapes records.
// Returns whether any placeholder was filled in.
bool settle_module(Checkpoint& c, const ModelFacts& f, std::vector<std::string>& problems) {
  std::map<std::string, std::vector<int64_t>> shape_of_name;
  for (const Shapes& g : f.param_shapes)
    for (const auto& [n, s] : g) shape_of_name[n] = s;
  for (const auto& [n, s] : f.frozen) shape_of_name[n] = s;
  bool filled = false;
  std::set<std::string> seen;
  for (Tensor& t : c.tensors) {
    if (t.group != "module") continue;
    std::string name = starts_with(t.name, "module.") ? t.name.substr(7) : t.name;
    seen.insert(name);
    if (f.buffer_names.count(name)) {
      t.role = Role::Buffer;
      t.rule = "DeepSpeed buffer_names";
      continue;
    }
    t.role = Role::Parameter;
    t.rule = "DeepSpeed module, not in buffer_names";
    auto alias = f.shared.find(name);
    auto known = shape_of_name.find(alias == f.shared.end() ? name : alias->second);
    if (t.numel != 0 || known == shape_of_name.end() || numel_of(known->second) == 0) {
      if (known != shape_of_name.end() && alias == f.shared.end() && t.shape != known->second)
        problems.push_back("deepspeed: module's '" + name + "' does not have the shape param_shapes gives it");
      continue;
    }
    // A partitioned parameter: its data is in the optimizer files' fp32
    // partitions, not here; the tied alias is counted through its owner.
    t.shape = known->second;
    t.stride = contiguous_strides(t.shape);
    t.numel = numel_of(t.shape);
    t.storage = -1;
    t.storage_offset = 0;
    filled = true;
    if (alias != f.shared.end()) {
      t.role = Role::Other;
      t.rule = "tied to " + alias->second + " (DeepSpeed shared_params)";
    } else {
      t.rule = "DeepSpeed param_shapes (ZeRO-3 placeholder in the file)";
    }
  }
  if (!seen.empty())
    for (const auto& [n, s] : shape_of_name)
      if (!seen.count(n)) problems.push_back("deepspeed: param_shapes names '" + n + "', which the module does not hold");
  return filled;
}

// Padding inside rank r's ZeRO-3 partition of one parameter.
uint64_t zero3_padding(uint64_t numel, uint64_t world, uint64_t r) {
  uint64_t ps = (numel + world - 1) / world;
  uint64_t lo = std::max(r * ps, numel), hi = (r + 1) * ps;
  return hi > lo ? hi - lo : 0;
}

uint64_t align_up(uint64_t n, uint64_t a) { return a ? (n + a - 1) / a * a : n; }

Model read_checkpoint_folder(const fs::path& dir, const std::string& given, const std::string& tag) {
  std::vector<DsFile> files = deepspeed_files(dir);
  if (files.empty())
    throw Error("no DeepSpeed *_model_states.pt or *_optim_states.pt file in the folder").in_file(dir.string());
  std::vector<std::string> paths;
  std::vector<ModelFacts> model(files.size());
  std::vector<OptimFacts> optim(files.size());
  std::vector<RootVisitor> visitors;
  for (size_t i = 0; i < files.size(); ++i) {
    paths.push_back((dir / files[i].name).string());
    if (files[i].optim)
      visitors.push_back([&f = optim[i]](const Value& root) { read_optim_facts(root, f); });
    else
      visitors.push_back([&f = model[i]](const Value& root) { read_model_facts(root, f); });
  }
  std::vector<std::optional<Checkpoint>> read = read_shards(paths, visitors);

  DeepSpeedCheckpoint ds;
  ds.folder = dir.string();
  ds.tag = tag;
  std::vector<std::string>& problems = ds.problems;

  // The model: the first model-states file (mp rank 00; ZeRO-3: dp rank 0).
  // Other model-states files are copies (ZeRO-3's per-rank files) or other
  // model-parallel slices: read and in the byte map, not counted again.
  int primary = -1;
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i].optim || !read[i]) continue;
    Checkpoint& c = *read[i];
    if (primary < 0 && model[i].model_states) {
      primary = static_cast<int>(i);
      continue;
    }
    for (Tensor& t : c.tensors)
      if (t.group == "module") {
        t.role = Role::Other;
        t.rule = "another rank's copy of the module: not counted again";
      }
  }
  const ModelFacts no_facts;
  const ModelFacts& mf = primary >= 0 ? model[static_cast<size_t>(primary)] : no_facts;
  if (primary < 0) problems.push_back("deepspeed: no model states file (mp_rank_00_model_states.pt) in the folder");
  ds.params_from = "module";
  if (primary >= 0 && settle_module(*read[static_cast<size_t>(primary)], mf, problems)) ds.params_from = "param_shapes";
  ds.dp_world_size = mf.dp_world_size;
  ds.mp_world_size = mf.mp_world_size;
  ds.global_steps = mf.global_steps;
  ds.ds_version = mf.ds_version;

  // The ZeRO files: stage and world size agree, every rank is there.
  int first_optim = -1;
  for (size_t i = 0; i < files.size(); ++i)
    if (files[i].optim && read[i]) {
      if (first_optim < 0) first_optim = static_cast<int>(i);
      for (Tensor& t : read[i]->tensors)
        if (t.role == Role::Unknown) {
          t.role = Role::Optimizer;
          t.rule = "DeepSpeed ZeRO optimizer file";
        }
    }
  if (first_optim >= 0) {
    const OptimFacts& o = optim[static_cast<size_t>(first_optim)];
    ds.zero_stage = o.zero_stage;
    ds.partition_count = o.partition_count;
  } else {
    ds.zero_stage = mf.zero ? mf.config_stage : std::optional<int64_t>(0);
    if (mf.zero) problems.push_back("deepspeed: no *_optim_states.pt file, though the model states hold ZeRO's param_shapes");
  }
  std::optional<int64_t> world = ds.partition_count ? ds.partition_count : ds.dp_world_size;
  if (ds.partition_count && ds.dp_world_size && *ds.partition_count != *ds.dp_world_size)
    problems.push_back("deepspeed: dp_world_size says " + std::to_string(*ds.dp_world_size) + ", partition_count " +
                       std::to_string(*ds.partition_count));
  std::map<int64_t, std::set<int64_t>> optim_ranks{{0, {}}}, model_ranks;  // mp -> dp ranks with a file
  for (size_t i = 0; i < files.size(); ++i) {
    if (!read[i]) continue;
    if (!files[i].optim) {
      model_ranks[files[i].mp].insert(files[i].dp);
      continue;
    }
    optim_ranks[files[i].mp].insert(files[i].dp);
    const OptimFacts& o = optim[i];
    const std::string& first = files[static_cast<size_t>(first_optim)].name;
    if (o.zero_stage != ds.zero_stage || o.partition_count != ds.partition_count)
      problems.push_back("deepspeed: " + files[i].name + " says zero_stage " + text_of(o.zero_stage) +
                         ", partition_count " + text_of(o.partition_count) + "; " + first + " " +
                         text_of(ds.zero_stage) + ", " + text_of(ds.partition_count));
    if (world && files[i].dp >= *world)
      problems.push_back("deepspeed: " + files[i].name + " is rank " + std::to_string(files[i].dp) +
                         ", but partition_count says " + std::to_string(*world) + " ranks");
  }
  const bool stage3 = ds.zero_stage && *ds.zero_stage == 3;
  bool all_ranks = first_optim >= 0 && world && *world > 0;
  if (all_ranks) {
    const std::string prefix = files[static_cast<size_t>(first_optim)].prefix;
    for (const auto& [mp_key, ranks] : optim_ranks) {
      const auto& mp = mp_key;  // C++17 lambdas cannot capture a structured binding (clang refuses)
      all_ranks = !list_missing(*world, ranks, [&](int64_t r) {
        return prefix + "zero_pp_rank_" + std::to_string(r) + "_mp_rank_" + mp_text(mp) + "_optim_states.pt";
      }, problems) && all_ranks;
      if (stage3)  // ZeRO-3 writes model states per rank too
        list_missing(*world, model_ranks[mp], [&](int64_t r) {
          return "zero_pp_rank_" + std::to_string(r) + "_mp_rank_" + mp_text(mp) + "_model_states.pt";
        }, problems);
    }
  }

  // Per rank: the fp32 partitions, the optimizer's state, the padding.
  const std::string fp32_key = stage3 ? "optimizer_state_dict.fp32_flat_groups."
                                      : "optimizer_state_dict.single_partition_of_fp32_groups.";
  const std::string state_key = stage3 ? "optimizer_state_dict.optimizer_state_dict."
                                       : "optimizer_state_dict.base_optimizer_state.";
  std::map<int64_t, uint64_t> group_numel;  // stage 1/2: all ranks' fp32 elements per group
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].optim || !read[i]) continue;
    DeepSpeedRank r;
    r.file = files[i].name;
    r.rank = files[i].dp;
    for (const Tensor& t : read[i]->tensors) {
      if (int64_t g = group_index(t.name, fp32_key); g >= 0) {
        r.fp32_numel += t.numel;
        if (!world || r.rank < *world) group_numel[g] += t.numel;  // a rank past the world is a problem already
      } else if (starts_with(t.name, state_key)) {
        r.optimizer_numel += t.numel;
      }
    }
    if (!stage3)
      for (int64_t p : optim[i].group_paddings) r.padding += static_cast<uint64_t>(p);
    else if (world)
      for (const Shapes& g : mf.param_shapes)
        for (const auto& [n, s] : g)
          r.padding += zero3_padding(numel_of(s), static_cast<uint64_t>(*world), static_cast<uint64_t>(r.rank));
    ds.padding += r.padding;
    if (stage3 && world && !mf.param_shapes.empty()) {
      uint64_t want = 0;
      for (const Shapes& g : mf.param_shapes)
        for (const auto& [n, s] : g) want += (numel_of(s) + static_cast<uint64_t>(*world) - 1) / static_cast<uint64_t>(*world);
      if (r.fp32_numel != want)
        problems.push_back("deepspeed: " + r.file + "'s fp32_flat_groups hold " + std::to_string(r.fp32_numel) +
                           " elements, param_shapes need " + std::to_string(want) + " per rank");
    }
    ds.ranks.push_back(std::move(r));
  }
  // zero_to_fp32 _zero2_merge_trainable_params: each group's partitions,
  // put together, hold its parameters, up to the 2 x world alignment.
  if (!stage3 && all_ranks && mf.zero) {
    uint64_t align = 2 * static_cast<uint64_t>(*world);
    if (group_numel.size() != mf.param_shapes.size())
      problems.push_back("deepspeed: the fp32 partitions have " + std::to_string(group_numel.size()) +
                         " groups, param_shapes " + std::to_string(mf.param_shapes.size()));
    else
      for (size_t g = 0; g < mf.param_shapes.size(); ++g) {
        uint64_t want = 0;
        for (const auto& [n, s] : mf.param_shapes[g]) want += numel_of(s);
        uint64_t have_numel = group_numel[static_cast<int64_t>(g)];
        if (align_up(want, align) != align_up(have_numel, align))
          problems.push_back("deepspeed: the fp32 partitions of group " + std::to_string(g) + " hold " +
                             std::to_string(have_numel) + " elements, param_shapes " + std::to_string(want));
      }
  }

  Model m;
  m.path = given;
  m.index = IndexCheck{};
  for (auto& c : read)
    if (c) {
      c->roles_known = true;  // set above, from buffer_names and the files' kinds
      m.files.push_back(std::move(*c));
    }
  m.deepspeed = std::move(ds);
  return m;
}

}  // namespace

std::string parse_latest_tag(const std::string& text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  size_t b = 0, e = text.size();
  while (b < e && space(text[b])) ++b;
  while (e > b && space(text[e - 1])) --e;
  if (b == e) throw Error("holds no tag", 0);
  for (size_t i = b; i < e; ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", u);
      throw Error(std::string("tag has control character ") + hex, i);
    }
  }
  std::string tag = text.substr(b, e - b);
  size_t slash = tag.find_first_of("/\\");
  if (slash != std::string::npos || tag == "." || tag == "..")
    throw Error("tag '" + tag + "' is not a plain folder name", b + (slash == std::string::npos ? 0 : slash));
  return tag;
}

bool is_deepspeed_folder(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return false;
  fs::path dir(path);
  if (fs::is_regular_file(dir / "latest", ec) && !holds_model_files(dir)) return true;
  return !deepspeed_files(dir).empty();
}

Model load_deepspeed_folder(const std::string& path) {
  fs::path dir(path);
  std::error_code ec;
  const fs::path latest = dir / "latest";
  if (deepspeed_files(dir).empty() && fs::is_regular_file(latest, ec)) {
    // A run folder: `latest` names the checkpoint folder beside it.
    std::string tag;
    try {
      std::optional<std::string> text = read_small_file(latest.string(), kMaxLatestBytes);
      if (!text) throw Error("larger than 4,096 bytes: not a checkpoint tag", kMaxLatestBytes);
      tag = parse_latest_tag(*text);
      size_t at = text->find(tag);
      if (!fs::is_directory(dir / tag, ec))
        throw Error("names " + tag + ", which is not a folder beside it", at);
    } catch (const Error& e) {
      throw e.file().empty() ? e.in_file(latest.string()) : e;
    }
    return read_checkpoint_folder(dir / tag, path, tag);
  }
  return read_checkpoint_folder(dir, path, "");
}

}  // namespace ptscope
