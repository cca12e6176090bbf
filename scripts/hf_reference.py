#!/usr/bin/python3
"""Reference forwards for the state_dict families `ptscope profile` builds,
written with Debian's torch 1.13 (transformers is not installed here), and
the tiny fixtures they are checked on.

The equations are those of Hugging Face transformers v4.39 (commit
002272831fba584eb30dca9729c1be456836960a), file by file:

  * LLaMA family, src/transformers/models/llama/modeling_llama.py:
    LlamaRMSNorm.forward (variance in float32, x * rsqrt(var + eps), then
    weight * x.to(input dtype)); LlamaRotaryEmbedding (inv_freq = 1 /
    base ** (arange(0, dim, 2) / dim), freqs = inv_freq @ positions,
    emb = cat(freqs, freqs), cos/sin); rotate_half and apply_rotary_pos_emb
    (q * cos + rotate_half(q) * sin); repeat_kv (expand then reshape);
    LlamaAttention.forward (matmul(q, k^T) / sqrt(head_dim) + causal mask,
    softmax in float32, matmul with v, o_proj); LlamaMLP (down_proj(
    silu(gate_proj(x)) * up_proj(x))); LlamaDecoderLayer (pre-norm
    residuals); LlamaModel (embed_tokens, layers, norm) and
    LlamaForCausalLM.lm_head.
  * GPT-2, src/transformers/models/gpt2/modeling_gpt2.py: Conv1D
    (addmm(bias, x, weight), weight [in, out]); GPT2Attention (c_attn split
    in three, _split_heads, _attn: matmul(q, k^T) / sqrt(head_dim),
    where(causal bias, w, finfo.min), softmax, matmul with v, _merge_heads,
    c_proj); GPT2MLP (c_fc, NewGELUActivation = 0.5 x (1 + tanh(sqrt(2/pi)
    (x + 0.044715 x^3))), c_proj); GPT2Block; GPT2Model (wte + wpe, ln_f) and
    GPT2LMHeadModel.lm_head (tied to wte).

Dropout is the identity (eval), as in `ptscope profile`'s forward.

    /usr/bin/python3 scripts/hf_reference.py fixtures [OUTDIR]   (default fixtures/profile_sd)
    /usr/bin/python3 scripts/hf_reference.py compare FAMILY FOLDER IO_FILE
    /usr/bin/python3 scripts/hf_reference.py macs FAMILY FOLDER BATCH SEQ

`fixtures` writes llama_gqa/ and gpt2_tiny/ (pytorch_model.bin, config.json,
expected.pt with the input ids and logits, seed 0). `compare` loads the
inputs and output `ptscope profile --save-io` wrote, runs the reference on
the same inputs, and prints the largest absolute difference of the logits,
and of the inputs against expected.pt's. `macs` prints the hand count:
linears, QK^T, AV and the LM head.
"""

import json
import math
import sys
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent

LLAMA_CONFIG = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
                "intermediate_size": 96, "num_hidden_layers": 2, "vocab_size": 64, "rms_norm_eps": 1e-5,
                "rope_theta": 500000.0, "max_position_embeddings": 64, "tie_word_embeddings": False}
