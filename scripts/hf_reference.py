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
  * BERT, src/transformers/models/bert/modeling_bert.py: BertEmbeddings
    (word + token_type (the zeros buffer) embeddings, += absolute position
    embeddings, LayerNorm); BertModel.get_extended_attention_mask of the
    all-ones default mask ((1 - mask) * finfo.min, zeros);
    BertSelfAttention (transpose_for_scores, matmul(q, k^T) /
    sqrt(head_size) + mask, softmax, matmul with v, permute, view);
    BertSelfOutput / BertOutput (dense, LayerNorm(x + input_tensor));
    BertIntermediate (dense, GELUActivation: the exact erf gelu); BertPooler
    (dense on token 0, tanh); BertLMPredictionHead (transform: dense, gelu,
    LayerNorm; decoder tied to the word embeddings, + cls.predictions.bias).
  * RoBERTa, src/transformers/models/roberta/modeling_roberta.py:
    RobertaEmbeddings with create_position_ids_from_input_ids (mask = ids !=
    padding_idx, cumsum(mask) * mask + padding_idx), the BERT encoder
    (RobertaSelfAttention etc. are copies of Bert's), RobertaLMHead (dense,
    gelu, layer_norm, decoder tied to the word embeddings, + lm_head.bias).
    The heads a checkpoint has follow config.json's `architectures`
    (BertForPreTraining: pooler, MLM and NSP heads; RobertaForMaskedLM: MLM
    head, no pooler). The forward is BertForMaskedLM's / RobertaForMaskedLM's
    when there is an MLM head: the MLM logits, the pooler not run (their
    BertModel has add_pooling_layer=False); else BertModel's: the last hidden
    state, with the pooled output beside it, (last_hidden_state,
    pooler_output), when the state_dict has the pooler.

Dropout is the identity (eval), as in `ptscope profile`'s forward.

    /usr/bin/python3 scripts/hf_reference.py fixtures [OUTDIR]   (default fixtures/profile_sd)
    /usr/bin/python3 scripts/hf_reference.py compare FAMILY FOLDER IO_FILE
    /usr/bin/python3 scripts/hf_reference.py macs FAMILY FOLDER BATCH SEQ

`fixtures` writes llama_gqa/, gpt2_tiny/, bert_tiny/ and roberta_tiny/
(pytorch_model.bin, config.json,
expected.pt with the input ids and logits, seed 0). `compare` loads the
inputs and output `ptscope profile --save-io` wrote, runs the reference on
the same inputs, and prints the largest absolute difference of the logits,
and of the inputs against expected.pt's. `macs` prints the hand count:
linears, QK^T, AV and the LM head (BERT: the MLM head's transform and decoder, or without
that head the pooler).
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
BERT_CONFIG = {"model_type": "bert", "architectures": ["BertForPreTraining"], "hidden_size": 32,
               "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 64, "vocab_size": 64,
               "max_position_embeddings": 32, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
# RoBERTa's table holds padding_idx + 1 more rows than the longest input (roberta-base: 514 for 512).
ROBERTA_CONFIG = {"model_type": "roberta", "architectures": ["RobertaForMaskedLM"], "hidden_size": 32,
                  "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 64, "vocab_size": 64,
                  "max_position_embeddings": 18, "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1,
                  "hidden_act": "gelu"}
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


# ---- BERT (modeling_bert.py) and RoBERTa (modeling_roberta.py) ----

def bert_heads(cfg):
    """(pooler saved, MLM head) of the config's architecture."""
    arch = (cfg.get("architectures") or ["BertModel"])[0]
    return arch.endswith(("Model", "ForPreTraining")), arch.endswith(("ForMaskedLM", "ForPreTraining"))


def bert_forward(sd, cfg, ids):
    roberta = cfg["model_type"] == "roberta"
    t = "roberta." if roberta else "bert."
    E, H, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-12)
    D = E // H
    B, S = ids.shape
    fn = torch.nn.functional
    ln = lambda name, x: fn.layer_norm(x, (E,), sd[name + ".weight"], sd[name + ".bias"], eps)
    lin = lambda name, x: fn.linear(x, sd[name + ".weight"], sd[name + ".bias"])
    if roberta:  # create_position_ids_from_input_ids, no past key values
        pad = cfg.get("pad_token_id", 1)
        mask = ids.ne(pad).int()
        position_ids = (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + pad
    else:
        position_ids = torch.arange(S)[None, :]
    token_type_ids = torch.zeros(B, S, dtype=torch.long)
    h = fn.embedding(ids, sd[t + "embeddings.word_embeddings.weight"]) + \
        fn.embedding(token_type_ids, sd[t + "embeddings.token_type_embeddings.weight"])
    h += fn.embedding(position_ids, sd[t + "embeddings.position_embeddings.weight"])
    h = ln(t + "embeddings.LayerNorm", h)
    extended = torch.ones(B, S)[:, None, None, :].to(h.dtype)
    extended = (1.0 - extended) * torch.finfo(h.dtype).min
    split = lambda x: x.view(B, S, H, D).permute(0, 2, 1, 3)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{t}encoder.layer.{i}."
        q = split(lin(p + "attention.self.query", h))
        k = split(lin(p + "attention.self.key", h))
        v = split(lin(p + "attention.self.value", h))
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D) + extended
        w = fn.softmax(w, dim=-1)
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous().view(B, S, E)
        a = ln(p + "attention.output.LayerNorm", lin(p + "attention.output.dense", a) + h)
        h = ln(p + "output.LayerNorm", lin(p + "output.dense", fn.gelu(lin(p + "intermediate.dense", a))) + a)
    _, mlm = bert_heads(cfg)
    if not mlm:
        if t + "pooler.dense.weight" not in sd:
            return h
        return h, torch.tanh(lin(t + "pooler.dense", h[:, 0]))
    head, transform, norm = ("lm_head", "lm_head", "lm_head.layer_norm") if roberta else \
        ("cls.predictions", "cls.predictions.transform", "cls.predictions.transform.LayerNorm")
    x = ln(norm, fn.gelu(lin(transform + ".dense", h)))
    return fn.linear(x, sd[t + "embeddings.word_embeddings.weight"], sd[head + ".bias"])


