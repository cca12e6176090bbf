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
  * T5 (T5, v1.1 / Flan-T5, T5EncoderModel),
    src/transformers/models/t5/modeling_t5.py: T5LayerNorm.forward
    (variance of x.to(float32).pow(2) over the last axis, no mean, no bias,
    x * rsqrt(var + eps), cast to the weight's dtype when half, weight * x);
    T5Attention._relative_position_bucket (bidirectional: half the buckets
    per sign; max_exact = buckets // 2 exact ones, then log-spaced ones up to
    max_distance, capped at buckets - 1), compute_bias (embedding of
    bucket(memory - query) into [1, heads, q, k]) and forward (q, k, v, o
    without bias; scores = matmul(q, k^T) with no 1/sqrt(d); scores +=
    position_bias + mask; softmax(scores.float()).type_as(scores); matmul
    with v); the bias from block 0 only (has_relative_attention_bias), reused
    by the stack's later blocks, zeros for EncDecAttention;
    ModuleUtilsMixin.get_extended_attention_mask ((1 - mask) * finfo.min,
    causal in the decoder); T5DenseActDense (wo(act(wi(x)))) and
    T5DenseGatedActDense (wo(act(wi_0(x)) * wi_1(x))), act from
    T5Config.feed_forward_proj ("gated-gelu" is gelu_new); T5LayerFF,
    T5LayerSelfAttention, T5LayerCrossAttention (pre-norm residuals); T5Stack
    (embed_tokens = shared, final_layer_norm); T5ForConditionalGeneration
    (decoder output * d_model ** -0.5 when tie_word_embeddings, then
    lm_head). Inputs: input_ids and decoder_input_ids (the encoder's ids when
    only one is given, as `ptscope profile` does with one --input).

  * Mixtral, src/transformers/models/mixtral/modeling_mixtral.py:
    MixtralSparseMoeBlock.forward (router_logits = gate(x); softmax over the
    experts in float; topk; divided by their sum; cast back; per expert the
    tokens one_hot(selected).permute(2, 1, 0) routes to it, torch.where,
    expert(x[top_x]) * routing_weights[top_x, idx, None], index_add_ into
    zeros); MixtralBlockSparseTop2MLP (w2(silu(w1(x)) * w3(x))); attention,
    norms and head as LLaMA's (MixtralAttention is Mistral's, eager).
  * Qwen2-MoE, src/transformers/models/qwen2_moe/modeling_qwen2_moe.py
    (added in v4.40; v4.39 has no Qwen2-MoE):
    Qwen2MoeSparseMoeBlock.forward (the same routing, divided by the sum
    only when norm_topk_prob, default False; + sigmoid(shared_expert_gate(x))
    * shared_expert(x), a Qwen2MoeMLP); Qwen2MoeDecoderLayer (a dense
    Qwen2MoeMLP of intermediate_size in mlp_only_layers or off
    decoder_sparse_step); Qwen2MoeAttention with q/k/v biases. moe_forward
    also reports how many tokens each expert got, from which moe_macs
    counts MACs for the routing that happened.

The LLaMA family's rope_scaling and sliding window follow
src/transformers/modeling_rope_utils.py and modeling_attn_mask_utils.py
(rope_parameters, causal_mask below). Dropout is the identity (eval), as in
`ptscope profile`'s forward (its --train step applies it, unchecked against
a reference: the masks are random).

    /usr/bin/python3 scripts/hf_reference.py fixtures [OUTDIR]   (default fixtures/profile_sd)
    /usr/bin/python3 scripts/hf_reference.py compare FAMILY FOLDER IO_FILE
    /usr/bin/python3 scripts/hf_reference.py macs FAMILY FOLDER BATCH SEQ [DECODER_SEQ]
    /usr/bin/python3 scripts/hf_reference.py t5-fixture OUTDIR [gated|relu-tied|encoder]

