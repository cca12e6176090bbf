#!/usr/bin/python3
"""Python side of scripts/check_profile_vs_torch.sh (run it with Debian's
/usr/bin/python3: torch 1.13, torchvision 0.14).

    check_profile_vs_torch.py export DIR       write the models to DIR
    check_profile_vs_torch.py torchprof DIR    torch.profiler FLOPs -> DIR/*.torch.json
    check_profile_vs_torch.py report DIR       Markdown table from DIR/*.json

The models (MODELS below) are torchvision resnet18/resnet50 (weights=None,
seeded, eval), scripted and traced, at 1x3x224x224, and two hand-written
pre-LN transformer blocks (the class in make_profile_fixtures.py): the
E=64/S=16 fixture and a BERT-base-sized one, E=768, 12 heads, S=128, B=1.
"""

import importlib.util
import json
import statistics
import sys
import warnings
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures" / "profile"
WARMUP = 1   # like the ptscope runs: --warmup 1

# The MAC ops torch 1.13's profiler prices (2 x MACs each).  It also prices
# aten::add and aten::mul (1 per output element): in the total, not here.
PROFILER_MAC_OPS = ("aten::conv2d", "aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")

# name -> (model, variant, input shape, reference GMACs or None, transformer dims)
MODELS = {
    "resnet18_script": ("resnet18", "script", "1x3x224x224", 1.814, None),
    "resnet18_trace": ("resnet18", "trace", "1x3x224x224", 1.814, None),
    "resnet50_script": ("resnet50", "script", "1x3x224x224", 4.09, None),
    "resnet50_trace": ("resnet50", "trace", "1x3x224x224", 4.09, None),
    "block_e64_s16": ("transformer_block (fixture)", "script", "1x16x64", None, (1, 16, 64)),
    "block_e768_s128": ("transformer_block (BERT-base size)", "script", "1x128x768", None,
                        (1, 128, 768)),
}


def shape(spec):
    return tuple(int(d) for d in spec.split("x"))


def transformer_block_class():
    path = REPO_ROOT / "scripts" / "make_profile_fixtures.py"
    spec = importlib.util.spec_from_file_location("make_profile_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_profile_fixtures"] = mod
    spec.loader.exec_module(mod)
    return mod.TransformerBlock


def export(out):
    import torchvision
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    out.mkdir(parents=True, exist_ok=True)
    for name, (model, variant, inp, _, dims) in MODELS.items():
        path = out / f"{name}.pt"
        if name == "block_e64_s16":
            path.write_bytes((FIXTURES / "transformer_block.pt").read_bytes())
            continue
        torch.manual_seed(0)
        if dims:
            eager = transformer_block_class()(dims[2], 12).eval()
        else:
            eager = getattr(torchvision.models, model)(weights=None).eval()
        x = torch.randn(shape(inp))
        saved = torch.jit.script(eager) if variant == "script" else torch.jit.trace(eager, x)
        saved.save(str(path))
        print(f"  {path} ({path.stat().st_size / 2**20:.1f} MiB)", file=sys.stderr)


def torchprof(out):
    """torch.profiler.profile(with_flops=True) on each saved file, loaded
    back with torch.jit.load, one no_grad forward after WARMUP ones."""
    from torch.profiler import profile
    for name, (_, _, inp, _, _) in MODELS.items():
        m = torch.jit.load(str(out / f"{name}.pt")).eval()
        x = torch.randn(shape(inp))
        with torch.no_grad():
            for _ in range(WARMUP):
                m(x)
            with profile(with_flops=True) as prof:
                m(x)
        ops = {e.key: {"count": e.count, "flops": e.flops}
               for e in prof.key_averages() if e.flops}
        res = {"flops": sum(o["flops"] for o in ops.values()),
               "mac_flops": sum(o["flops"] for k, o in ops.items() if k in PROFILER_MAC_OPS),
               "ops": ops}
        (out / f"{name}.torch.json").write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")


def g(x):
    return f"{x / 1e9:.4f}" if x >= 1e8 else f"{x / 1e9:.6f}"


def pct(a, b):
    return f"{100.0 * (a - b) / b:+.2f}%" if b else "n/a"