GPT2_CONFIG = {"model_type": "gpt2", "n_embd": 64, "n_head": 4, "n_layer": 2, "n_positions": 32,
               "vocab_size": 64, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
BATCH, SEQ = 2, 16


# ---- LLaMA (modeling_llama.py) ----

def rms_norm(x, weight, eps):
    dtype = x.dtype
    x = x.to(torch.float32)
    variance = x.pow(2).mean(-1, keepdim=True)
    x = x * torch.rsqrt(variance + eps)
    return weight * x.to(dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(x, n_rep):
    b, kvh, s, d = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, kvh, n_rep, s, d).reshape(b, kvh * n_rep, s, d)


def llama_forward(sd, cfg, ids):
    E, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D, eps = E // H, cfg["rms_norm_eps"]
    B, S = ids.shape
    h = torch.nn.functional.embedding(ids, sd["model.embed_tokens.weight"])
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    pos = torch.arange(S)[None, :].float()
    freqs = (inv_freq[None, :, None].expand(B, -1, 1) @ pos[:, None, :].expand(B, 1, S)).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    mask = torch.triu(torch.full((S, S), torch.finfo(h.dtype).min), diagonal=1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        lin = lambda name, x: torch.nn.functional.linear(x, sd[p + name + ".weight"], sd.get(p + name + ".bias"))
        x = rms_norm(h, sd[p + "input_layernorm.weight"], eps)
        q = lin("self_attn.q_proj", x).view(B, S, H, D).transpose(1, 2)
        k = lin("self_attn.k_proj", x).view(B, S, KV, D).transpose(1, 2)
        v = lin("self_attn.v_proj", x).view(B, S, KV, D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, H // KV), repeat_kv(v, H // KV)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(D) + mask
        w = torch.nn.functional.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        a = torch.matmul(w, v).transpose(1, 2).contiguous().reshape(B, S, H * D)
        h = h + lin("self_attn.o_proj", a)
        x = rms_norm(h, sd[p + "post_attention_layernorm.weight"], eps)
        h = h + lin("mlp.down_proj", torch.nn.functional.silu(lin("mlp.gate_proj", x)) * lin("mlp.up_proj", x))
    h = rms_norm(h, sd["model.norm.weight"], eps)
    return torch.nn.functional.linear(h, sd.get("lm_head.weight", sd["model.embed_tokens.weight"])).float()


def llama_state_dict(cfg):
    E, H, KV, F, V = (cfg[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads",
                                       "intermediate_size", "vocab_size"))
    D = E // H
    g = torch.Generator().manual_seed(0)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.1
    sd = {"model.embed_tokens.weight": r(V, E)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        sd.update({p + "self_attn.q_proj.weight": r(H * D, E), p + "self_attn.k_proj.weight": r(KV * D, E),
                   p + "self_attn.v_proj.weight": r(KV * D, E), p + "self_attn.o_proj.weight": r(E, H * D),
                   p + "mlp.gate_proj.weight": r(F, E), p + "mlp.up_proj.weight": r(F, E),
                   p + "mlp.down_proj.weight": r(E, F),
                   p + "input_layernorm.weight": 1 + r(E), p + "post_attention_layernorm.weight": 1 + r(E)})
    sd["model.norm.weight"] = 1 + r(E)
    sd["lm_head.weight"] = r(V, E)
    return sd


def llama_macs(cfg, B, S):
    E, H, KV, F, V, L = (cfg[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads",
                                          "intermediate_size", "vocab_size", "num_hidden_layers"))
    D = E // H
    linears = E * H * D + 2 * E * KV * D + H * D * E + 3 * E * F   # q, k, v, o; gate, up, down
    attention = 2 * H * S * S * D                                   # QK^T and AV, per sample
    return B * S * (L * linears + E * V) + B * L * attention


# ---- GPT-2 (modeling_gpt2.py) ----

def new_gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_forward(sd, cfg, ids):
    E, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    D = E // H
    B, S = ids.shape
    t = "transformer."
    ln = lambda name, x: torch.nn.functional.layer_norm(x, (E,), sd[name + ".weight"], sd[name + ".bias"], eps)
    conv1d = lambda name, x: torch.addmm(sd[name + ".bias"], x.view(-1, x.size(-1)),
                                         sd[name + ".weight"]).view(*x.shape[:-1], -1)
    h = sd[t + "wte.weight"][ids] + sd[t + "wpe.weight"][torch.arange(S)][None]
    split = lambda x: x.view(B, S, H, D).permute(0, 2, 1, 3)
    for i in range(cfg["n_layer"]):
        p = f"{t}h.{i}."
        q, k, v = conv1d(p + "attn.c_attn", ln(p + "ln_1", h)).split(E, dim=2)
        q, k, v = split(q), split(k), split(v)
        w = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], v.size(-1) ** 0.5)
        causal = torch.tril(torch.ones(cfg["n_positions"], cfg["n_positions"], dtype=torch.bool))[:S, :S]
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min))
        w = torch.nn.functional.softmax(w, dim=-1).type(v.dtype)
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous().view(B, S, E)
        h = h + conv1d(p + "attn.c_proj", a)
        h = h + conv1d(p + "mlp.c_proj", new_gelu(conv1d(p + "mlp.c_fc", ln(p + "ln_2", h))))
    h = ln(t + "ln_f", h)
    return torch.nn.functional.linear(h, sd.get("lm_head.weight", sd[t + "wte.weight"]))