`fixtures` writes llama_gqa/, gpt2_tiny/, bert_tiny/, roberta_tiny/, mixtral_tiny/ and qwen2_moe_tiny/
(pytorch_model.bin, config.json,
expected.pt with the input ids and logits, seed 0). `compare` loads the
inputs and output `ptscope profile --save-io` wrote, runs the reference on
the same inputs, and prints the largest absolute difference of the logits,
and of the inputs against expected.pt's. `macs` prints the hand count:
linears, QK^T, AV and the LM head (BERT: the MLM head's transform and decoder, or without
that head the pooler). `t5-fixture` writes one T5 variant's
folder (fixtures/profile_sd/t5_tiny is the gated one, Flan-T5's layout with
an untied head; relu-tied is T5 v1.0's; encoder is a T5EncoderModel), with
expected.pt holding input_ids (BATCH x SEQ), decoder_input_ids (BATCH x
T5_DECODER_SEQ) and the logits.
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


def rope_parameters(cfg, dim, seq_len):
    """(inv_freq, attention_scaling) as modeling_rope_utils.py (commit 0044e3b) computes
    them for config.rope_scaling's rope_type (or "type"): the default,
    _compute_linear_scaling_rope_parameters, _compute_dynamic_ntk_parameters
    (with LlamaRotaryEmbedding._dynamic_frequency_update's seq_len = max
    position + 1), _compute_llama3_parameters, _compute_yarn_parameters."""
    base = cfg.get("rope_theta", 10000.0)
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    default = lambda b: 1.0 / (b ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if kind == "default":
        return default(base), 1.0
    factor = scaling["factor"]
    if kind == "linear":
        return default(base) / factor, 1.0
    if kind == "dynamic":
        max_pos = cfg["max_position_embeddings"]
        seq = seq_len if seq_len > max_pos else max_pos
        return default(base * ((factor * seq / max_pos) - (factor - 1)) ** (dim / (dim - 2))), 1.0
    if kind == "llama3":
        inv_freq = default(base)
        old, low, high = (scaling[k] for k in ("original_max_position_embeddings", "low_freq_factor",
                                                "high_freq_factor"))
        wavelen = 2 * math.pi / inv_freq
        banded = torch.where(wavelen > old / low, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * banded / factor + smooth * banded
        medium = ~(wavelen < old / high) * ~(wavelen > old / low)
        return torch.where(medium, smoothed, banded), 1.0
    if kind == "yarn":
        max_pos = cfg["max_position_embeddings"]
        attention = scaling.get("attention_factor") or 0.1 * math.log(factor) + 1.0
        fast, slow = scaling.get("beta_fast") or 32, scaling.get("beta_slow") or 1
        turns = lambda n: (dim * math.log(max_pos / (n * 2 * math.pi))) / (2 * math.log(base))
        low, high = max(math.floor(turns(fast)), 0), min(math.ceil(turns(slow)), dim - 1)
        if low == high:
            high += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
        pos_freqs = base ** (torch.arange(0, dim, 2).float() / dim)
        keep = 1 - ramp  # the extrapolated (unscaled) share
        return (1.0 / (factor * pos_freqs)) * (1 - keep) + (1.0 / pos_freqs) * keep, attention
    raise ValueError(f"rope_type {kind!r}")


def causal_mask(cfg, S, dtype):
    """LlamaModel's causal mask; with a sliding window (Mistral, Qwen2 with
    use_sliding_window) AttentionMaskConverter._make_causal_mask
    (modeling_attn_mask_utils.py, commit 000b2cd) also masks
    tril(diagonal=-window - 1)."""
    mask = torch.triu(torch.full((S, S), torch.finfo(dtype).min), diagonal=1)
    window = cfg.get("sliding_window")
    used = cfg.get("use_sliding_window", cfg.get("model_type") != "qwen2")
    if window and used:
        far = torch.tril(torch.ones(S, S, dtype=torch.bool), diagonal=-window - 1)
        mask = mask.masked_fill(far, torch.finfo(dtype).min)
    return mask


def llama_forward(sd, cfg, ids, mlp=None):
    """mlp(prefix, x): a layer's MLP other than LlamaMLP (moe_forward's)."""
    E, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D, eps = E // H, cfg["rms_norm_eps"]
    B, S = ids.shape
    h = torch.nn.functional.embedding(ids, sd["model.embed_tokens.weight"])
    inv_freq, attention_scaling = rope_parameters(cfg, D, S)
    pos = torch.arange(S)[None, :].float()
    freqs = (inv_freq[None, :, None].expand(B, -1, 1) @ pos[:, None, :].expand(B, 1, S)).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = (emb.cos() * attention_scaling)[:, None], (emb.sin() * attention_scaling)[:, None]
    mask = causal_mask(cfg, S, h.dtype)
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
        if mlp is not None:
            h = h + mlp(p, x)
            continue
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


# ---- T5 (modeling_t5.py) ----

T5_CONFIG = {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "d_model": 32, "d_kv": 6,
             "d_ff": 48, "num_layers": 2, "num_decoder_layers": 2, "num_heads": 4,
             "relative_attention_num_buckets": 8, "relative_attention_max_distance": 16, "vocab_size": 64,
             "layer_norm_epsilon": 1e-6, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False,
             "is_encoder_decoder": True, "decoder_start_token_id": 0}
T5_DECODER_SEQ = 8


def t5_variant(variant):
    """gated: Flan-T5's layout (gated-gelu, untied head); relu-tied: T5
    v1.0's (relu, head tied to shared); encoder: T5EncoderModel (gated)."""
    cfg = dict(T5_CONFIG)
    if variant == "relu-tied":
        cfg.update(feed_forward_proj="relu", tie_word_embeddings=True)
    elif variant == "encoder":
        cfg.update(architectures=["T5EncoderModel"], num_decoder_layers=0, is_encoder_decoder=False)
    return cfg


def t5_activation(cfg):
    proj = cfg.get("feed_forward_proj", "relu")
    act = "gelu_new" if proj == "gated-gelu" else proj.split("-")[-1]
    return {"relu": torch.nn.functional.relu, "gelu": torch.nn.functional.gelu, "gelu_new": new_gelu,
            "silu": torch.nn.functional.silu}[act]


def t5_layer_norm(x, weight, eps):
    variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
    x = x * torch.rsqrt(variance + eps)
    if weight.dtype in (torch.float16, torch.bfloat16):
        x = x.to(weight.dtype)
    return weight * x


def t5_relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    relative_buckets = 0
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    if_large = max_exact + (torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact)
                            * (num_buckets - max_exact)).to(torch.long)
    if_large = torch.min(if_large, torch.full_like(if_large, num_buckets - 1))
    return relative_buckets + torch.where(is_small, relative_position, if_large)


def t5_compute_bias(table, query_length, key_length, bidirectional, max_distance):
    context_position = torch.arange(query_length, dtype=torch.long)[:, None]
    memory_position = torch.arange(key_length, dtype=torch.long)[None, :]
    buckets = t5_relative_position_bucket(memory_position - context_position, bidirectional, table.shape[0],
                                          max_distance)
    return torch.nn.functional.embedding(buckets, table).permute([2, 0, 1]).unsqueeze(0)


def t5_attention(sd, p, x, kv, position_bias, H, D):
    B = x.shape[0]
    shape = lambda t: t.view(B, -1, H, D).transpose(1, 2)
    lin = lambda name, t: torch.nn.functional.linear(t, sd[p + name + ".weight"])
    q, k, v = shape(lin("q", x)), shape(lin("k", kv)), shape(lin("v", kv))
    scores = torch.matmul(q, k.transpose(3, 2))
    scores += position_bias
    weights = torch.nn.functional.softmax(scores.float(), dim=-1).type_as(scores)
    out = torch.matmul(weights, v).transpose(1, 2).contiguous().view(B, -1, H * D)
    return lin("o", out)


def t5_clamp(h):  # T5Block: float16 kept short of infinity
    if h.dtype != torch.float16:
        return h
    limit = torch.where(torch.isinf(h).any(), torch.finfo(h.dtype).max - 1000, torch.finfo(h.dtype).max)
    return torch.clamp(h, min=-limit, max=limit)


def t5_stack(sd, cfg, name, ids, encoded=None):
    H, D, eps = cfg["num_heads"], cfg["d_kv"], cfg.get("layer_norm_epsilon", 1e-6)
    max_distance = cfg.get("relative_attention_max_distance", 128)
    decoder = encoded is not None
    layers = cfg["num_decoder_layers"] if decoder else cfg["num_layers"]
    act = t5_activation(cfg)
    gated = cfg.get("feed_forward_proj", "relu").startswith("gated-")
    B, S = ids.shape
    h = torch.nn.functional.embedding(ids, sd["shared.weight"])
    # get_extended_attention_mask with the default all-ones attention_mask.
    ones = torch.ones(B, S, dtype=h.dtype)
    if decoder:
        seq_ids = torch.arange(S)
        causal = (seq_ids[None, None, :].repeat(B, S, 1) <= seq_ids[None, :, None]).to(h.dtype)
        extended = causal[:, None, :, :] * ones[:, None, None, :]
    else:
        extended = ones[:, None, None, :]
    mask = (1.0 - extended) * torch.finfo(h.dtype).min
    position_bias = cross_bias = None
    for i in range(layers):
        p = f"{name}.block.{i}.layer."
        if position_bias is None:  # block 0's table
            position_bias = t5_compute_bias(sd[p + "0.SelfAttention.relative_attention_bias.weight"], S, S,
                                            not decoder, max_distance) + mask
        x = t5_layer_norm(h, sd[p + "0.layer_norm.weight"], eps)
        h = t5_clamp(h + t5_attention(sd, p + "0.SelfAttention.", x, x, position_bias, H, D))
        if decoder:
            if cross_bias is None:
                encoder_mask = (1.0 - torch.ones(B, encoded.shape[1], dtype=h.dtype)[:, None, None, :]) \
                    * torch.finfo(h.dtype).min
                cross_bias = torch.zeros(1, H, S, encoded.shape[1], dtype=h.dtype) + encoder_mask
            x = t5_layer_norm(h, sd[p + "1.layer_norm.weight"], eps)
            h = t5_clamp(h + t5_attention(sd, p + "1.EncDecAttention.", x, encoded, cross_bias, H, D))
        f = p + ("2." if decoder else "1.")
        x = t5_layer_norm(h, sd[f + "layer_norm.weight"], eps)
        lin = lambda n, t: torch.nn.functional.linear(t, sd[f + "DenseReluDense." + n + ".weight"])
        y = act(lin("wi_0", x)) * lin("wi_1", x) if gated else act(lin("wi", x))
        h = t5_clamp(h + lin("wo", y))
    return t5_layer_norm(h, sd[name + ".final_layer_norm.weight"], eps)


def t5_forward(sd, cfg, ids, decoder_ids=None):
    encoded = t5_stack(sd, cfg, "encoder", ids)
    if "decoder.block.0.layer.0.SelfAttention.q.weight" not in sd:  # T5EncoderModel
        return encoded
    out = t5_stack(sd, cfg, "decoder", ids if decoder_ids is None else decoder_ids, encoded)
    if cfg.get("tie_word_embeddings", True):
        return torch.nn.functional.linear(out * (cfg["d_model"] ** -0.5), sd["shared.weight"])
    return torch.nn.functional.linear(out, sd["lm_head.weight"])


def t5_state_dict(cfg):
    E, H, D, F, V = (cfg[k] for k in ("d_model", "num_heads", "d_kv", "d_ff", "vocab_size"))
    I, R = H * D, cfg["relative_attention_num_buckets"]
    gated = cfg["feed_forward_proj"].startswith("gated-")
    g = torch.Generator().manual_seed(0)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.1
    sd = {"shared.weight": r(V, E)}
    for name, layers in (("encoder", cfg["num_layers"]), ("decoder", cfg["num_decoder_layers"])):
        if not layers:
            continue
        sd[name + ".embed_tokens.weight"] = sd["shared.weight"]  # one storage, as torch.save writes tied ones
        for i in range(layers):
            p = f"{name}.block.{i}.layer."
            attn = ["0.SelfAttention."] + (["1.EncDecAttention."] if name == "decoder" else [])
            for j, a in enumerate(attn):
                sd.update({p + a + "q.weight": r(I, E), p + a + "k.weight": r(I, E), p + a + "v.weight": r(I, E),
                           p + a + "o.weight": r(E, I)})
                if i == 0 and j == 0:  # large enough that a wrong bucket shows
                    sd[p + a + "relative_attention_bias.weight"] = r(R, H) * 5
                sd[p + str(j) + ".layer_norm.weight"] = 1 + r(E)
            f = p + str(len(attn)) + "."
            if gated:
                sd.update({f + "DenseReluDense.wi_0.weight": r(F, E), f + "DenseReluDense.wi_1.weight": r(F, E)})
            else:
                sd[f + "DenseReluDense.wi.weight"] = r(F, E)
            sd[f + "DenseReluDense.wo.weight"] = r(E, F)
            sd[f + "layer_norm.weight"] = 1 + r(E)
        sd[name + ".final_layer_norm.weight"] = 1 + r(E)
    if cfg["num_decoder_layers"]:
        sd["lm_head.weight"] = sd["shared.weight"] if cfg["tie_word_embeddings"] else r(V, E)
    return sd


def t5_macs(cfg, B, S, T=None):
    """Encoder on S tokens, decoder on T (S when not given): linears, QK^T,
    AV, the LM head; the gated product, the rescale and the bias add are
    elementwise, no MACs."""
    T = S if T is None else T
    E, H, D, F, V = (cfg[k] for k in ("d_model", "num_heads", "d_kv", "d_ff", "vocab_size"))
    L, Ld, I = cfg["num_layers"], cfg["num_decoder_layers"], H * D
    ff = (3 if cfg["feed_forward_proj"].startswith("gated-") else 2) * E * F
    encoder = B * S * L * (4 * E * I + ff) + B * L * 2 * H * S * S * D
    if not Ld:
        return encoder
    decoder = (B * T * Ld * (4 * E * I + ff)      # self-attention q, k, v, o; the FFN
               + B * T * Ld * 2 * E * I           # cross-attention q, o on the decoder's tokens
               + B * S * Ld * 2 * E * I           # cross-attention k, v on the encoder's
               + B * Ld * 2 * H * T * T * D       # self QK^T and AV
               + B * Ld * 2 * H * T * S * D)      # cross QK^T and AV
    return encoder + decoder + B * T * E * V


def save_model_folder(folder, cfg, sd):
    """A Hugging Face-style folder: pytorch_model.bin (torch.save of the
    state_dict) and config.json. Returns the folder as a Path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(sd, folder / "pytorch_model.bin")
    (folder / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    return folder


def write_t5_fixture(folder, variant="gated"):
    """ptscope draws each --input in turn after seed 0: input_ids, then decoder_input_ids."""
    cfg = t5_variant(variant)
    sd = t5_state_dict(cfg)
    folder = save_model_folder(folder, cfg, sd)
    torch.manual_seed(0)
    ids = torch.randint(cfg["vocab_size"], (BATCH, SEQ))
    expected = {"input_ids": ids}
    if cfg["num_decoder_layers"]:
        expected["decoder_input_ids"] = torch.randint(cfg["vocab_size"], (BATCH, T5_DECODER_SEQ))
    with torch.no_grad():
        expected["logits"] = t5_forward(sd, cfg, ids, expected.get("decoder_input_ids"))
    torch.save(expected, folder / "expected.pt")
    return cfg, sd


# ---- Mixtures of experts (modeling_mixtral.py, modeling_qwen2_moe.py) ----
# LLaMA attention and norms (llama_forward), the MLP replaced where a layer
# has experts. MixtralSparseMoeBlock.forward: router_logits = gate(x);
# routing_weights = softmax(logits, dim=1, dtype=float); topk; divided by
# their sum; .to(x.dtype); expert_mask = one_hot(selected, num_experts)
# .permute(2, 1, 0); per expert: idx, top_x = where(expert_mask[e]);
# expert(x[top_x]) * routing_weights[top_x, idx, None], index_add_ into
# zeros. MixtralBlockSparseTop2MLP: w2(silu(w1(x)) * w3(x)).
# Qwen2MoeSparseMoeBlock.forward: the same routing, divided by the sum only
# when norm_topk_prob (default False), + sigmoid(shared_expert_gate(x)) *
# shared_expert(x) (a Qwen2MoeMLP); Qwen2MoeDecoderLayer: a dense
# Qwen2MoeMLP(intermediate_size) for layers in mlp_only_layers or off
# decoder_sparse_step, else the sparse block (moe_intermediate_size).

MIXTRAL_CONFIG = {"model_type": "mixtral", "hidden_size": 32, "num_attention_heads": 4, "num_key_value_heads": 2,
                  "intermediate_size": 48, "num_hidden_layers": 2, "vocab_size": 64, "num_local_experts": 4,
                  "num_experts_per_tok": 2, "rms_norm_eps": 1e-5, "rope_theta": 1000000.0,
                  "max_position_embeddings": 64, "tie_word_embeddings": False}
# Three layers, the middle one dense (mlp_only_layers), no renormalisation.
QWEN2_MOE_CONFIG = {"model_type": "qwen2_moe", "hidden_size": 32, "num_attention_heads": 4, "num_key_value_heads": 2,
                    "intermediate_size": 48, "moe_intermediate_size": 16, "shared_expert_intermediate_size": 32,
                    "num_hidden_layers": 3, "vocab_size": 64, "num_experts": 4, "num_experts_per_tok": 2,
                    "norm_topk_prob": False, "decoder_sparse_step": 1, "mlp_only_layers": [1], "rms_norm_eps": 1e-6,
                    "rope_theta": 1000000.0, "max_position_embeddings": 64, "tie_word_embeddings": False}


def moe_layer_kind(cfg, i):
    """'mixtral', 'qwen2_moe' (sparse) or 'dense': Qwen2MoeDecoderLayer's choice."""
    if cfg["model_type"] == "mixtral":
        return "mixtral"
    sparse = i not in cfg.get("mlp_only_layers", []) and (i + 1) % cfg.get("decoder_sparse_step", 1) == 0
    return "qwen2_moe" if sparse else "dense"


def experts_of(cfg):
    return cfg.get("num_local_experts", cfg.get("num_experts"))


def gated_mlp(sd, name, x, gate, up, down):
    lin = lambda n, t: torch.nn.functional.linear(t, sd[f"{name}.{n}.weight"])
    return lin(down, torch.nn.functional.silu(lin(gate, x)) * lin(up, x))


def sparse_moe(sd, cfg, block, x, tokens):
    """The sparse block; appends the tokens each expert got to `tokens`."""
    mixtral = cfg["model_type"] == "mixtral"
    B, S, E = x.shape
    h = x.view(-1, E)
    logits = torch.nn.functional.linear(h, sd[block + ".gate.weight"])
    weights = torch.nn.functional.softmax(logits, dim=1, dtype=torch.float)
    weights, selected = torch.topk(weights, cfg["num_experts_per_tok"], dim=-1)
    if mixtral or cfg.get("norm_topk_prob", False):
        weights = weights / weights.sum(dim=-1, keepdim=True)
    weights = weights.to(h.dtype)
    out = torch.zeros((B * S, E), dtype=h.dtype)
    mask = torch.nn.functional.one_hot(selected, num_classes=experts_of(cfg)).permute(2, 1, 0)
    per_expert = []
    for e in range(experts_of(cfg)):
        idx, top_x = torch.where(mask[e])
        per_expert.append(top_x.numel())
        names = ("w1", "w3", "w2") if mixtral else ("gate_proj", "up_proj", "down_proj")
        y = gated_mlp(sd, f"{block}.experts.{e}", h[top_x], *names) * weights[top_x, idx, None]
        out.index_add_(0, top_x, y.to(h.dtype))
    if block + ".shared_expert_gate.weight" in sd:
        gate = torch.sigmoid(torch.nn.functional.linear(h, sd[block + ".shared_expert_gate.weight"]))
        out = out + gate * gated_mlp(sd, block + ".shared_expert", h, "gate_proj", "up_proj", "down_proj")
    tokens.append(per_expert)
    return out.view(B, S, E)


def moe_forward(sd, cfg, ids, tokens=None):
    """Logits; `tokens` (a list) gets each MoE layer's tokens per expert."""
    tokens = [] if tokens is None else tokens

    def mlp(p, x):
        i = int(p.split(".")[2])
        kind = moe_layer_kind(cfg, i)
        if kind == "dense":
            return gated_mlp(sd, p + "mlp", x, "gate_proj", "up_proj", "down_proj")
        return sparse_moe(sd, cfg, p + ("block_sparse_moe" if kind == "mixtral" else "mlp"), x, tokens)
    return llama_forward(sd, cfg, ids, mlp)


def moe_state_dict(cfg):
    sd = llama_state_dict(dict(cfg, intermediate_size=1))  # attention, norms, embeddings, head
    g = torch.Generator().manual_seed(1)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.1
    E, X = cfg["hidden_size"], experts_of(cfg)
    H = cfg["num_attention_heads"]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for k in [k for k in sd if k.startswith(p + "mlp.")]:
            del sd[k]
        kind = moe_layer_kind(cfg, i)
        if cfg["model_type"] == "qwen2_moe":  # Qwen2MoeAttention: q/k/v with biases
            kvd = cfg["num_key_value_heads"] * (E // H)
            sd.update({p + "self_attn.q_proj.bias": r(E), p + "self_attn.k_proj.bias": r(kvd),
                       p + "self_attn.v_proj.bias": r(kvd)})
        if kind == "dense":
            F = cfg["intermediate_size"]
            sd.update({p + "mlp.gate_proj.weight": r(F, E), p + "mlp.up_proj.weight": r(F, E),
                       p + "mlp.down_proj.weight": r(E, F)})
            continue
        block = p + ("block_sparse_moe" if kind == "mixtral" else "mlp")
        F = cfg["intermediate_size"] if kind == "mixtral" else cfg["moe_intermediate_size"]
        sd[block + ".gate.weight"] = r(X, E)
        names = ("w1", "w3", "w2") if kind == "mixtral" else ("gate_proj", "up_proj", "down_proj")
        for e in range(X):
            n = f"{block}.experts.{e}."
            sd.update({n + names[0] + ".weight": r(F, E), n + names[1] + ".weight": r(F, E),
                       n + names[2] + ".weight": r(E, F)})
        if kind == "qwen2_moe":
            Fs = cfg["shared_expert_intermediate_size"]
            n = block + ".shared_expert."
            sd.update({n + "gate_proj.weight": r(Fs, E), n + "up_proj.weight": r(Fs, E),
                       n + "down_proj.weight": r(E, Fs), block + ".shared_expert_gate.weight": r(1, E)})
    return sd


def moe_macs(cfg, B, S, tokens):
    """Hand count for the routing that happened (`tokens`: each MoE layer's
    tokens per expert, from moe_forward): attention and the LM head as
    llama_macs; per MoE layer the router (B*S*E*experts), each expert's
    three matrices on the tokens it got, and the shared expert and its gate
    on every token; a dense layer's MLP on every token."""
    E, H, KV, V, L = (cfg[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads",
                                       "vocab_size", "num_hidden_layers"))
    D = E // H
    total = B * S * (L * (E * H * D + 2 * E * KV * D + H * D * E) + E * V) + B * L * 2 * H * S * S * D
    moe = iter(tokens)
    for i in range(L):
        kind = moe_layer_kind(cfg, i)
        if kind == "dense":
            total += B * S * 3 * E * cfg["intermediate_size"]
            continue
        got = next(moe)
        assert sum(got) == B * S * cfg["num_experts_per_tok"]
        F = cfg["intermediate_size"] if kind == "mixtral" else cfg["moe_intermediate_size"]
        total += B * S * E * experts_of(cfg) + sum(got) * 3 * E * F
        if kind == "qwen2_moe":
            total += B * S * (3 * E * cfg["shared_expert_intermediate_size"] + E)
    return total


MOE = {"mixtral": (MIXTRAL_CONFIG, moe_state_dict, moe_forward, moe_macs),
       "qwen2_moe": (QWEN2_MOE_CONFIG, moe_state_dict, moe_forward, moe_macs)}
MOE_FOLDERS = {"mixtral": "mixtral_tiny", "qwen2_moe": "qwen2_moe_tiny"}


FAMILIES = {"llama": (LLAMA_CONFIG, llama_state_dict, llama_forward, llama_macs),
            "gpt2": (GPT2_CONFIG, gpt2_state_dict, gpt2_forward, gpt2_macs),
            "bert": (BERT_CONFIG, bert_state_dict, bert_forward, bert_macs),
            "roberta": (ROBERTA_CONFIG, bert_state_dict, bert_forward, bert_macs)}
FOLDERS = {"llama": "llama_gqa", "gpt2": "gpt2_tiny", "bert": "bert_tiny", "roberta": "roberta_tiny"}
# Encoder-decoders: more than one input (not in FAMILIES' one-input loop).
SEQ2SEQ = {"t5": (T5_CONFIG, t5_state_dict, t5_forward, t5_macs)}


def write_fixtures(out):
    for family, (cfg, make, forward, _) in {**FAMILIES, **MOE}.items():
        sd = make(cfg)
        folder = save_model_folder(Path(out) / {**FOLDERS, **MOE_FOLDERS}[family], cfg, sd)
        # ptscope draws token ids as at::randint(vocab, shape) after seed 0.
        torch.manual_seed(0)
        ids = torch.randint(cfg["vocab_size"], (BATCH, SEQ))
        with torch.no_grad():
            logits = forward(sd, cfg, ids)
        torch.save({"input_ids": ids, "logits": logits}, folder / "expected.pt")
        print(f"{folder}: {sum(v.numel() for k, v in sd.items() if v.is_floating_point())} numbers")


def compare(family, folder, io_file):
    cfg, _, forward, _ = {**FAMILIES, **SEQ2SEQ}[family]
    if family in SEQ2SEQ:
        cfg = json.loads((Path(folder) / "config.json").read_text())
    sd = torch.load(Path(folder) / "pytorch_model.bin")
    inputs, output = torch.load(io_file)
    with torch.no_grad():
        ref = forward(sd, cfg, *inputs)
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
    elif argv[:1] == ["macs"] and len(argv) in (5, 6):
        cfg = json.loads((Path(argv[2]) / "config.json").read_text())
        print({**FAMILIES, **SEQ2SEQ}[argv[1]][3](cfg, *(int(n) for n in argv[3:])))
    elif argv[:1] == ["t5-fixture"] and len(argv) in (2, 3):
        write_t5_fixture(argv[1], *argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
