#!/usr/bin/python3
"""Generate fixtures/folders/: model folders as people download them, with
their truth in expected.json.

  llama_safetensors/  config.json, model.safetensors.index.json and
                      model-0000N-of-00003.safetensors
  llama_bin/          config.json, pytorch_model.bin.index.json and
                      pytorch_model-0000N-of-00003.bin (torch.save)
  llama_config_mismatch/  model.safetensors (the same tensors, no index) and
                      a config.json that disagrees with the shapes
                      (hidden_size 128, num_hidden_layers 3)

The model is fixtures/arch/llama_tiny.pt (LLaMA-like, GQA: 4 heads, 2 KV
heads, 2 layers, hidden 64, ffn 176, vocab 1000) without its inv_freq
buffers, which transformers does not save: 21 tensors, 220,480 parameters,
split over 3 shards (embeddings and layer 0; layer 1; norm and lm_head).

One small folder per index inconsistency (two shards of three tiny float32
tensors each, safetensors): bad_entry (the index names a tensor its shard
does not hold), bad_duplicate (a tensor stored in two shards), bad_missing
(a shard the index names is absent), bad_unreferenced (a .safetensors in
the folder the index does not name), bad_total (metadata.total_size wrong).

Safetensors are written by hand (8-byte little-endian header length, JSON
header, data) as scripts/make_packed_fixtures.py does; total_size is
safetensors' definition, the sum of every tensor's data bytes.

    /usr/bin/python3 scripts/make_folder_fixtures.py [--out DIR]
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import save_safetensors  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def nbytes(t):
    return t.numel() * t.element_size()


def write_index(path, shards, total_size=None, extra=None):
    weight_map = {name: fname for fname, tensors in shards for name in tensors}
    weight_map.update(extra or {})
    if total_size is None:
        total_size = sum(nbytes(t) for _, tensors in shards for t in tensors.values())
    with open(path, "w") as f:
        json.dump({"metadata": {"total_size": total_size}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")


def llama_shards(ext):
    sd = torch.load(REPO / "fixtures/arch/llama_tiny.pt", map_location="cpu")
    sd = {k: v for k, v in sd.items() if not k.endswith("inv_freq")}
    parts = [lambda k: k.startswith("model.embed_tokens") or k.startswith("model.layers.0."),
             lambda k: k.startswith("model.layers.1."),
             lambda k: k.startswith("model.norm") or k.startswith("lm_head")]
    prefix = "model" if ext == "safetensors" else "pytorch_model"
    return [(f"{prefix}-{i + 1:05d}-of-00003.{ext}", {k: v for k, v in sd.items() if p(k)})
            for i, p in enumerate(parts)]


CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
          "intermediate_size": 176, "num_attention_heads": 4, "num_key_value_heads": 2,
          "num_hidden_layers": 2, "vocab_size": 1000, "torch_dtype": "float32"}


def shard_truth(shards):
    return [{"file": f, "tensors": len(t), "numel": sum(v.numel() for v in t.values()),
             "bytes": sum(nbytes(v) for v in t.values())} for f, t in shards]


def write_llama(out, ext):
    d = out / f"llama_{ext if ext == 'safetensors' else 'bin'}"
    d.mkdir()
    shards = llama_shards(ext)
    for fname, tensors in shards:
        if ext == "safetensors":
            save_safetensors(d / fname, tensors)
        else:
            torch.save(tensors, d / fname)
    write_index(d / ("model.safetensors.index.json" if ext == "safetensors" else "pytorch_model.bin.index.json"),
                shards)
    (d / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    files = shard_truth(shards)
    return d.name, {"tensors": sum(f["tensors"] for f in files), "numel": sum(f["numel"] for f in files),
                    "parameters": 220480, "tensor_bytes": sum(f["bytes"] for f in files),
                    "file_bytes": sum((d / f["file"]).stat().st_size for f in files),
                    "files": files, "problems": []}


# config.json disagreeing with the shapes: hidden_size and num_hidden_layers
# wrong, heads right; a torch_dtype and context length the files cannot say.
CONFIG_MISMATCH = {**CONFIG, "hidden_size": 128, "num_hidden_layers": 3, "torch_dtype": "bfloat16",
                   "max_position_embeddings": 256}


def write_config_mismatch(out):
    d = out / "llama_config_mismatch"
    d.mkdir()
    save_safetensors(d / "model.safetensors", {k: v for _, t in llama_shards("safetensors") for k, v in t.items()})
    (d / "config.json").write_text(json.dumps(CONFIG_MISMATCH, indent=2) + "\n")
    return d.name, {"config": CONFIG_MISMATCH, "problems": []}


def tiny(*names):
    g = torch.Generator().manual_seed(len(names[0]))
    return {n: torch.randn(2, 3, generator=g) for n in names}


A, B = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"


def write_bad(out, name, shards, problems, on_disk=None, total_size=None, extra=None):
    d = out / name
    d.mkdir()
    for fname, tensors in (on_disk if on_disk is not None else shards):
        save_safetensors(d / fname, tensors)
    write_index(d / "model.safetensors.index.json", shards, total_size, extra)
    return name, {"problems": problems}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "fixtures/folders"))
    out = Path(ap.parse_args().out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    truth = dict([write_llama(out, "safetensors"), write_llama(out, "bin")])
    a, b = tiny("a.weight", "a.bias"), tiny("b.weight", "b.bias")
    good = [(A, a), (B, b)]
    total = sum(nbytes(t) for _, s in good for t in s.values())
    truth.update([
        write_bad(out, "bad_entry", good, [f"index: c.weight is mapped to {A}, which does not hold it"],
                  extra={"c.weight": A}),
        write_bad(out, "bad_duplicate", good, [f"index: a.weight is stored in 2 files: {A}, {B}"],
                  on_disk=[(A, a), (B, {**b, "a.weight": a["a.weight"]})]),
        write_bad(out, "bad_missing", good, [f"index: {B} is named by the index but missing"],
                  on_disk=[(A, a)]),
        write_bad(out, "bad_unreferenced", good,
                  ["index: extra.safetensors is in the folder but the index names none of its tensors"],
                  on_disk=good + [("extra.safetensors", tiny("e.weight"))]),
        write_bad(out, "bad_total", good,
                  [f"index: metadata.total_size is {total + 4} but the shards' tensors hold {total} bytes"],
                  total_size=total + 4),
    ])
    truth.update([write_config_mismatch(out)])
    (out / "expected.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
