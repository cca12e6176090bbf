#!/usr/bin/python3
"""fixtures/deepspeed/: DeepSpeed checkpoint folders, written as DeepSpeed's
engine writes them, with torch.save, from a tiny model trained two real Adam
steps over two data-parallel ranks simulated in one process.

DeepSpeed is not in Debian and there is no network, so its classes that the
files pickle by name (ZeroStageEnum, LossScaler, fragment_address) are
stand-ins registered under the real module and class names, as
make_dcp_fixtures.py does for DCP. Followed, in deepspeedai/DeepSpeed at
commit edaa7221 (version.txt 0.19.6):

  deepspeed/runtime/engine.py
    save_checkpoint: tag = f"global_step{global_steps}", then `latest` holds
      the tag (fd.write(tag), no newline)
    _get_ckpt_name: mp_rank_{mp:02d}_model_states.pt; under ZeRO-3 (weights
      partitioned) zero_pp_rank_{dp}_mp_rank_{mp:02d}_model_states.pt, one
      per data-parallel rank
    _get_rank_zero_ckpt_name: {bf16_}zero_pp_rank_{dp}_mp_rank_{mp:02d}_optim_states.pt
    _common_checkpoint_state: the model-states dict's keys (module,
      buffer_names, optimizer (None under ZeRO), param_shapes (one ordered
      dict name -> torch.Size per optimizer group), frozen_param_shapes,
      shared_params, frozen_param_fragments, lr_scheduler, data_sampler,
      random_ltd, sparse_tensor_module_names, skipped_steps, global_steps,
      global_samples, dp_world_size, mp_world_size,
      checkpoint_parallel_dimensions, ds_config, ds_version)
    _save_zero_checkpoint: {optimizer_state_dict: optimizer.state_dict(),
      ds_config, ds_version}
  deepspeed/runtime/zero/stage_1_and_2.py
    __init__: each group's params flattened, padded to a multiple of
      nccl_start_alignment_factor (2) x world size, split into equal
      partitions; groups_padding is the padding inside this rank's partition
    state_dict: loss_scaler, dynamic_loss_scale, overflow, clip_grad,
      base_optimizer_state (the torch optimizer's state_dict over the padded
      partitions), single_partition_of_fp32_groups (padding removed),
      zero_stage, group_paddings, partition_count (a list, one per group),
      ds_version, param_slice_mappings
  deepspeed/runtime/zero/stage3.py _rigid_state_dict: zero_stage,
      loss_scaler, dynamic_loss_scale, overflow, partition_count (an int),
      optimizer_state_dict, fp32_flat_groups; each parameter partitioned on
      its own: ceil(numel / world) elements per rank, the last padded
      (zero_to_fp32.py zero3_partitioned_param_info)
  deepspeed/runtime/zero/partition_parameters.py free_param: a partitioned
      parameter's data is torch.empty(0): the module's placeholders
  deepspeed/utils/zero_to_fp32.py: reads `latest`, then *_model_states.pt
      and *_optim_states.pt; world size from partition_count (max of a list)
      must equal the number of optim files
  deepspeed/checkpoint/constants.py: the key names

Truth in expected.json is computed here with torch: the model's
sum(p.numel() for p in model.parameters()) (tied weights once) and
persistent buffers, and per rank the numel of the optimizer's state tensors
and of the fp32 partitions as saved.

Run with Debian's /usr/bin/python3 (torch 1.13); deterministic, byte for
byte."""
import copy
import dataclasses
import enum
import json
import math
import os
import shutil
import sys
import types
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import reexec_deterministically  # noqa: E402

reexec_deterministically("scripts/make_deepspeed_fixtures.py", __file__, sys.argv[1:])

import torch  # noqa: E402
from torch import nn  # noqa: E402

OUT = os.path.join("fixtures", "deepspeed")
DS_VERSION = "0.19.6"
WORLD = 2
STEPS = 2


# --- stand-ins for the DeepSpeed classes the files pickle by name ---------