def gpt2_state_dict(cfg):
    E, L, P, V = cfg["n_embd"], cfg["n_layer"], cfg["n_positions"], cfg["vocab_size"]
    F = 4 * E
    g = torch.Generator().manual_seed(0)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.1
    t = "transformer."
    sd = {t + "wte.weight": r(V, E), t + "wpe.weight": r(P, E)}
    for i in range(L):
        p = f"{t}h.{i}."
        sd.update({p + "ln_1.weight": 1 + r(E), p + "ln_1.bias": r(E),
                   p + "attn.bias": torch.tril(torch.ones(P, P, dtype=torch.bool)).view(1, 1, P, P),
                   p + "attn.c_attn.weight": r(E, 3 * E), p + "attn.c_attn.bias": r(3 * E),
                   p + "attn.c_proj.weight": r(E, E), p + "attn.c_proj.bias": r(E),
                   p + "ln_2.weight": 1 + r(E), p + "ln_2.bias": r(E),
                   p + "mlp.c_fc.weight": r(E, F), p + "mlp.c_fc.bias": r(F),
                   p + "mlp.c_proj.weight": r(F, E), p + "mlp.c_proj.bias": r(E)})
    sd[t + "ln_f.weight"] = 1 + r(E)
    sd[t + "ln_f.bias"] = r(E)
    sd["lm_head.weight"] = sd[t + "wte.weight"]  # tied, as GPT2LMHeadModel saves it
    return sd


def gpt2_macs(cfg, B, S):
    E, H, L, V = cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg["vocab_size"]
    F, D = 4 * E, E // cfg["n_head"]
    linears = E * 3 * E + E * E + 2 * E * F   # c_attn, attn.c_proj, c_fc, mlp.c_proj
    return B * S * (L * linears + E * V) + B * L * 2 * H * S * S * D


FAMILIES = {"llama": (LLAMA_CONFIG, llama_state_dict, llama_forward, llama_macs),
            "gpt2": (GPT2_CONFIG, gpt2_state_dict, gpt2_forward, gpt2_macs)}
FOLDERS = {"llama": "llama_gqa", "gpt2": "gpt2_tiny"}


def write_fixtures(out):
    for family, (cfg, make, forward, _) in FAMILIES.items():
        folder = Path(out) / FOLDERS[family]
        folder.mkdir(parents=True, exist_ok=True)
        sd = make(cfg)
        torch.save(sd, folder / "pytorch_model.bin")
        (folder / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
        # ptscope draws token ids as at::randint(vocab, shape) after seed 0.
        torch.manual_seed(0)
        ids = torch.randint(cfg["vocab_size"], (BATCH, SEQ))
        with torch.no_grad():
            logits = forward(sd, cfg, ids)
        torch.save({"input_ids": ids, "logits": logits}, folder / "expected.pt")
        print(f"{folder}: {sum(v.numel() for k, v in sd.items() if v.is_floating_point())} numbers")


def compare(family, folder, io_file):
    cfg, _, forward, _ = FAMILIES[family]
    sd = torch.load(Path(folder) / "pytorch_model.bin")
    inputs, output = torch.load(io_file)
    with torch.no_grad():
        ref = forward(sd, cfg, inputs[0])
    expected = torch.load(Path(folder) / "expected.pt")
    same_ids = inputs[0].shape == expected["input_ids"].shape and bool((inputs[0] == expected["input_ids"]).all())
    print(json.dumps({"max_abs_diff": (output - ref).abs().max().item(),
                      "max_abs_diff_expected": (output - expected["logits"]).abs().max().item() if same_ids else None,
                      "same_ids_as_expected": same_ids}))


def main(argv):
    if argv[:1] == ["fixtures"]:
        write_fixtures(argv[1] if len(argv) > 1 else REPO_ROOT / "fixtures" / "profile_sd")
    elif argv[:1] == ["compare"] and len(argv) == 4:
        compare(argv[1], argv[2], argv[3])
    elif argv[:1] == ["macs"] and len(argv) == 5:
        cfg = json.loads((Path(argv[2]) / "config.json").read_text())
        print(FAMILIES[argv[1]][3](cfg, int(argv[3]), int(argv[4])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
