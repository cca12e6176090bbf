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
// never run); a RootVisitor picks the values above out of its pickle.
// Stage 1/2 flat groups are padded to a multiple of 2 x world
// (stage_1_and_2.py nccl_start_alignment_factor), which zero_to_fp32 allows
// for when it checks the partitions against param_shapes; so does this.
#include "deepspeed_folder.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <regex>
#include <set>

#include "byte_source.h"
#include "model_folder.h"
#include "pickle.h"
#include "ptscope/error.h"

namespace ptscope {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxLatestBytes = 4096;
constexpr size_t kMaxNames = size_t{1} << 22;
constexpr uint64_t kMaxNumel = uint64_t{1} << 62;

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

// --- the values DeepSpeed pickles beside the tensors ------------------------

// A dict, or an OrderedDict (pickled as a call with SETITEMS): its k, v list.
const std::vector<Value*>* pairs(const Value* v) {
  if (!v) return nullptr;
  if (v->kind == Kind::Dict) return &v->items;
  if (v->kind == Kind::Object && v->callable && v->callable->s == "collections.OrderedDict") return &v->items;
  return nullptr;
}

const Value* lookup(const Value* v, const char* key) {
  const std::vector<Value*>* kv = pairs(v);
  if (!kv) return nullptr;
  for (size_t i = 0; i + 1 < kv->size(); i += 2)
    if ((*kv)[i]->is_str(key)) return (*kv)[i + 1];
  return nullptr;
}

// An int, or an int subclass pickled as a call on one (ZeroStageEnum(2)).
std::optional<int64_t> int_of(const Value* v) {
  if (v && v->kind == Kind::Object && v->args && v->args->kind == Kind::Tuple && v->args->items.size() == 1)
    v = v->args->items[0];
  if (!v || v->kind != Kind::Int || !v->s.empty()) return std::nullopt;  // s: wider than 64 bits
  return v->i;
}

// zero_stage: a ZeroStageEnum (deepspeed/runtime/zero/config.py), pickled
// by value, ZeroStageEnum(2), or, by newer Pythons, by name,
// getattr(ZeroStageEnum, "gradients"); or a plain int.
std::optional<int64_t> stage_of(const Value* v) {
  if (v && v->kind == Kind::Object && v->callable &&
      (v->callable->s == "__builtin__.getattr" || v->callable->s == "builtins.getattr") && v->args &&
      v->args->kind == Kind::Tuple && v->args->items.size() == 2 && v->args->items[1]->kind == Kind::Str) {
    static const std::map<std::string, int64_t> kStages = {
        {"disabled", 0}, {"optimizer_states", 1}, {"gradients", 2}, {"weights", 3}, {"max_stage", 3}};
    auto it = kStages.find(v->args->items[1]->s);
    return it == kStages.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  return int_of(v);
}

std::string str_of(const Value* v) { return v && v->kind == Kind::Str ? v->s : ""; }

[[noreturn]] void fail(const std::string& what, const Value* at) { throw Error(what, at ? std::optional<uint64_t>(at->offset) : std::nullopt); }

// torch.Size(tuple) as a call, or a plain tuple or list of sizes.
std::vector<int64_t> shape_of(const Value* v, const std::string& what) {
  const Value* seq = v;
  if (v && v->kind == Kind::Object && v->callable && v->callable->s == "torch.Size" && v->args &&
      v->args->kind == Kind::Tuple && v->args->items.size() == 1)
    seq = v->args->items[0];
  if (!seq || (seq->kind != Kind::Tuple && seq->kind != Kind::List)) fail(what + " is not a torch.Size", v);
  if (seq->items.size() > 64) fail(what + " has more than 64 dimensions", v);
  std::vector<int64_t> out;
  uint64_t n = 1;
  for (const Value* d : seq->items) {
    std::optional<int64_t> i = int_of(d);
    if (!i || *i < 0) fail(what + " has a size that is not a non-negative integer", d);
    if (*i && n > kMaxNumel / static_cast<uint64_t>(*i)) fail(what + " has too many elements", v);
    n *= static_cast<uint64_t>(*i);
    out.push_back(*i);
  }
  return out;
}

uint64_t numel_of(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);  // bounded by shape_of
  return n;
}

using Shapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// name -> torch.Size, a dict or OrderedDict; nullptr and None give none.
Shapes shapes_of(const Value* v, const char* key, size_t& names) {
  Shapes out;
  if (!v || v->kind == Kind::None) return out;
  const std::vector<Value*>* kv = pairs(v);
  if (!kv) fail(std::string(key) + " is not a dict of name -> torch.Size", v);
  for (size_t i = 0; i + 1 < kv->size(); i += 2) {
    if ((*kv)[i]->kind != Kind::Str) fail(std::string(key) + " has a name that is not a string", (*kv)[i]);
    if (++names > kMaxNames) fail(std::string(key) + ": more than 4,194,304 names", v);
    out.emplace_back((*kv)[i]->s, shape_of((*kv)[i + 1], std::string(key) + " of '" + (*kv)[i]->s + "'"));
  }
  return out;
}

struct ModelFacts {
  bool model_states = false;  // buffer_names was there: a DeepSpeed model-states dict
  std::optional<int64_t> dp_world_size, mp_world_size, global_steps, config_stage;
  std::string ds_version;
  bool zero = false;                // param_shapes given (a ZeRO run)
  std::vector<Shapes> param_shapes;  // per optimizer group
  Shapes frozen;
  std::set<std::string> buffer_names;
  std::map<std::string, std::string> shared;  // alias -> the name that holds it
};

void read_model_facts(const Value& root, ModelFacts& f) {
  if (root.kind != Kind::Dict) fail("not a DeepSpeed model states file: the saved object is not a dict", &root);
  const Value* bn = root.get("buffer_names");
  f.model_states = bn != nullptr;
  if (!f.model_states) return;
  if (bn->kind != Kind::List) fail("buffer_names is not a list", bn);
  for (const Value* n : bn->items) {
    if (n->kind != Kind::Str) fail("buffer_names holds a value that is not a string", n);
    f.buffer_names.insert(n->s);
  }
  f.dp_world_size = int_of(root.get("dp_world_size"));
  f.mp_world_size = int_of(root.get("mp_world_size"));
  f.global_steps = int_of(root.get("global_steps"));
  f.ds_version = str_of(root.get("ds_version"));
  f.config_stage = int_of(lookup(lookup(root.get("ds_config"), "zero_optimization"), "stage"));
  size_t names = 0;
  const Value* ps = root.get("param_shapes");
  if (ps && ps->kind != Kind::None) {
    if (ps->kind != Kind::List) fail("param_shapes is not a list", ps);
    f.zero = true;
    for (const Value* g : ps->items) f.param_shapes.push_back(shapes_of(g, "param_shapes", names));
  }
  f.frozen = shapes_of(root.get("frozen_param_shapes"), "frozen_param_shapes", names);
  const Value* sp = root.get("shared_params");
  if (const std::vector<Value*>* kv = pairs(sp))
    for (size_t i = 0; i + 1 < kv->size(); i += 2)
      if ((*kv)[i]->kind == Kind::Str && (*kv)[i + 1]->kind == Kind::Str) f.shared[(*kv)[i]->s] = (*kv)[i + 1]->s;
}

struct OptimFacts {
  std::optional<int64_t> zero_stage, partition_count;
  std::vector<int64_t> group_paddings;
};

void read_optim_facts(const Value& root, OptimFacts& f) {
  if (root.kind != Kind::Dict) fail("not a DeepSpeed optimizer states file: the saved object is not a dict", &root);
  const Value* osd = root.get("optimizer_state_dict");
  if (!pairs(osd)) fail("not a DeepSpeed optimizer states file: no optimizer_state_dict dict", &root);
  f.zero_stage = stage_of(lookup(osd, "zero_stage"));
  // bf16_optimizer.py's state_dict has no zero_stage: it partitions as ZeRO-1.
  if (!f.zero_stage && lookup(osd, "single_partition_of_fp32_groups") &&
      !lookup(osd, "loss_scaler"))
    f.zero_stage = 1;
  const Value* pc = lookup(osd, "partition_count");
  if (pc && pc->kind == Kind::List) {  // one per group; zero_to_fp32 takes the largest
    for (const Value* v : pc->items)
      if (std::optional<int64_t> n = int_of(v); n && (!f.partition_count || *n > *f.partition_count))
        f.partition_count = n;
  } else {
    f.partition_count = int_of(pc);
  }
  if (const Value* gp = lookup(osd, "group_paddings"); gp && gp->kind == Kind::List)
    for (const Value* v : gp->items)
      if (std::optional<int64_t> n = int_of(v); n && *n >= 0) f.group_paddings.push_back(*n);
}

// --- putting the files together --------------------------------------------

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// The index after `prefix` in "prefix.G" or "prefix.G.rest"; -1 when none.
int64_t group_index(const std::string& name, const std::string& prefix) {
  if (!starts_with(name, prefix)) return -1;
  size_t end = name.find('.', prefix.size());
  std::string g = name.substr(prefix.size(), end == std::string::npos ? std::string::npos : end - prefix.size());
  if (g.empty() || g.size() > 9 || g.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(g);
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
  return s;
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
  std::set<std::pair<int64_t, int64_t>> have;  // (mp, dp) of optim files
  std::set<int64_t> mps{0};
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].optim) continue;
    mps.insert(files[i].mp);
    have.insert({files[i].mp, files[i].dp});
    const OptimFacts& o = optim[i];
    const std::string& first = files[static_cast<size_t>(first_optim)].name;
    if (o.zero_stage != ds.zero_stage || o.partition_count != ds.partition_count)
      problems.push_back("deepspeed: " + files[i].name + " says zero_stage " +
                         (o.zero_stage ? std::to_string(*o.zero_stage) : "none") + ", partition_count " +
                         (o.partition_count ? std::to_string(*o.partition_count) : "none") + "; " + first + " " +
                         (ds.zero_stage ? std::to_string(*ds.zero_stage) : "none") + ", " +
                         (ds.partition_count ? std::to_string(*ds.partition_count) : "none"));
    if (world && files[i].dp >= *world)
      problems.push_back("deepspeed: " + files[i].name + " is rank " + std::to_string(files[i].dp) +
                         ", but partition_count says " + std::to_string(*world) + " ranks");
  }
  const bool stage3 = ds.zero_stage && *ds.zero_stage == 3;
  bool all_ranks = first_optim >= 0 && world && *world > 0;
  if (all_ranks && *world <= (int64_t{1} << 20)) {
    std::string prefix = files[static_cast<size_t>(first_optim)].prefix;
    for (int64_t mp : mps)
      for (int64_t r = 0; r < *world; ++r) {
        if (!have.count({mp, r})) {
          all_ranks = false;
          problems.push_back("deepspeed: " + prefix + "zero_pp_rank_" + std::to_string(r) + "_mp_rank_" + mp_text(mp) +
                             "_optim_states.pt is missing: partition_count says " + std::to_string(*world) + " ranks");
        }
        if (stage3 && !std::any_of(files.begin(), files.end(), [&](const DsFile& f) {
              return !f.optim && f.mp == mp && f.dp == r;
            }))
          problems.push_back("deepspeed: zero_pp_rank_" + std::to_string(r) + "_mp_rank_" + mp_text(mp) +
                             "_model_states.pt is missing: partition_count says " + std::to_string(*world) + " ranks");
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
