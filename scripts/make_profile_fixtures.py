#!/usr/bin/python3
"""Generate the TorchScript fixtures used to test `ptscope profile`.

`ptscope profile` runs a TorchScript archive through LibTorch and counts the
MACs/FLOPs of every aten op it sees.  To test it we need small real models
plus MAC counts obtained independently of ptscope's own arithmetic.  This
script writes them into fixtures/profile/ and fixtures/profile/expected.json:

  * `macs` and `modules_macs` come from forward hooks on the EAGER modules
    (every nn.Conv*/nn.ConvTranspose*/nn.Linear, MACs from the hook's real
    input/output shapes, see layer_macs()) plus, for attention, the closed
    formula 2 x B*heads*S*S*d (Q K^T and A V);
  * `torch_profiler_flops` is what torch.profiler.profile(with_flops=True)
    reports for the saved file loaded back with torch.jit.load (sum of
    evt.flops over key_averages()), broken down per op in
    `torch_profiler_ops`; `aten_ops` lists the aten ops the TorchScript
    interpreter called directly (outermost aten events), with their counts.

Run with Debian's interpreter, which has torch 1.13 / torchvision 0.14:

    /usr/bin/python3 scripts/make_profile_fixtures.py [--out DIR]

Determinism (running twice gives byte-identical files): every fixture seeds
torch/numpy/random itself, and the script re-executes itself with
PYTHONHASHSEED=0 from the repository root under the relative name
scripts/make_profile_fixtures.py, because TorchScript serializes constants in
set order (string hashing) and records the source file name in its debug
info (see reexec_deterministically).
"""

import argparse
import hashlib
import json
import math
import os
import random
import sys
import warnings
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import reexec_deterministically  # noqa: E402

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SCRIPT_REL = "scripts/make_profile_fixtures.py"
REPO_ROOT = Path(__file__).resolve().parent.parent

# Untimed forwards before the profiled one, like `ptscope profile`'s default
# --warmup 3: the profiling graph executor specializes the graph on its first
# runs, and the op list is the optimized graph's.
WARMUP = 3
# Size budget: 200 KB, except that a file may always hold its float32
# weights plus 32 KB of code and zip overhead (transformer_block.pt: E=64
# means 12 x 64^2 weights, 196 KB by themselves).
MAX_BYTES = 200 * 1024
OVERHEAD_BYTES = 32 * 1024


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class ConvNet(nn.Module):
    """Conv/BN/ReLU stem, max pool, grouped and depthwise convs, a transposed
    conv, global average pool and a linear head.  Input 1x3x32x32."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1),
                                  nn.BatchNorm2d(16), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.block = nn.Sequential(
            nn.Conv2d(16, 32, 3, padding=1, groups=2, bias=False),   # grouped
            nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1, groups=32),               # depthwise
            nn.BatchNorm2d(32), nn.ReLU())
        self.up = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.relu = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(self.stem(x))
        x = self.relu(self.up(self.block(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


class TransformerBlock(nn.Module):
    """Pre-LN transformer block written out by hand (no nn.MultiheadAttention,
    no fused fast paths).  The two attention matmuls run in the block's own
    forward, so `ptscope profile` attributes them to "(top)"."""

    def __init__(self, embed=64, heads=4):
        super().__init__()
        self.heads = heads
        self.head_dim = embed // heads
        self.ln1 = nn.LayerNorm(embed)
        self.q = nn.Linear(embed, embed)
        self.k = nn.Linear(embed, embed)
        self.v = nn.Linear(embed, embed)
        self.out = nn.Linear(embed, embed)
        self.ln2 = nn.LayerNorm(embed)
        self.fc1 = nn.Linear(embed, 4 * embed)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * embed, embed)

    def forward(self, x):
        b, s, e = x.size(0), x.size(1), x.size(2)
        h = self.ln1(x)
        q = self.q(h).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(h).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        v = self.v(h).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        ctx = torch.softmax(scores, dim=-1) @ v
        x = x + self.out(ctx.transpose(1, 2).reshape(b, s, e))
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class MHA(nn.Module):
    """nn.MultiheadAttention used as self-attention, weights not returned."""

    def __init__(self, embed=64, heads=4):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed, heads, batch_first=True)

    def forward(self, x):
        out, _ = self.attn(x, x, x, need_weights=False)
        return out


class TwoInputs(nn.Module):
    """forward(image 1x3x16x16 float, tokens 1x8 int64): a conv branch and an
    embedding branch, concatenated into a linear head."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.img_fc = nn.Linear(8, 16)
        self.emb = nn.Embedding(100, 16)
        self.head = nn.Linear(32, 10)

    def forward(self, image, tokens):
        img = self.img_fc(torch.flatten(self.gap(F.relu(self.conv(image))), 1))
        txt = self.emb(tokens).mean(dim=1)
        return self.head(torch.cat([img, txt], dim=1))