class ZeroStageEnum(int, enum.Enum):  # deepspeed/runtime/zero/config.py
    disabled = 0
    optimizer_states = 1
    gradients = 2
    weights = 3


class LossScaler:  # deepspeed/runtime/fp16/loss_scaler.py, static scale (fp32/bf16 runs)
    def __init__(self, scale=1):
        self.cur_scale = scale
        self.dynamic = False


class DynamicLossScaler:  # the same file, fp16 runs
    def __init__(self, init_scale=2 ** 16):
        self.cur_scale = init_scale
        self.dynamic = True
        self.cur_iter = STEPS
        self.last_overflow_iter = -1
        self.scale_factor = 2.0
        self.scale_window = 1000
        self.min_scale = 1
        self.delayed_shift = 1
        self.cur_hysteresis = 1
        self.consecutive_hysteresis = False
        self.raise_error_at_min_scale = True
        self.dtype = torch.float16


@dataclasses.dataclass
class fragment_address:  # deepspeed/utils/tensor_fragment.py
    numel: int
    start: int


STANDINS = {"deepspeed.runtime.zero.config": [ZeroStageEnum],
            "deepspeed.runtime.fp16.loss_scaler": [LossScaler, DynamicLossScaler],
            "deepspeed.utils.tensor_fragment": [fragment_address]}


def save(obj, path):
    """torch.save with the stand-ins importable under DeepSpeed's names."""
    saved = dict(sys.modules)
    for mod, classes in STANDINS.items():
        parts = mod.split(".")
        for i in range(1, len(parts) + 1):
            sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
        for c in classes:
            c.__module__ = mod
            setattr(sys.modules[mod], c.__qualname__, c)
    try:
        torch.save(obj, path)
    finally:
        for k in list(sys.modules):
            if k not in saved:
                del sys.modules[k]


# --- the model -------------------------------------------------------------

class Net(nn.Module):
    """An embedding tied to the output head, a BatchNorm (buffers), and a
    3-element parameter so that the flat groups need padding."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(16, 6)
        self.fc1 = nn.Linear(6, 10)
        self.bn = nn.BatchNorm1d(10)
        self.fc2 = nn.Linear(10, 6)
        self.scale = nn.Parameter(torch.ones(3))
        self.head = nn.Linear(6, 16, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, x):
        h = self.fc2(torch.relu(self.bn(self.fc1(self.emb(x)))))
        return self.head(h * self.scale.mean())


def groups_of(model):
    """Two optimizer groups, as a trainer that exempts biases and norms from
    weight decay makes them; named_parameters() yields a tied weight once."""
    named = list(model.named_parameters())
    decay = [(n, p) for n, p in named if p.dim() >= 2]
    no_decay = [(n, p) for n, p in named if p.dim() < 2]
    return [decay, no_decay]


def batches():
    g = torch.Generator().manual_seed(1)
    return [(torch.randint(0, 16, (4,), generator=g), torch.randint(0, 16, (4,), generator=g))
            for _ in range(STEPS)]


def grads(model, x, y):
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()


def aligned(n, align):
    return align * math.ceil(n / align)


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors]) if tensors else torch.zeros(0)


# --- ZeRO stage 1/2 --------------------------------------------------------

def train_zero12(model, groups):
    """stage_1_and_2.py: per group, flatten, pad to 2 x world, partition;
    each rank's Adam steps on its fp32 partition. Returns per rank the torch
    optimizer, its partitions and the paddings inside them."""
    align = 2 * WORLD
    sizes = [aligned(sum(p.numel() for _, p in g), align) for g in groups]
    parts = [[] for _ in range(WORLD)]
    pads = [[] for _ in range(WORLD)]
    for gi, g in enumerate(groups):
        f = flat([p.detach() for _, p in g])
        f = torch.cat([f, torch.zeros(sizes[gi] - f.numel())])
        ps = sizes[gi] // WORLD
        orig = sum(p.numel() for _, p in g)
        for r in range(WORLD):
            parts[r].append(f[r * ps:(r + 1) * ps].clone().requires_grad_(True))
            left = r * ps
            pads[r].append(ps if orig <= left else max(0, left + ps - orig))
    opts = [torch.optim.Adam([{"params": [parts[r][gi]], "weight_decay": 0.01 if gi == 0 else 0.0}
                              for gi in range(len(groups))], lr=1e-2) for r in range(WORLD)]
    for x, y in batches():
        grads(model, x, y)
        for gi, g in enumerate(groups):
            gf = flat([p.grad for _, p in g])
            gf = torch.cat([gf, torch.zeros(sizes[gi] - gf.numel())])
            ps = sizes[gi] // WORLD
            for r in range(WORLD):
                parts[r][gi].grad = gf[r * ps:(r + 1) * ps].clone()
        for o in opts:
            o.step()
        # all-gather the updated partitions back into the model's weights
        with torch.no_grad():
            for gi, g in enumerate(groups):
                full = torch.cat([parts[r][gi].detach() for r in range(WORLD)])
                off = 0
                for _, p in g:
                    p.copy_(full[off:off + p.numel()].view_as(p))
                    off += p.numel()
    return opts, parts, pads, sizes


def slice_mappings(groups, sizes, r):
    """stage_1_and_2.py _create_param_mapping: each param's fragment inside
    rank r's partition, by name."""
    out = []
    for gi, g in enumerate(groups):
        ps = sizes[gi] // WORLD
        lo, hi, off = r * ps, (r + 1) * ps, 0
        m = OrderedDict()
        for n, p in g:
            a, b = max(off, lo), min(off + p.numel(), hi)
            if a < b:
                m[n] = fragment_address(numel=b - a, start=a - lo)
            off += p.numel()
        out.append(m)
    return out