READING = [
    "Reading the table:",
    "* torch 1.13's profiler prices aten::conv2d, aten::mm, aten::addmm, aten::bmm, "
    "aten::baddbmm (2 x MACs) and aten::add/aten::mul (1 per element), nothing else. "
    "A traced model calls aten::_convolution directly, so the profiler reports only "
    "the fc layer for traced ResNets; aten::linear/aten::matmul are priced through "
    "the addmm/bmm they call inside.",
    "* ptscope's 'GFLOPs (all ops)' adds its non-MAC ops (batch_norm, relu, pooling, "
    "add, softmax, layer_norm, gelu, ...) to 2 x MACs.",
    "* 'ops ptscope has no formula for' lists ops whose cost ptscope could not work "
    "out (ops_without_formula in its JSON); their MACs are missing from its totals.",
    "* Latencies are single-threaded on Debian's torch (BLAS_INFO=generic): 1x1 and "
    "other convolutions that take the aten::_slow_conv2d_forward (GEMM) path and "
    "aten::addmm run on generic BLAS, hence resnet50 ~20x resnet18.",
]


def report(out):
    rows = ["| model | variant | ptscope GMACs | ptscope GFLOPs (all ops) | "
            "ptscope MAC-op GFLOPs (2xMACs) | profiler GFLOPs (total) | "
            "profiler MAC-op GFLOPs | diff % (ptscope MAC-op vs profiler MAC-op) | "
            "reference | ptscope vs reference | ptscope median ms |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for name, (model, variant, inp, ref_gmacs, dims) in MODELS.items():
        p = json.loads((out / f"{name}.ptscope.json").read_text())[0]  # one object per file
        t = json.loads((out / f"{name}.torch.json").read_text())
        macs = p["macs"]
        mac_flops = sum(o["flops"] for o in p["ops"].values() if o.get("macs"))
        if dims:
            b, s, e = dims
            ref_flops = 24 * b * s * e * e + 4 * b * s * s * e
            ref = f"{g(ref_flops)} GFLOPs (24BSE²+4BS²E)"
            vs_ref = pct(mac_flops, ref_flops)
            notes.append(f"* {name}: profiler MAC-op FLOPs vs 24BSE²+4BS²E: "
                         f"{pct(t['mac_flops'], ref_flops)}")
        else:
            ref = f"{ref_gmacs} GMACs (torchvision)"
            vs_ref = pct(macs, ref_gmacs * 1e9)
        rows.append(f"| {model} | {variant} | {g(macs)} | {g(p['flops'])} | {g(mac_flops)} | "
                    f"{g(t['flops'])} | {g(t['mac_flops'])} | {pct(mac_flops, t['mac_flops'])} | "
                    f"{ref} | {vs_ref} | {p['latency']['median_ms']:.2f} |")
        missing = p.get("ops_without_formula") or []
        if missing:
            notes.append(f"* {name}: ops ptscope has no formula for: {', '.join(missing)}")
        mods = ", ".join(f"{k} {g(v['macs'])}" for k, v in sorted(p["modules"].items()))
        notes.append(f"* {name}: ptscope GMACs by top-level module: {mods}")
        top_ops = ", ".join(f"{k} {g(v['flops'])}" for k, v in sorted(t["ops"].items()))
        notes.append(f"* {name}: profiler GFLOPs by op: {top_ops}")
    ov = json.loads((out / "resnet50_script.overhead.json").read_text())[0]
    lat, latc = ov["latency"], ov["latency_with_counter"]
    ratio = latc["median_ms"] / lat["median_ms"]
    lines = ["# ptscope profile vs torch.profiler (torch " + torch.__version__ + ")", "",
             "CPU, fp32, batch 1, no_grad forward. ptscope: `ptscope profile --format json "
             "--iters 3 --warmup 1`. Profiler: `torch.profiler.profile(with_flops=True)`, "
             "sum of evt.flops, same saved file via torch.jit.load, after 1 warm-up forward. "
             "'MAC-op' FLOPs: ptscope ops with MACs (conv, linear, matmul, ...) = 2 x MACs; "
             "profiler ops " + "/".join(PROFILER_MAC_OPS) + " (its total adds aten::add/mul).",
             "", *rows, "", "Notes:", *notes, "", *READING, "",
             "FLOP-counter overhead (scripted resnet50, `--counter-overhead --iters 20`): "
             f"median {lat['median_ms']:.2f} ms without, {latc['median_ms']:.2f} ms with the "
             f"counter: ratio {ratio:.3f} (p10/p90 without {lat['p10_ms']:.2f}/{lat['p90_ms']:.2f}, "
             f"with {latc['p10_ms']:.2f}/{latc['p90_ms']:.2f}; threads {lat.get('threads')})."]
    text = "\n".join(lines) + "\n"
    (out / "profile_vs_torch.md").write_text(text)
    print(text, end="")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("export", "torchprof", "report"):
        sys.exit(__doc__)
    {"export": export, "torchprof": torchprof, "report": report}[sys.argv[1]](Path(sys.argv[2]))


if __name__ == "__main__":
    main()
