#!/usr/bin/python3
"""Checkpoints with many small tensors, for scripts/bench_tensor_count.sh:
ptscope's cost should grow with the number of tensors, and this is where it
is largest (a mixture of experts has 20k-100k tensors).

    /usr/bin/python3 scripts/bench_make_many_tensors.py moe OUT.pt
    /usr/bin/python3 scripts/bench_make_many_tensors.py spread OUT.pt
    /usr/bin/python3 scripts/bench_make_many_tensors.py safetensors OUT.safetensors

moe: a Mixtral-shaped state_dict, 54 layers of 128 experts (gate, up and
down projections each) plus attention, norms and router: 21,117 float32
tensors of 8x8, saved by Debian's torch 1.13 (zip format). spread: 4,000
float32 tensors of 16,384 values (64 KiB each, 263 MB): the records lie
further apart than a read-ahead window, as a real model's do. safetensors:
100,000 float32 tensors of 4 values, written by hand as the format
specifies (8-byte header length, JSON header, data), no torch needed.
Deterministic; written to OUT.tmp and renamed.
"""
import json
import os
import struct
import sys

LAYERS, EXPERTS = 54, 128
SPREAD_TENSORS, SPREAD_NUMEL = 4000, 16384
SAFETENSORS_TENSORS = 100_000


def moe(out):
    import torch
    torch.manual_seed(0)
    sd = {"model.embed_tokens.weight": torch.zeros(8, 8)}
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            sd[p + f"self_attn.{n}.weight"] = torch.zeros(8, 8)
        sd[p + "input_layernorm.weight"] = torch.ones(8)
        sd[p + "post_attention_layernorm.weight"] = torch.ones(8)
        sd[p + "block_sparse_moe.gate.weight"] = torch.zeros(EXPERTS, 8)
        for e in range(EXPERTS):
            for w in ("w1", "w2", "w3"):
                sd[p + f"block_sparse_moe.experts.{e}.{w}.weight"] = torch.zeros(8, 8)
    sd["model.norm.weight"] = torch.ones(8)
    sd["lm_head.weight"] = torch.zeros(8, 8)
    torch.save(sd, out)
    return len(sd)


def spread(out):
    import torch
    sd = {f"model.layers.{i}.weight": torch.zeros(SPREAD_NUMEL) for i in range(SPREAD_TENSORS)}
    torch.save(sd, out)
    return len(sd)


def safetensors(out):
    header, offset = {}, 0
    for i in range(SAFETENSORS_TENSORS):
        header[f"model.layers.{i // 1000}.experts.{i % 1000}.weight"] = {
            "dtype": "F32", "shape": [4], "data_offsets": [offset, offset + 16]}
        offset += 16
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-aligned, as the library writes it
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(offset))
    return len(header)


def main():
    makers = {"moe": moe, "spread": spread, "safetensors": safetensors}
    if len(sys.argv) != 3 or sys.argv[1] not in makers:
        sys.exit(__doc__)
    kind, out = sys.argv[1], sys.argv[2]
    n = makers[kind](out + ".tmp")
    os.replace(out + ".tmp", out)
    print(f"wrote {out}: {n:,} tensors, {os.path.getsize(out):,} B", file=sys.stderr)


if __name__ == "__main__":
    main()
