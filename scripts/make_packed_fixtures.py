#!/usr/bin/python3
"""Generate fixtures/packed/: quantized checkpoints in each packed layout
ptscope recognises, with their truth in expected.json.

The model is fixtures/arch/llama_tiny.pt (a LLaMA-like state_dict: 2 layers,
hidden 64, ffn 176, vocab 1000; 220,480 parameters). Each layout quantizes its
seven Linear weights per layer (q/k/v/o, gate/up/down) with a small
re-implementation of the layout's own packing, keeps embeddings, norms and
lm_head in float16 and the inv_freq buffers in float32, and is saved both by
torch.save (.pt) and as safetensors (written by hand: 8-byte little-endian
header length, JSON header, data). The layouts, from their writers:

  gptq      AutoGPTQ auto_gptq/nn_modules/qlinear/qlinear_cuda.py QuantLinear.pack
            (4 bits, group 16, g_idx, zeros stored minus one)
  awq       AutoAWQ awq/modules/linear/gemm.py WQLinear_GEMM.from_linear
            (4 bits, group 16, order [0, 2, 4, 6, 1, 3, 5, 7])
  bnb_nf4   bitsandbytes bitsandbytes/functional.py quantize_4bit and
            QuantState.as_dict(packed=True); transformers
            integrations/bitsandbytes.py (blocksize 64, nested statistics;
            the nested 8-bit map here is linear, not bitsandbytes' dynamic
            map: ptscope reads names, dtypes, shapes and the quant state only)
  bnb_int8  bitsandbytes bitsandbytes/nn/modules.py Linear8bitLt
            _save_to_state_dict (weight int8, SCB, weight_format)
  compressed  compressed-tensors compressors/quantized_compressors/
            pack_quantized.py pack_to_int32 (4 bits, symmetric, group 16,
            weight_shape holds the original shape)
  mxfp4     transformers integrations/mxfp4.py (gpt-oss experts): a separate
            tiny MoE block (2 experts, hidden 64, expert width 32) whose
            gate_up_proj / down_proj are stored as _blocks / _scales

Truth: the unquantized model's sum(p.numel() for p in parameters) and each
logical weight's shape as nn.Linear (or GptOssExperts) holds it; the stored
bytes of each layout's tensors. Deterministic: seeded, torch.save's zip
writer and the safetensors writer write the same bytes each run.

    /usr/bin/python3 scripts/make_packed_fixtures.py [--out DIR]
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import save_safetensors  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
GROUP = 16


def llama_state():
    sd = torch.load(REPO / "fixtures/arch/llama_tiny.pt", map_location="cpu")
    params = sum(v.numel() for k, v in sd.items() if not k.endswith("inv_freq"))
    return sd, params


def quantized_names(sd):
    return [k[:-len(".weight")] for k in sd
            if k.endswith(".weight") and any(k.endswith(l + ".weight") for l in LINEARS)]


def pack_int32(vals, axis):
    """8 four-bit values into each int32 along `axis`, value j at bits 4*j."""
    vals = np.moveaxis(vals.astype(np.uint32), axis, -1)
    shape = vals.shape[:-1] + (vals.shape[-1] // 8, 8)
    v = vals.reshape(shape)
    out = np.zeros(shape[:-1], dtype=np.uint32)
    for j in range(8):
        out |= v[..., j] << np.uint32(4 * j)
    return torch.from_numpy(np.moveaxis(out, -1, axis).copy().view(np.int32))


def asym_groups(w):
    """Per group of GROUP input columns: scale and zero for 4-bit [0, 15]."""
    out, inp = w.shape
    g = w.reshape(out, inp // GROUP, GROUP)
    lo, hi = g.amin(-1).clamp(max=0), g.amax(-1).clamp(min=0)
    scale = ((hi - lo) / 15).clamp(min=1e-8)
    zero = torch.round(-lo / scale)
    q = torch.clamp(torch.round(g / scale[..., None]) + zero[..., None], 0, 15).reshape(out, inp)
    return q.to(torch.int64), scale.t().contiguous(), zero.t().contiguous().to(torch.int64)  # [G, out]


def gptq(w, p):
    # qlinear_cuda.py: qweight [in // 32 * bits, out], qzeros [groups, out // 32 * bits]
    q, scale, zero = asym_groups(w)
    g_idx = torch.tensor([i // GROUP for i in range(w.shape[1])], dtype=torch.int32)
    return {p + ".qweight": pack_int32(q.t().numpy(), 0),
            p + ".qzeros": pack_int32((zero - 1).clamp(min=0).numpy(), 1),
            p + ".scales": scale.half(), p + ".g_idx": g_idx}


AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]


def awq(w, p):
    # gemm.py: qweight [in, out // (32 // w_bit)], packed in AWQ_ORDER
    q, scale, zero = asym_groups(w)
    def pack(v):  # v [rows, out]
        v = v.reshape(v.shape[0], -1, 8)[..., AWQ_ORDER].reshape(v.shape[0], -1)
        return pack_int32(v.numpy(), 1)
    return {p + ".qweight": pack(q.t().contiguous()), p + ".qzeros": pack(zero),
            p + ".scales": scale.half()}


NF4 = torch.tensor([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                    0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                    0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                    0.7229568362236023, 1.0])


def bnb_nf4(w, p):
    # functional.py quantize_4bit: blockwise absmax, two codes a byte (first in
    # the high nibble), weight [ceil(n / 2), 1]; as_dict(packed=True) with
    # compress_statistics: absmax quantized again in blocks of 256.
    flat = w.flatten()
    blocks = flat.reshape(-1, 64)
    absmax = blocks.abs().amax(1).clamp(min=1e-8)
    codes = (blocks / absmax[:, None])[..., None].sub(NF4).abs().argmin(-1).flatten().to(torch.uint8)
    packed = ((codes[0::2] << 4) | codes[1::2]).reshape(-1, 1)
    offset = absmax.mean().item()
    centred = absmax - offset
    nested_absmax = centred.reshape(-1).abs().max().reshape(1).clamp(min=1e-8)
    nested_map = torch.linspace(-1, 1, 256)
    absmax_q = torch.round((centred / nested_absmax + 1) * 127.5).clamp(0, 255).to(torch.uint8)
    state = {"quant_type": "nf4", "blocksize": 64, "dtype": "float16", "shape": list(w.shape),
             "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": round(offset, 6)}
    blob = torch.tensor(list(json.dumps(state).encode()), dtype=torch.uint8)
    return {p + ".weight": packed, p + ".weight.absmax": absmax_q,
            p + ".weight.quant_map": NF4.clone(),
            p + ".weight.nested_absmax": nested_absmax.float(),
            p + ".weight.nested_quant_map": nested_map,
            p + ".weight.quant_state.bitsandbytes__nf4": blob}


def bnb_int8(w, p):
    # Linear8bitLt: row-wise absmax SCB, weight int8 [out, in], weight_format 0-d uint8
    scb = w.abs().amax(1).clamp(min=1e-8)
    q = torch.round(w * 127 / scb[:, None]).clamp(-127, 127).to(torch.int8)
    return {p + ".weight": q, p + ".SCB": scb.float(),
            p + ".weight_format": torch.tensor(0, dtype=torch.uint8)}


def compressed(w, p):
    # pack_quantized.py: int4 symmetric shifted to unsigned, pack_to_int32 along in
    out, inp = w.shape
    g = w.reshape(out, inp // GROUP, GROUP)
    scale = (g.abs().amax(-1) / 7).clamp(min=1e-8)
    q = torch.clamp(torch.round(g / scale[..., None]), -8, 7).reshape(out, inp).to(torch.int64) + 8
    return {p + ".weight_packed": pack_int32(q.numpy(), 1), p + ".weight_scale": scale.half(),
            p + ".weight_shape": torch.tensor([out, inp], dtype=torch.int64)}


SCHEMES = {
    "gptq": (gptq, "gptq", 4), "awq": (awq, "awq", 4), "bnb_nf4": (bnb_nf4, "bitsandbytes nf4", 4),
    "bnb_int8": (bnb_int8, "bitsandbytes int8", 8),
    "compressed": (compressed, "compressed-tensors pack-quantized", 4),
}


FP4 = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
                    -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0])


def mxfp4_pack(w):
    """w [E, in, out] as GptOssExperts holds it; stored rows are out:
    blocks [E, out, in / 32, 16], scales [E, out, in / 32] (e8m0, bias 127);
    convert_moe_packed_tensors reads the low nibble first."""
    rows = w.transpose(1, 2).contiguous()
    e, r, inp = rows.shape
    g = rows.reshape(e, r, inp // 32, 32)
    exp = torch.ceil(torch.log2(g.abs().amax(-1).clamp(min=1e-8) / 6)).clamp(-127, 127)
    scaled = g / torch.pow(2.0, exp)[..., None]
    codes = scaled[..., None].sub(FP4).abs().argmin(-1).to(torch.uint8)
    blocks = (codes[..., 0::2] | (codes[..., 1::2] << 4)).contiguous()
    return blocks, (exp + 127).to(torch.uint8)


def mxfp4_model():
    torch.manual_seed(11)
    e, hidden, inter = 2, 64, 32
    params = {
        "model.layers.0.mlp.router.weight": torch.randn(e, hidden) * 0.02,
        "model.layers.0.mlp.router.bias": torch.zeros(e),
        "model.layers.0.mlp.experts.gate_up_proj": torch.randn(e, hidden, 2 * inter) * 0.02,
        "model.layers.0.mlp.experts.gate_up_proj_bias": torch.zeros(e, 2 * inter),
        "model.layers.0.mlp.experts.down_proj": torch.randn(e, inter, hidden) * 0.02,
        "model.layers.0.mlp.experts.down_proj_bias": torch.zeros(e, hidden),
    }
    truth = sum(v.numel() for v in params.values())
    sd, logical, stored = {}, {}, {}
    for k, v in params.items():
        if k.endswith("_proj"):
            blocks, scales = mxfp4_pack(v)
            sd[k + "_blocks"], sd[k + "_scales"] = blocks, scales
            logical[k] = list(v.shape)
            stored[k] = blocks.numel() + scales.numel()
        else:
            sd[k] = v.bfloat16()
    return sd, truth, logical, stored


def save_both(out, stem, sd, entry, expected):
    torch.save(sd, out / (stem + ".pt"))
    save_safetensors(out / (stem + ".safetensors"), {name: sd[name] for name in sorted(sd)}, {"format": "pt"})
    expected[stem + ".pt"] = entry
    expected[stem + ".safetensors"] = entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "fixtures/packed"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    base, truth = llama_state()
    names = quantized_names(base)
    expected = {}
    for stem, (fn, scheme, bits) in SCHEMES.items():
        sd, logical, stored_bytes = {}, {}, 0
        for k, v in base.items():
            p = k[:-len(".weight")]
            if p in names:
                parts = fn(v.float(), p)
                sd.update(parts)
                logical[k] = list(v.shape)
                stored_bytes += sum(t.numel() * t.element_size() for t in parts.values())
            else:
                sd[k] = v if k.endswith("inv_freq") else v.half()
        entry = {"scheme": scheme, "bits": bits, "parameters": truth, "logical": logical,
                 "quantized_numel": sum(int(np.prod(s)) for s in logical.values()),
                 "stored_bytes": stored_bytes,
                 "config": {"family": "llama", "layers": 2, "hidden": 64, "ffn": 176, "vocab": 1000}}
        save_both(out, "llama_tiny_" + stem, sd, entry, expected)
    sd, mtruth, logical, stored = mxfp4_model()
    entry = {"scheme": "mxfp4", "bits": 4, "parameters": mtruth, "logical": logical,
             "quantized_numel": sum(int(np.prod(s)) for s in logical.values()),
             "stored_bytes": sum(stored.values()), "config": None}
    save_both(out, "gpt_oss_mxfp4", sd, entry, expected)
    with open(out / "expected.json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