# --------------------------------------------------------------------------
# Independent MAC counting (eager forward hooks)
# --------------------------------------------------------------------------

def layer_macs(module, inputs, output):
    """MACs of one nn.Conv*/nn.ConvTranspose*/nn.Linear call by ptscope's
    conventions (include/ptscope/flops.h), bias not counted:
      conv:            output.numel x Cin/groups x prod(kernel)
      transposed conv: input.numel  x Cout/groups x prod(kernel)
      linear:          input.numel  x out_features
    Written from the module's attributes, not from the weight's layout."""
    x = inputs[0]
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return x.numel() * (module.out_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, nn.modules.conv._ConvNd):
        return output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return x.numel() * module.out_features
    return None


def attention_macs(batch, heads, seq, head_dim):
    """Q K^T and softmax(.) V: B*heads*S*S*d MACs each."""
    return 2 * batch * heads * seq * seq * head_dim


def hooked_macs(model, inputs):
    """Run the eager model once; return the MAC-layer list (name, type,
    shapes, MACs) and the per-top-level-submodule MACs."""
    layers = []

    def hook(name):
        def fn(module, args, output):
            m = layer_macs(module, args, output)
            if m is not None:
                layers.append({"name": name, "type": type(module).__name__,
                               "input": list(args[0].shape), "output": list(output.shape),
                               "macs": m})
        return fn

    handles = [mod.register_forward_hook(hook(name))
               for name, mod in model.named_modules() if name]
    with torch.no_grad():
        model(*inputs)
    for h in handles:
        h.remove()
    modules = {name: 0 for name, _ in model.named_children()}
    for layer in layers:
        modules[layer["name"].split(".")[0]] += layer["macs"]
    return layers, modules


# --------------------------------------------------------------------------
# torch.profiler on the saved file
# --------------------------------------------------------------------------

def outermost_aten_ops(module, inputs):
    """{op: count} of the aten ops `module` calls directly, i.e. recorded
    with no aten op around them, from one no_grad forward.  Uses the legacy
    profiler's raw push/pop records, whose nesting is exact; the kineto
    events' evt.cpu_parent is rebuilt from whole-microsecond times and
    misplaces short ops (a view that starts in the microsecond an
    aten::linear ends is sometimes its child, sometimes not)."""
    from torch.autograd import profiler_legacy
    config = profiler_legacy.profile().config()
    with torch.no_grad():
        torch.autograd._enable_profiler_legacy(config)
        try:
            module(*inputs)
        finally:
            records = torch.autograd._disable_profiler_legacy()
    counts = {}
    for thread in records:
        stack = []
        for r in thread:
            if r.kind() == "push":
                if r.name().startswith("aten::") and not any(stack):
                    counts[r.name()] = counts.get(r.name(), 0) + 1
                stack.append(r.name().startswith("aten::"))
            elif r.kind() == "pop" and stack:
                stack.pop()
    return dict(sorted(counts.items()))


def profiler_numbers(path, inputs):
    """torch.jit.load the file, warm up, profile one no_grad forward."""
    from torch.profiler import profile
    m = torch.jit.load(str(path)).eval()
    with torch.no_grad():
        for _ in range(WARMUP):
            m(*inputs)
        with profile(with_flops=True) as prof:
            m(*inputs)
    per_op = {}
    for evt in prof.key_averages():
        if evt.flops:
            per_op[evt.key] = {"count": evt.count, "flops": evt.flops}
    top = outermost_aten_ops(m, inputs)
    total = sum(evt.flops for evt in prof.key_averages() if evt.flops)
    return total, per_op, dict(sorted(top.items()))


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

def seed_all(seed=0):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def warmed_up(model, *example):
    """One train-mode forward (non-trivial BN running stats), then eval mode."""
    model.train()
    with torch.no_grad():
        model(*example)
    return model.eval()


