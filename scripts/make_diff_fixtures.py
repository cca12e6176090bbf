#!/usr/bin/python3
"""Generate the checkpoint pairs ptscope diff is tested on (fixtures/diff/).

One small model's state_dict, base.pt, and what people do to it:

  * finetuned.pt: fc2's weight and bias moved by a training-sized step,
    everything else untouched;
  * pruned.pt: fc1.weight's smaller half by magnitude set to zero, as
    torch.nn.utils.prune.l1_unstructured then prune.remove leave it;
  * fp16.pt: every floating tensor .half(), the int64 counter kept;
  * renamed.pt: every key under `module.`, as nn.DataParallel saves it;
  * renamed_one.pt: fc2.weight saved as `classifier.kernel`, nothing else
    renamed (same data under another name, no prefix change);
  * base.safetensors: base.pt converted to safetensors (the same tensors);
  * added_removed.pt: fc2.bias dropped, a `head.scale` tensor added;
  * strided.pt: base with fc1.weight saved as a transposed view of a
    [8, 16] storage (same values, other strides);
  * expected.json: per pair, what torch says comparing the loaded tensors:
    added, removed, changed names, and per changed tensor numel, elements
    changed, max |b - a| and ||b - a|| / ||a|| in float64.

Run with Debian's interpreter, which has torch 1.13:

    /usr/bin/python3 scripts/make_diff_fixtures.py [--out DIR]

Running twice gives byte-identical files: the seed is fixed and torch.save's
zip writer is deterministic.
"""

import argparse
import collections
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import save_safetensors  # noqa: E402

import torch
import torch.nn as nn

REPO_ROOT = Path(__file__).resolve().parent.parent


def base_state():
    torch.manual_seed(0)
    model = nn.Sequential(collections.OrderedDict(
        fc1=nn.Linear(8, 16), bn=nn.BatchNorm1d(16), fc2=nn.Linear(16, 4)))
    model.train()
    model(torch.randn(5, 8))  # running stats and num_batches_tracked move
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def compare(a, b):
    """What torch says about two state_dicts, names paired as given."""
    out = {"added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)), "changed": {}}
    for name in a:
        if name not in b:
            continue
        x, y = a[name], b[name]
        if x.shape != y.shape or x.dtype != y.dtype or not torch.equal(x, y.to(x.dtype) if x.dtype != y.dtype else y):
            entry = {"dtype": [str(x.dtype)[6:], str(y.dtype)[6:]]}
            if x.dtype.is_floating_point:
                xd, yd = x.double(), y.double()
                diff = (yd - xd).abs()
                changed = int((xd != yd).sum())
                entry.update(numel=x.numel(), changed=changed, max_abs_diff=float(diff.max()))
                if changed and float(xd.norm()) > 0:
                    entry["rel_l2"] = float(diff.norm() / xd.norm())
            out["changed"][name] = entry
    return out


def load_safetensors(path):
    """Reads back what save_safetensors wrote (F32 and I64 are all base has)."""
    import struct
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        begin, end = h["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=dtypes[h["dtype"]]).reshape(h["shape"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO_ROOT / "fixtures" / "diff"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    base = base_state()
    g = torch.Generator().manual_seed(1)

    finetuned = dict(base)
    finetuned["fc2.weight"] = base["fc2.weight"] + 0.01 * torch.randn(base["fc2.weight"].shape, generator=g)
    finetuned["fc2.bias"] = base["fc2.bias"] - 0.001

    pruned = dict(base)
    w = base["fc1.weight"]
    keep = w.abs() > w.abs().flatten().kthvalue(w.numel() // 2).values
    pruned["fc1.weight"] = w * keep

    fp16 = {k: v.half() if v.is_floating_point() else v for k, v in base.items()}
    renamed = {"module." + k: v for k, v in base.items()}
    renamed_one = {("classifier.kernel" if k == "fc2.weight" else k): v for k, v in base.items()}
    added_removed = {k: v for k, v in base.items() if k != "fc2.bias"}
    added_removed["head.scale"] = torch.ones(4)
    strided = dict(base)
    strided["fc1.weight"] = base["fc1.weight"].t().contiguous().t()  # stride (1, 16)
    assert strided["fc1.weight"].stride() == (1, 16)

    pairs = {"finetuned.pt": finetuned, "pruned.pt": pruned, "fp16.pt": fp16, "renamed.pt": renamed, "renamed_one.pt": renamed_one,
             "added_removed.pt": added_removed, "strided.pt": strided}
    torch.save(base, out / "base.pt")
    for name, sd in pairs.items():
        torch.save(sd, out / name)
    save_safetensors(out / "base.safetensors", base)

    expected = {}
    for name in list(pairs) + ["base.safetensors"]:
        b = torch.load(out / name) if name.endswith(".pt") else load_safetensors(out / name)
        expected[name] = compare(base, b)
    expected["renamed.pt"]["note"] = "names as saved; ptscope pairs them by the prefix module."
    with open(out / "expected.json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