def bert_state_dict(cfg):
    roberta = cfg["model_type"] == "roberta"
    E, F, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    P, T = cfg["max_position_embeddings"], cfg["type_vocab_size"]
    g = torch.Generator().manual_seed(0)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.1
    t = "roberta." if roberta else "bert."
    e = t + "embeddings."
    sd = {e + "word_embeddings.weight": r(V, E), e + "position_embeddings.weight": r(P, E),
          e + "token_type_embeddings.weight": r(T, E), e + "LayerNorm.weight": 1 + r(E), e + "LayerNorm.bias": r(E)}
    for i in range(L):
        p = f"{t}encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            sd.update({p + name + ".weight": r(E, E), p + name + ".bias": r(E)})
        sd.update({p + "attention.output.LayerNorm.weight": 1 + r(E), p + "attention.output.LayerNorm.bias": r(E),
                   p + "intermediate.dense.weight": r(F, E), p + "intermediate.dense.bias": r(F),
                   p + "output.dense.weight": r(E, F), p + "output.dense.bias": r(E),
                   p + "output.LayerNorm.weight": 1 + r(E), p + "output.LayerNorm.bias": r(E)})
    pooler, mlm = bert_heads(cfg)
    if pooler:
        sd.update({t + "pooler.dense.weight": r(E, E), t + "pooler.dense.bias": r(E)})
    if mlm:  # as the model's state_dict() holds it: the decoder's weight and bias tied, saved once each
        head, transform, norm = ("lm_head", "lm_head", "lm_head.layer_norm") if roberta else \
            ("cls.predictions", "cls.predictions.transform", "cls.predictions.transform.LayerNorm")
        sd.update({head + ".bias": r(V), transform + ".dense.weight": r(E, E), transform + ".dense.bias": r(E),
                   norm + ".weight": 1 + r(E), norm + ".bias": r(E)})
        sd[head + ".decoder.weight"] = sd[e + "word_embeddings.weight"]
        sd[head + ".decoder.bias"] = sd[head + ".bias"]
    if not roberta and (cfg.get("architectures") or [""])[0].endswith("ForPreTraining"):
        sd.update({"cls.seq_relationship.weight": r(2, E), "cls.seq_relationship.bias": r(2)})
    return sd


def bert_macs(cfg, B, S):
    E, H, L, V, F = (cfg[k] for k in ("hidden_size", "num_attention_heads", "num_hidden_layers", "vocab_size",
                                      "intermediate_size"))
    D = E // H
    pooler, mlm = bert_heads(cfg)
    linears = 4 * E * E + 2 * E * F   # query, key, value, attention.output.dense; intermediate, output
    head = E * E + E * V if mlm else 0   # transform.dense, decoder
    return B * S * (L * linears + head) + B * L * 2 * H * S * S * D + (B * E * E if pooler and not mlm else 0)


FAMILIES = {"llama": (LLAMA_CONFIG, llama_state_dict, llama_forward, llama_macs),
            "gpt2": (GPT2_CONFIG, gpt2_state_dict, gpt2_forward, gpt2_macs),
            "bert": (BERT_CONFIG, bert_state_dict, bert_forward, bert_macs),
            "roberta": (ROBERTA_CONFIG, bert_state_dict, bert_forward, bert_macs)}
FOLDERS = {"llama": "llama_gqa", "gpt2": "gpt2_tiny", "bert": "bert_tiny", "roberta": "roberta_tiny"}


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