def shape_arg(t):
    """Tensor -> ptscope --input spelling: 1x3x32x32, 1x8:int64."""
    s = "x".join(str(d) for d in t.shape)
    return s if t.dtype == torch.float32 else f"{s}:{str(t.dtype).replace('torch.', '')}"


def fixtures():
    """(file, builder, how) in output order; builder returns (model, inputs,
    extra MACs by top-level name computed by formula)."""

    def convnet():
        seed_all(0)
        model = warmed_up(ConvNet(), torch.randn(4, 3, 32, 32))
        return model, (torch.randn(1, 3, 32, 32),), {}

    def transformer():
        seed_all(1)
        model = TransformerBlock(64, 4).eval()
        x = torch.randn(1, 16, 64)
        return model, (x,), {"(top)": attention_macs(1, 4, 16, 16)}

    def mha():
        seed_all(2)
        model = MHA(64, 4).eval()
        x = torch.randn(1, 16, 64)
        b, s, e, h = 1, 16, 64, 4
        # nn.MultiheadAttention calls its projections functionally (no hooks
        # fire): packed q/k/v in_proj (3 x B*S*E*E), attention, out_proj.
        return model, (x,), {"attn": 3 * b * s * e * e + attention_macs(b, h, s, e // h)
                             + b * s * e * e}

    def two_inputs():
        seed_all(3)
        model = TwoInputs().eval()
        return model, (torch.randn(1, 3, 16, 16), torch.randint(0, 100, (1, 8))), {}

    return [("convnet.pt", convnet, "script"),
            ("convnet_traced.pt", convnet, "trace"),
            ("transformer_block.pt", transformer, "script"),
            ("mha.pt", mha, "script"),
            ("two_inputs.pt", two_inputs, "script")]


def write_fixture(out, name, builder, how):
    model, inputs, formula = builder()
    if how == "script":
        saved = torch.jit.script(model)
    else:
        saved = torch.jit.trace(model, inputs)
    saved.save(str(out / name))

    layers, modules = hooked_macs(model, inputs)
    for key, m in formula.items():
        modules[key] = modules.get(key, 0) + m
    macs = sum(modules.values())
    flops, per_op, top = profiler_numbers(out / name, inputs)
    return {
        "kind": "torch.jit." + how,
        "weights_bytes": sum(t.numel() * t.element_size() for t in
                             list(model.parameters()) + list(model.buffers())),
        "inputs": [shape_arg(t) for t in inputs],
        "macs": macs,
        "mac_flops": 2 * macs,
        "modules_macs": dict(sorted(modules.items())),
        "layers": layers,
        "formula_macs": formula,
        "torch_profiler_flops": flops,
        "torch_profiler_ops": per_op,
        "aten_ops": top,
    }


README = """\
# `ptscope profile` fixtures

Generated by `scripts/make_profile_fixtures.py` with PyTorch {torch} (Debian).
Regenerate (byte-identical on every run) with:

    /usr/bin/python3 scripts/make_profile_fixtures.py

| file | saved with | inputs | MACs | bytes |
|------|------------|--------|------|-------|
{rows}

* `convnet.pt` (`torch.jit.script`): stem Conv2d(3,16,3,p1)+BatchNorm2d+ReLU,
  MaxPool2d(2), block = grouped Conv2d(16,32,3,groups=2,no bias)+BN+ReLU,
  depthwise Conv2d(32,32,3,groups=32)+BN+ReLU, ConvTranspose2d(32,16,2,s2),
  ReLU, AdaptiveAvgPool2d(1), Linear(16,10).  Records aten::conv2d,
  aten::conv_transpose2d, aten::batch_norm, aten::linear.
* `convnet_traced.pt`: the same weights through `torch.jit.trace`, which
  records aten::_convolution (transposed flag = argument 6) for both kinds
  of convolution.
* `transformer_block.pt`: hand-written pre-LN block, E=64, 4 heads, input
  1x16x64: LayerNorm, q/k/v Linear(E,E), heads, `q @ k^T / sqrt(d)`,
  softmax, `@ v`, out Linear(E,E), residual, LayerNorm, Linear(E,4E), GELU,
  Linear(4E,E), residual.  The two aten::matmul run in the block's own code
  (module "(top)"), B*heads*S*S*d MACs each.  It is the one file over
  200 KB: at E=64 its 12 x E^2 float32 weights alone take 196 KB.
* `mha.pt`: `nn.MultiheadAttention(64, 4, batch_first=True)` as
  self-attention, need_weights=False, eval.  Under no_grad (as
  `ptscope profile` runs it) torch 1.13 takes the fast path: the interpreter
  makes one aten::_native_multi_head_attention call (in_proj, attention and
  out_proj inside one op; torch.profiler still counts the aten::mm,
  aten::bmm and aten::addmm it makes inside).  With grad enabled the same
  module decomposes into aten::linear/aten::bmm/aten::softmax/aten::linear.
* `two_inputs.pt`: `forward(image 1x3x16x16 float, tokens 1x8 int64)`:
  Conv2d+ReLU+pool+Linear(8,16) and Embedding(100,16)+mean, concatenated,
  Linear(32,10).

`expected.json`, per file:

* `inputs`: the `--input` arguments to pass to `ptscope profile`;
* `macs` (and `mac_flops` = 2 x macs): computed independently of ptscope in
  Python, by forward hooks on the eager modules: each nn.Conv*d,
  nn.ConvTranspose*d and nn.Linear call gets MACs from its real input/output
  shapes (conv: output.numel x Cin/groups x prod(kernel); transposed:
  input.numel x Cout/groups x prod(kernel); linear: input.numel x
  out_features; bias never counted), listed in `layers`.  Attention MACs are
  added by formula (`formula_macs`): 2 x B*heads*S*S*d, plus, for
  nn.MultiheadAttention (whose projections are functional calls no hook
  sees), 4 x B*S*E*E for the in/out projections;
* `modules_macs`: the same MACs per top-level submodule attribute name;
  "(top)" holds ops in the top module's own forward (the transformer's
  attention matmuls);
* `torch_profiler_flops`: sum of `evt.flops` over
  `torch.profiler.profile(with_flops=True).key_averages()` for one no_grad
  forward of the saved file loaded back with torch.jit.load, after {warmup}
  warm-up forwards; `torch_profiler_ops` breaks it down per op.  torch 1.13
  computes FLOPs for aten::conv2d, aten::mm, aten::addmm, aten::bmm,
  aten::baddbmm (2 x MACs, bias not counted, groups handled), aten::mul and
  aten::add (one per output element; not the in-place add_/mul_) and for
  nothing else: not aten::_convolution (so a traced conv net's convolutions
  count 0), not aten::conv1d/conv3d/conv_transpose*d, not
  aten::mv/addmv, not norms, pools, activations or softmax.  aten::linear,
  aten::matmul, aten::einsum and aten::_native_multi_head_attention count
  only through the aten::addmm / aten::mm / aten::bmm they call inside;
* `aten_ops`: the aten ops the TorchScript interpreter called directly (no
  aten op around them, from the legacy profiler's exact push/pop nesting)
  and how many times: what `ptscope profile` should list in `ops`.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "fixtures" / "profile"),
                        help="output folder (default: fixtures/profile/ of the repository)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    reexec_deterministically(SCRIPT_REL, __file__, ["--out", str(out)])

    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)

    expected = {}
    for name, builder, how in fixtures():
        expected[name] = write_fixture(out, name, builder, how)
        size = (out / name).stat().st_size
        budget = max(MAX_BYTES, expected[name]["weights_bytes"] + OVERHEAD_BYTES)
        if size > budget:
            sys.exit(f"{name}: {size} bytes, over its {budget} byte budget")
    with open(out / "expected.json", "w") as f:
        json.dump(expected, f, sort_keys=True, indent=1)
        f.write("\n")
    rows = "\n".join(f"| {n} | {e['kind']} | {' '.join(e['inputs'])} | {e['macs']} | "
                     f"{(out / n).stat().st_size} |" for n, e in expected.items())
    (out / "README.md").write_text(README.format(torch=torch.__version__, rows=rows,
                                                 warmup=WARMUP))

    print(f"{'file':22} {'bytes':>7} {'macs':>9} {'profiler':>9}  sha256")
    for name in list(expected) + ["expected.json"]:
        e = expected.get(name, {})
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()[:16]
        print(f"{name:22} {(out / name).stat().st_size:7} {e.get('macs', ''):>9} "
              f"{e.get('torch_profiler_flops', ''):>9}  {digest}")


if __name__ == "__main__":
    main()
