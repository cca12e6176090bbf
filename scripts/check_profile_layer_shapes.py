#!/usr/bin/python3
"""The output shapes in `ptscope profile`'s per-layer table for TorchScript
archives, checked against the eager modules they were saved from (ctest:
profile_layer_shapes; exit 77, skipped, where /usr/bin/python3 has no torch
or ptscope has no LibTorch plugin).

    /usr/bin/python3 scripts/check_profile_layer_shapes.py --ptscope BIN

Reference: a forward hook on every submodule of the eager model (the
classes of scripts/make_fixtures.py and scripts/make_profile_fixtures.py;
shapes do not depend on the weights) records the first tensor of what the
module returned, depth first through tuples, as ptscope documents, and
its bytes. Every row of `profile -f json --depth 64` must carry that shape
and those bytes, and every hooked module must have a row.

Files: fixtures/scripted_cnn.pt at batch 2, the five fixtures/profile/
archives at expected.json's inputs, and one model scripted here into a
temporary folder whose modules defeat the guess from a module's last op:
one returns a tuple whose last op is a scalar mean, one is an nn.Identity
(no op at all), and a Sequential holds both.
Prints one line per file and exits 1 when any fails.
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
try:
    import torch
    import torch.nn as nn
except ImportError:
    print("skipped: /usr/bin/python3 has no torch")
    sys.exit(77)
sys.path.insert(0, str(REPO / "scripts"))


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


class Pair(nn.Module):
    """Returns (features, their mean): the last op's output is a scalar."""

    def forward(self, x):
        y = torch.flatten(x, 1)
        return y, y.mean()


class PairThenHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.pair = Pair()
        self.skip = nn.Identity()
        self.body = nn.Sequential(nn.Identity(), nn.ReLU())
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        y, m = self.pair(self.body(self.skip(self.conv(x))))
        return self.fc(y) + m


def first_tensor(value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = first_tensor(v)
            if t is not None:
                return t
    return None


def hooked_outputs(model, inputs):
    """module path -> (shape, bytes) of its last call's first output tensor."""
    seen = {}

    def hook(name):
        def fn(module, args, output):
            t = first_tensor(output)
            seen[name] = (list(t.shape), t.numel() * t.element_size()) if t is not None else ([], 0)
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    with torch.no_grad():
        model(*inputs)
    for h in handles:
        h.remove()
    return seen


def spec(t):
    s = "x".join(str(d) for d in t.shape)
    return s if t.dtype == torch.float32 else f"{s}:{str(t.dtype).replace('torch.', '')}"


def ptscope_layers(binary, path, inputs):
    cmd = [binary, "profile", str(path), "--iters", "1", "--warmup", "1", "--depth", "64", "-f", "json"]
    for t in inputs:
        cmd += ["-i", spec(t)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {run.stderr.strip()}")
    return json.loads(run.stdout)[0]["layers"]


def cases(work):
    warnings.filterwarnings("ignore")  # the fixture classes trace a submodule when built
    fx = load_script("make_fixtures")
    torch.manual_seed(0)
    yield REPO / "fixtures" / "scripted_cnn.pt", fx.ScriptCNN().eval(), (torch.randn(2, 3, 16, 16),)
    pf = load_script("make_profile_fixtures")
    for name, builder, _how in pf.fixtures():
        model, inputs, _formula = builder()
        yield REPO / "fixtures" / "profile" / name, model, inputs
    torch.manual_seed(0)
    model = PairThenHead().eval()
    path = Path(work) / "pair_then_head.pt"
    torch.jit.script(model).save(str(path))
    yield path, model, (torch.randn(1, 3, 8, 8),)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ptscope", required=True)
    args = ap.parse_args()
    probe = subprocess.run([args.ptscope, "backend"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("skipped: ptscope has no LibTorch plugin")
        return 77
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        for path, model, inputs in cases(work):
            want = hooked_outputs(model, inputs)
            rows = {r["name"]: r for r in ptscope_layers(args.ptscope, path, inputs)}
            problems = []
            for name, (shape, nbytes) in want.items():
                r = rows.get(name)
                if r is None:
                    problems.append(f"{name}: no row")
                elif r["output_shape"] != shape or r["activation_bytes"] != nbytes:
                    problems.append(f"{name}: {r['output_shape']} ({r['activation_bytes']} B), "
                                    f"torch {shape} ({nbytes} B)")
            problems += [f"{name}: a row no module has" for name in rows if name not in want]
            failures += bool(problems)
            print(f"{'ok  ' if not problems else 'FAIL'} {path.name}: {len(want)} modules"
                  + "".join(f"\n     {p}" for p in problems))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