# --- ZeRO stage 3 ----------------------------------------------------------

def train_zero3(model, groups):
    """stage3.py: each parameter split on its own, ceil(numel / world) per
    rank, the last padded; a rank's fp32 flat group is its pieces in order."""
    def piece(t, r):
        ps = math.ceil(t.numel() / WORLD)
        f = torch.cat([t.reshape(-1), torch.zeros(ps * WORLD - t.numel())])
        return f[r * ps:(r + 1) * ps]

    parts = [[flat([piece(p.detach(), r) for _, p in g]).clone().requires_grad_(True) for g in groups]
             for r in range(WORLD)]
    opts = [torch.optim.Adam([{"params": [parts[r][gi]]} for gi in range(len(groups))], lr=1e-2)
            for r in range(WORLD)]
    for x, y in batches():
        grads(model, x, y)
        for r in range(WORLD):
            for gi, g in enumerate(groups):
                parts[r][gi].grad = flat([piece(p.grad, r) for _, p in g]).clone()
        for o in opts:
            o.step()
        with torch.no_grad():
            for gi, g in enumerate(groups):
                offs = [0] * WORLD
                for _, p in g:
                    ps = math.ceil(p.numel() / WORLD)
                    full = torch.cat([parts[r][gi].detach()[offs[r]:offs[r] + ps] for r in range(WORLD)])
                    p.copy_(full[:p.numel()].view_as(p))
                    for r in range(WORLD):
                        offs[r] += ps
    padding = sum(math.ceil(p.numel() / WORLD) * WORLD - p.numel() for g in groups for _, p in g)
    return opts, parts, padding


# --- the files ---------------------------------------------------------------

def model_states(module_sd, model, groups, stage, ds_config, shared):
    zero = stage > 0
    return {
        "module": module_sd,
        "buffer_names": [n for n, _ in model.named_buffers()],
        "optimizer": None,
        "param_shapes": [OrderedDict((n, p.shape) for n, p in g) for g in groups] if zero else None,
        "frozen_param_shapes": OrderedDict() if stage >= 2 else None,
        "shared_params": shared if zero else None,
        "frozen_param_fragments": OrderedDict() if stage >= 2 else None,
        "lr_scheduler": None, "data_sampler": None, "random_ltd": None,
        "sparse_tensor_module_names": set(), "skipped_steps": 0, "global_steps": STEPS,
        "global_samples": STEPS * 4 * WORLD, "dp_world_size": WORLD, "mp_world_size": 1,
        "checkpoint_parallel_dimensions": {"pp_degree": 1, "tp_degree": 1},
        "ds_config": ds_config, "ds_version": DS_VERSION,
    }


