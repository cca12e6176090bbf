#!/usr/bin/python3
"""Write a transformer-like state_dict checkpoint for scripts/bench_inspect.sh.

The benchmark needs a realistic large checkpoint: a few hundred float32
tensors with the names and shapes of a GPT-style decoder (token and position
embeddings, per-layer layer norms, q/k/v/out projections, MLP, final norm),
saved with the default zip torch.save.  Tensor contents do not matter to
ptscope, so they are filled cheaply but deterministically: one seeded block of
random numbers is tiled into every tensor (no minutes of randn on 500M values).

Run with Debian's interpreter, which has torch 1.13:

    /usr/bin/python3 scripts/bench_make_checkpoint.py --preset big   OUT.pt
    /usr/bin/python3 scripts/bench_make_checkpoint.py --preset small OUT.pt
    /usr/bin/python3 scripts/bench_make_checkpoint.py --preset big --payload-bytes

--payload-bytes prints the tensor payload size of the preset (numel * 4)
without importing torch or writing anything; the benchmark uses it to decide
whether an existing file has the right size.  The file is written to OUT.tmp
and renamed, so an interrupted run never leaves a truncated OUT behind.
"""

import argparse
import os
import sys
import time

# d_model, layers, vocab, context; MLP is 4 * d_model.
PRESETS = {
    # 24 * 12 * 1280^2 + (32000 + 2048) * 1280 + small  ~= 515M numel ~= 2.06 GB
    "big": dict(d_model=1280, layers=24, vocab=32000, context=2048),
    # 4 * 12 * 256^2 + (8000 + 512) * 256 + small  ~= 5.3M numel ~= 21 MB
    "small": dict(d_model=256, layers=4, vocab=8000, context=512),
}

SEED = 1234
POOL = 1 << 20  # numel of the seeded random block tiled into every tensor


def shapes(d_model, layers, vocab, context):
    """(name, shape) of every entry, in state_dict order."""
    d, h = d_model, 4 * d_model
    out = [("tok_embed.weight", (vocab, d)), ("pos_embed.weight", (context, d))]
    for i in range(layers):
        p = f"layers.{i}."
        out += [(p + "ln_1.weight", (d,)), (p + "ln_1.bias", (d,))]
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            out += [(p + f"attn.{proj}.weight", (d, d)),
                    (p + f"attn.{proj}.bias", (d,))]
        out += [(p + "ln_2.weight", (d,)), (p + "ln_2.bias", (d,)),
                (p + "mlp.fc_in.weight", (h, d)), (p + "mlp.fc_in.bias", (h,)),
                (p + "mlp.fc_out.weight", (d, h)), (p + "mlp.fc_out.bias", (d,))]
    out += [("ln_f.weight", (d,)), ("ln_f.bias", (d,))]
    return out


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def build(spec):
    import torch
    g = torch.Generator().manual_seed(SEED)
    pool = torch.randn(POOL, generator=g) * 0.02
    sd = {}
    for name, shape in shapes(**spec):
        t = torch.empty(shape, dtype=torch.float32)
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            t.fill_(1.0)
        elif name.endswith(".bias"):
            t.zero_()
        else:
            flat, n = t.view(-1), t.numel()
            for off in range(0, n, POOL):
                k = min(POOL, n - off)
                flat[off:off + k].copy_(pool[:k])
        sd[name] = t
    return sd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--payload-bytes", action="store_true",
                    help="print numel*4 of the preset and exit")
    ap.add_argument("out", nargs="?")
    args = ap.parse_args()
    spec = PRESETS[args.preset]
    entries = shapes(**spec)
    payload = 4 * sum(numel(s) for _, s in entries)
    if args.payload_bytes:
        print(payload)
        return
    if not args.out:
        ap.error("OUT is required unless --payload-bytes")

    import torch
    t0 = time.perf_counter()
    sd = build(spec)
    t1 = time.perf_counter()
    tmp = args.out + ".tmp"
    torch.save(sd, tmp)  # default: zip format (_use_new_zipfile_serialization)
    os.replace(tmp, args.out)
    t2 = time.perf_counter()
    print(f"wrote {args.out}: {len(entries)} tensors, "
          f"{payload // 4:,} numel, {os.path.getsize(args.out):,} B "
          f"(build {t1 - t0:.1f} s, save {t2 - t1:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