def config(stage, fp16):
    c = {"train_micro_batch_size_per_gpu": 4, "gradient_accumulation_steps": 1,
         "optimizer": {"type": "Adam", "params": {"lr": 1e-2}},
         "zero_optimization": {"stage": stage}}
    if fp16:
        c["fp16"] = {"enabled": True}
    else:
        c["bf16"] = {"enabled": True}
    return c


def numel_of(obj):
    if torch.is_tensor(obj):
        return obj.numel()
    if isinstance(obj, dict):
        return sum(numel_of(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(numel_of(v) for v in obj)
    return 0


def truth(model):
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.state_dict(keep_vars=True).items()
                  if n in dict(model.named_buffers()))
    return params, buffers


def run_folder(name):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    tag = f"global_step{STEPS}"
    os.makedirs(os.path.join(d, tag))
    with open(os.path.join(d, "latest"), "w") as f:
        f.write(tag)  # engine.py save_checkpoint: no newline
    return d, os.path.join(d, tag)


def write_zero12(name, stage, fp16=True, bf16_names=False, partition_count=WORLD):
    torch.manual_seed(0)
    model = Net()
    groups = groups_of(model)
    opts, parts, pads, sizes = train_zero12(model, groups)
    params, buffers = truth(model)
    run, ckpt = run_folder(name)
    lp = torch.float16 if fp16 else torch.bfloat16
    cfg = config(stage, fp16)
    module_sd = copy.deepcopy(model).to(lp).state_dict()
    save(model_states(module_sd, model, groups, stage, cfg, {"head.weight": "emb.weight"}),
         os.path.join(ckpt, "mp_rank_00_model_states.pt"))
    ranks = []
    for r in range(WORLD):
        osd = {}  # a plain dict in stage_1_and_2.py and stage3.py
        osd["loss_scaler"] = DynamicLossScaler() if fp16 else LossScaler()
        osd["dynamic_loss_scale"] = fp16
        osd["overflow"] = False
        osd["clip_grad"] = 1.0
        osd["base_optimizer_state"] = opts[r].state_dict()
        osd["single_partition_of_fp32_groups"] = [
            p.detach()[:p.numel() - pad].clone() for p, pad in zip(parts[r], pads[r])]
        osd["zero_stage"] = ZeroStageEnum(stage)
        osd["group_paddings"] = pads[r]
        osd["partition_count"] = [partition_count] * len(groups)
        osd["ds_version"] = DS_VERSION
        osd["param_slice_mappings"] = slice_mappings(groups, sizes, r)
        prefix = "bf16_" if bf16_names else ""
        fname = f"{prefix}zero_pp_rank_{r}_mp_rank_00_optim_states.pt"
        save({"optimizer_state_dict": osd, "ds_config": cfg, "ds_version": DS_VERSION}, os.path.join(ckpt, fname))
        ranks.append({"file": fname, "rank": r,
                      "optimizer_numel": numel_of(osd["base_optimizer_state"]["state"]),
                      "fp32_numel": sum(t.numel() for t in osd["single_partition_of_fp32_groups"]),
                      "padding": sum(pads[r])})
    return run, {"zero_stage": stage, "dp_world_size": WORLD, "tag": f"global_step{STEPS}", "global_steps": STEPS,
                 "parameters": params, "buffers": buffers, "params_from": "module",
                 "padding": sum(sum(p) for p in pads), "ranks": ranks}


def write_zero3(name):
    torch.manual_seed(0)
    model = Net()
    groups = groups_of(model)
    opts, parts, padding = train_zero3(model, groups)
    params, buffers = truth(model)
    run, ckpt = run_folder(name)
    cfg = config(3, True)
    half = copy.deepcopy(model).half()
    # free_param: every partitioned parameter's data becomes torch.empty(0);
    # the tied head is the same Parameter, so the same placeholder.
    for m in half.modules():
        for pn, p in m.named_parameters(recurse=False):
            p.data = torch.empty(0, dtype=p.dtype)
    module_sd = half.state_dict()
    ranks = []
    for r in range(WORLD):
        save(model_states(module_sd, model, groups, 3, cfg, {"head.weight": "emb.weight"}),
             os.path.join(ckpt, f"zero_pp_rank_{r}_mp_rank_00_model_states.pt"))
        osd = {}  # a plain dict in stage_1_and_2.py and stage3.py
        osd["zero_stage"] = ZeroStageEnum.weights
        osd["loss_scaler"] = DynamicLossScaler()
        osd["dynamic_loss_scale"] = True
        osd["overflow"] = False
        osd["partition_count"] = WORLD
        osd["optimizer_state_dict"] = opts[r].state_dict()
        osd["fp32_flat_groups"] = [p.detach().clone() for p in parts[r]]
        fname = f"zero_pp_rank_{r}_mp_rank_00_optim_states.pt"
        save({"optimizer_state_dict": osd, "ds_config": cfg, "ds_version": DS_VERSION}, os.path.join(ckpt, fname))
        ranks.append({"file": fname, "rank": r,
                      "optimizer_numel": numel_of(osd["optimizer_state_dict"]["state"]),
                      "fp32_numel": sum(t.numel() for t in osd["fp32_flat_groups"]),
                      "padding": sum(math.ceil(p.numel() / WORLD) * WORLD - p.numel()
                                     for g in groups for _, p in g) if r == WORLD - 1 else 0})
    return run, {"zero_stage": 3, "dp_world_size": WORLD, "tag": f"global_step{STEPS}", "global_steps": STEPS,
                 "parameters": params, "buffers": buffers, "params_from": "param_shapes",
                 "padding": padding, "ranks": ranks}


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".pt"))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    expected = {}
    for name, make in [("zero2", lambda n: write_zero12(n, 2)),
                       ("zero1_bf16", lambda n: write_zero12(n, 1, fp16=False, bf16_names=True)),
                       ("zero3", write_zero3)]:
        run, e = make(name)
        ckpt = os.path.join(run, e["tag"])
        e["files"] = sorted(os.listdir(ckpt))
        e["file_bytes"] = dir_bytes(ckpt)
        expected[name] = e
    # Broken: a rank's optim file missing, a world no files match (problems,
    # exit 3); `latest` naming a folder that is not there, or one outside the
    # run folder (errors).
    run, e = write_zero12("bad_missing_rank", 2)
    os.remove(os.path.join(run, e["tag"], "zero_pp_rank_1_mp_rank_00_optim_states.pt"))
    expected["bad_missing_rank"] = {
        "problem": "deepspeed: zero_pp_rank_1_mp_rank_00_optim_states.pt is missing: partition_count says 2 ranks"}
    run, _ = write_zero12("bad_latest_missing", 2)
    with open(os.path.join(run, "latest"), "w") as f:
        f.write("global_step9")
    expected["bad_latest_missing"] = {"error": "names global_step9, which is not a folder beside it",
                                      "offset": 0}
    run, _ = write_zero12("bad_latest_escape", 2)
    with open(os.path.join(run, "latest"), "w") as f:
        f.write("../zero2/global_step2\n")
    expected["bad_latest_escape"] = {"error": "tag '../zero2/global_step2' is not a plain folder name",
                                     "offset": 2}
    # A partition_count of a million over two files: named up to 16, the rest one line.
    write_zero12("bad_world", 2, partition_count=1000000)
    expected["bad_world"] = {"problems": ["deepspeed: dp_world_size says 2, partition_count 1000000"] + [
        f"deepspeed: zero_pp_rank_{r}_mp_rank_00_optim_states.pt is missing: partition_count says 1000000 ranks"
        for r in range(2, 18)] + ["deepspeed: 999982 more ranks' files are missing"]}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
