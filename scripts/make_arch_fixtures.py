#!/usr/bin/python3
"""Generate the architecture-recognition fixtures used by ptscope's tests.

ptscope recognizes model families (GPT-2, BERT, LLaMA/Mistral, T5, ViT,
ResNet) and reads their configuration (layers, hidden size, heads, ...) off
the tensor names and shapes of a checkpoint.  Testing that needs the key
names and shapes of real, full-size models, which are far too big to keep in
the repository, plus small real checkpoints written by torch itself.  This
script writes into fixtures/arch/:

  * shapes/<model>.json: names, shapes, role (parameter/buffer) and tying of
    every state_dict entry of full-size real models, no weight data.  The HF
    models (transformers is not installed here) are rebuilt on the `meta`
    device from modules that mirror the HF classes' attribute names and
    registration order, so state_dict() yields HF's keys in HF's order; the
    torchvision models are the real torchvision 0.14 classes.  Each list's
    unique parameter count is asserted against the published figure, which
    is what checks that the key lists are right;
  * gpt2_tiny.pt, bert_tiny.pt, llama_tiny.pt: tiny state_dicts with random
    (seeded) float32 weights and the same key naming, saved by torch.save;
  * gpt2_tiny_scripted.pt: the tiny GPT-2 as a torch.jit.script causal LM
    whose parameter names equal HF's;
  * expected.json: per .pt file its config and parameter/buffer counts as
    torch computes them from the file loaded back;
  * README.md.

Run with Debian's interpreter, which has torch 1.13 / torchvision 0.14:

    /usr/bin/python3 scripts/make_arch_fixtures.py [--out DIR]

Determinism (running twice gives byte-identical files): the shape lists do
not depend on weights; the tiny checkpoints are seeded with
torch.manual_seed, and torch.save's zip writer is deterministic; for the
TorchScript file the script re-executes itself with PYTHONHASHSEED=0 from
the repository root under the relative name scripts/make_arch_fixtures.py
(see reexec_deterministically).
"""

import argparse
import hashlib
import json
import math
import os
import sys
from collections import OrderedDict
from pathlib import Path
from typing import List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import reexec_deterministically  # noqa: E402

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

SCRIPT_REL = "scripts/make_arch_fixtures.py"
REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_TINY_BYTES = 1024 * 1024


# --------------------------------------------------------------------------
# GPT-2 (HF GPT2LMHeadModel).  Scriptable: the tiny one becomes
# gpt2_tiny_scripted.pt.
# --------------------------------------------------------------------------

class Conv1D(nn.Module):
    """HF's Conv1D: a linear layer whose weight is stored [in, out]."""

    def __init__(self, nf: int, nx: int, device=None):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf, device=device))
        self.bias = nn.Parameter(torch.zeros(nf, device=device))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        size_out: List[int] = list(x.size()[:-1]) + [self.nf]
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class GPT2Attention(nn.Module):
    def __init__(self, embd, heads, positions, device=None):
        super().__init__()
        # Buffers first, as in HF (they precede c_attn in the state_dict
        # anyway: a module's own buffers come before its children's).
        self.register_buffer("bias", torch.tril(torch.ones(
            (positions, positions), dtype=torch.bool, device=device)).view(1, 1, positions, positions))
        self.register_buffer("masked_bias", torch.tensor(-1e4, device=device))
        self.embed_dim = embd
        self.num_heads = heads
        self.head_dim = embd // heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.c_attn = Conv1D(3 * embd, embd, device)
        self.c_proj = Conv1D(embd, embd, device)
        self.attn_dropout = nn.Dropout(0.1)
        self.resid_dropout = nn.Dropout(0.1)

    def forward(self, x):
        b, s = x.size(0), x.size(1)
        qkv = self.c_attn(x).split(self.embed_dim, dim=2)
        q = qkv[0].view(b, s, self.num_heads, self.head_dim).transpose(1, 2)
        k = qkv[1].view(b, s, self.num_heads, self.head_dim).transpose(1, 2)
        v = qkv[2].view(b, s, self.num_heads, self.head_dim).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)) * self.scale
        causal = self.bias[:, :, :s, :s]
        att = torch.where(causal, att, self.masked_bias.to(att.dtype))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = torch.matmul(att, v).transpose(1, 2).contiguous().view(b, s, self.embed_dim)
        return self.resid_dropout(self.c_proj(y))


class GPT2MLP(nn.Module):
    def __init__(self, embd, inner, device=None):
        super().__init__()
        self.c_fc = Conv1D(inner, embd, device)
        self.c_proj = Conv1D(embd, inner, device)
        self.act = nn.GELU(approximate="tanh")      # HF's gelu_new
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, embd, heads, positions, device=None):
        super().__init__()
        self.ln_1 = nn.LayerNorm(embd, eps=1e-5, device=device)
        self.attn = GPT2Attention(embd, heads, positions, device)
        self.ln_2 = nn.LayerNorm(embd, eps=1e-5, device=device)
        self.mlp = GPT2MLP(embd, 4 * embd, device)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, layers, embd, heads, vocab, positions, device=None):
        super().__init__()
        self.wte = nn.Embedding(vocab, embd, device=device)
        self.wpe = nn.Embedding(positions, embd, device=device)
        self.drop = nn.Dropout(0.1)
        self.h = nn.ModuleList([GPT2Block(embd, heads, positions, device) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(embd, eps=1e-5, device=device)

    def forward(self, input_ids):
        positions = torch.arange(input_ids.size(1), dtype=torch.long, device=input_ids.device)
        x = self.drop(self.wte(input_ids) + self.wpe(positions).unsqueeze(0))
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    """forward(input_ids [B, S] int64) -> logits [B, S, vocab]."""

    def __init__(self, layers, embd, heads, vocab, positions, device=None):
        super().__init__()
        self.transformer = GPT2Model(layers, embd, heads, vocab, positions, device)
        self.lm_head = nn.Linear(embd, vocab, bias=False, device=device)
        self.lm_head.weight = self.transformer.wte.weight          # tied, as in HF

    def forward(self, input_ids):
        return self.lm_head(self.transformer(input_ids))


# --------------------------------------------------------------------------
# BERT (HF BertModel under the `bert.` prefix of the original checkpoint).
# --------------------------------------------------------------------------

class BertEmbeddings(nn.Module):
    def __init__(self, hidden, vocab, positions, device=None):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden, device=device)
        self.position_embeddings = nn.Embedding(positions, hidden, device=device)
        self.token_type_embeddings = nn.Embedding(2, hidden, device=device)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12, device=device)
        self.dropout = nn.Dropout(0.1)
        # A module's own buffers precede its children's entries, so
        # position_ids is the first embeddings key, as in HF's state_dict().
        self.register_buffer("position_ids", torch.arange(positions, device=device).expand((1, -1)))


class BertSelfAttention(nn.Module):
    def __init__(self, hidden, device=None):
        super().__init__()
        self.query = nn.Linear(hidden, hidden, device=device)
        self.key = nn.Linear(hidden, hidden, device=device)
        self.value = nn.Linear(hidden, hidden, device=device)
        self.dropout = nn.Dropout(0.1)


class BertDenseLayerNorm(nn.Module):
    """BertSelfOutput / BertOutput: dense, LayerNorm, dropout."""

    def __init__(self, d_in, hidden, device=None):
        super().__init__()
        self.dense = nn.Linear(d_in, hidden, device=device)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12, device=device)
        self.dropout = nn.Dropout(0.1)


class BertAttention(nn.Module):
    def __init__(self, hidden, device=None):
        super().__init__()
        self.self = BertSelfAttention(hidden, device)
        self.output = BertDenseLayerNorm(hidden, hidden, device)


class BertIntermediate(nn.Module):
    def __init__(self, hidden, ffn, device=None):
        super().__init__()
        self.dense = nn.Linear(hidden, ffn, device=device)
        self.intermediate_act_fn = nn.GELU()


class BertLayer(nn.Module):
    def __init__(self, hidden, ffn, device=None):
        super().__init__()
        self.attention = BertAttention(hidden, device)
        self.intermediate = BertIntermediate(hidden, ffn, device)
        self.output = BertDenseLayerNorm(ffn, hidden, device)


class BertEncoder(nn.Module):
    def __init__(self, layers, hidden, ffn, device=None):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(hidden, ffn, device) for _ in range(layers)])


class BertPooler(nn.Module):
    def __init__(self, hidden, device=None):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden, device=device)
        self.activation = nn.Tanh()


class BertModel(nn.Module):
    def __init__(self, layers, hidden, ffn, vocab, positions, device=None):
        super().__init__()
        self.embeddings = BertEmbeddings(hidden, vocab, positions, device)
        self.encoder = BertEncoder(layers, hidden, ffn, device)
        self.pooler = BertPooler(hidden, device)


class BertCheckpoint(nn.Module):
    """Only there for the `bert.` prefix."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.bert = BertModel(*args, **kwargs)


# --------------------------------------------------------------------------
# LLaMA / Mistral (HF LlamaForCausalLM / MistralForCausalLM).
# --------------------------------------------------------------------------

class RMSNorm(nn.Module):
    def __init__(self, hidden, device=None):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden, device=device))


class RotaryEmbedding(nn.Module):
    def __init__(self, head_dim, persistent, device=None):
        super().__init__()
        inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, device=device).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=persistent)


class LlamaAttention(nn.Module):
    def __init__(self, hidden, heads, kv_heads, inv_freq_buffer, device=None):
        super().__init__()
        head_dim = hidden // heads
        self.q_proj = nn.Linear(hidden, heads * head_dim, bias=False, device=device)
        self.k_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False, device=device)
        self.v_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False, device=device)
        self.o_proj = nn.Linear(heads * head_dim, hidden, bias=False, device=device)
        self.rotary_emb = RotaryEmbedding(head_dim, inv_freq_buffer, device)


class LlamaMLP(nn.Module):
    def __init__(self, hidden, ffn, device=None):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, ffn, bias=False, device=device)
        self.up_proj = nn.Linear(hidden, ffn, bias=False, device=device)
        self.down_proj = nn.Linear(ffn, hidden, bias=False, device=device)
        self.act_fn = nn.SiLU()


class LlamaDecoderLayer(nn.Module):
    def __init__(self, hidden, heads, kv_heads, ffn, inv_freq_buffer, device=None):
        super().__init__()
        self.self_attn = LlamaAttention(hidden, heads, kv_heads, inv_freq_buffer, device)
        self.mlp = LlamaMLP(hidden, ffn, device)
        self.input_layernorm = RMSNorm(hidden, device)
        self.post_attention_layernorm = RMSNorm(hidden, device)


class LlamaModel(nn.Module):
    def __init__(self, layers, hidden, heads, kv_heads, ffn, vocab, inv_freq_buffer, device=None):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden, device=device)
        self.layers = nn.ModuleList([LlamaDecoderLayer(hidden, heads, kv_heads, ffn, inv_freq_buffer, device)
                                     for _ in range(layers)])
        self.norm = RMSNorm(hidden, device)


class LlamaForCausalLM(nn.Module):
    def __init__(self, layers, hidden, heads, kv_heads, ffn, vocab, inv_freq_buffer, device=None,
                 tied=False):
        super().__init__()
        self.model = LlamaModel(layers, hidden, heads, kv_heads, ffn, vocab, inv_freq_buffer, device)
        self.lm_head = nn.Linear(hidden, vocab, bias=False, device=device)
        if tied:  # tie_word_embeddings: HF's tie_weights shares the Parameter
            self.lm_head.weight = self.model.embed_tokens.weight


# --------------------------------------------------------------------------
# T5 (HF T5ForConditionalGeneration).
# --------------------------------------------------------------------------

class T5LayerNorm(nn.Module):
    def __init__(self, d_model, device=None):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d_model, device=device))


class T5Attention(nn.Module):
    def __init__(self, d_model, heads, d_kv, relative_bias, buckets, device=None):
        super().__init__()
        inner = heads * d_kv
        self.q = nn.Linear(d_model, inner, bias=False, device=device)
        self.k = nn.Linear(d_model, inner, bias=False, device=device)
        self.v = nn.Linear(d_model, inner, bias=False, device=device)
        self.o = nn.Linear(inner, d_model, bias=False, device=device)
        if relative_bias:
            self.relative_attention_bias = nn.Embedding(buckets, heads, device=device)


class T5LayerSelfAttention(nn.Module):
    def __init__(self, d_model, attention, device=None):
        super().__init__()
        self.SelfAttention = attention
        self.layer_norm = T5LayerNorm(d_model, device)
        self.dropout = nn.Dropout(0.1)


class T5LayerCrossAttention(nn.Module):
    def __init__(self, d_model, attention, device=None):
        super().__init__()
        self.EncDecAttention = attention
        self.layer_norm = T5LayerNorm(d_model, device)
        self.dropout = nn.Dropout(0.1)


class T5DenseActDense(nn.Module):
    def __init__(self, d_model, d_ff, device=None):
        super().__init__()
        self.wi = nn.Linear(d_model, d_ff, bias=False, device=device)
        self.wo = nn.Linear(d_ff, d_model, bias=False, device=device)
        self.dropout = nn.Dropout(0.1)
        self.act = nn.ReLU()


class T5LayerFF(nn.Module):
    def __init__(self, d_model, d_ff, device=None):
        super().__init__()
        self.DenseReluDense = T5DenseActDense(d_model, d_ff, device)
        self.layer_norm = T5LayerNorm(d_model, device)
        self.dropout = nn.Dropout(0.1)


class T5Block(nn.Module):
    def __init__(self, d_model, heads, d_kv, d_ff, buckets, first, decoder, device=None):
        super().__init__()
        layer = [T5LayerSelfAttention(
            d_model, T5Attention(d_model, heads, d_kv, first, buckets, device), device)]
        if decoder:
            layer.append(T5LayerCrossAttention(
                d_model, T5Attention(d_model, heads, d_kv, False, buckets, device), device))
        layer.append(T5LayerFF(d_model, d_ff, device))
        self.layer = nn.ModuleList(layer)


class T5Stack(nn.Module):
    def __init__(self, embed_tokens, layers, d_model, heads, d_kv, d_ff, buckets, decoder, device=None):
        super().__init__()
        self.embed_tokens = embed_tokens
        self.block = nn.ModuleList([T5Block(d_model, heads, d_kv, d_ff, buckets, i == 0, decoder, device)
                                    for i in range(layers)])
        self.final_layer_norm = T5LayerNorm(d_model, device)
        self.dropout = nn.Dropout(0.1)


class T5ForConditionalGeneration(nn.Module):
    def __init__(self, layers, decoder_layers, d_model, heads, d_kv, d_ff, vocab, buckets=32, device=None):
        super().__init__()
        self.shared = nn.Embedding(vocab, d_model, device=device)
        self.encoder = T5Stack(self.shared, layers, d_model, heads, d_kv, d_ff, buckets, False, device)
        self.decoder = T5Stack(self.shared, decoder_layers, d_model, heads, d_kv, d_ff, buckets, True, device)
        self.lm_head = nn.Linear(d_model, vocab, bias=False, device=device)
        self.lm_head.weight = self.shared.weight       # t5-small ties it


# --------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------

def lm_config(family, layers, hidden, heads, kv_heads, ffn, vocab, positions, **extra):
    return {"family": family, "layers": layers, **extra, "hidden": hidden, "heads": heads,
            "kv_heads": kv_heads, "ffn": ffn, "vocab": vocab, "positions": positions}


def gpt2_config(layers, embd, heads, vocab, positions):
    return lm_config("gpt2", layers, embd, heads, heads, 4 * embd, vocab, positions)


def build_gpt2(cfg, device=None):
    return GPT2LMHeadModel(cfg["layers"], cfg["hidden"], cfg["heads"], cfg["vocab"],
                           cfg["positions"], device)


def build_bert(cfg, device=None):
    return BertCheckpoint(cfg["layers"], cfg["hidden"], cfg["ffn"], cfg["vocab"],
                          cfg["positions"], device)


def build_llama(cfg, inv_freq_buffer, device=None, tied=False):
    return LlamaForCausalLM(cfg["layers"], cfg["hidden"], cfg["heads"], cfg["kv_heads"],
                            cfg["ffn"], cfg["vocab"], inv_freq_buffer, device, tied)


def build_t5(cfg, device=None):
    return T5ForConditionalGeneration(cfg["layers"], cfg["decoder_layers"], cfg["hidden"],
                                      cfg["heads"], cfg["hidden"] // cfg["heads"], cfg["ffn"],
                                      cfg["vocab"], device=device)


# (model, source, config, builder, published parameter count)
def real_models():
    gpt2 = gpt2_config(12, 768, 12, 50257, 1024)
    gpt2_medium = gpt2_config(24, 1024, 16, 50257, 1024)
    bert = lm_config("bert", 12, 768, 12, 12, 3072, 30522, 512)
    llama = lm_config("llama", 32, 4096, 32, 32, 11008, 32000, None)
    mistral = lm_config("llama", 32, 4096, 32, 8, 14336, 32000, None)
    smollm = lm_config("llama", 30, 576, 9, 3, 1536, 49152, None)
    t5 = lm_config("t5", 6, 512, 8, 8, 2048, 32128, None, decoder_layers=6)
    vit = lm_config("vit", 12, 768, 12, 12, 3072, None, 197)
    meta = torch.device("meta")
    return [
        ("gpt2", "HF transformers GPT2LMHeadModel state_dict naming; config gpt2 "
                 "(n_layer 12, n_embd 768, n_head 12, vocab 50257, n_positions 1024)",
         gpt2, lambda: build_gpt2(gpt2, meta), 124_439_808),
        ("gpt2-medium", "HF transformers GPT2LMHeadModel state_dict naming; config gpt2-medium "
                        "(n_layer 24, n_embd 1024, n_head 16, vocab 50257, n_positions 1024)",
         gpt2_medium, lambda: build_gpt2(gpt2_medium, meta), 354_823_168),
        ("bert-base-uncased", "HF transformers BertModel state_dict naming under the 'bert.' prefix "
                              "of the original checkpoint (no cls. heads), with the position_ids "
                              "buffer; config bert-base-uncased (12 layers, hidden 768, 12 heads, "
                              "intermediate 3072, vocab 30522, max_position_embeddings 512, "
                              "type_vocab 2)",
         bert, lambda: build_bert(bert, meta), 109_482_240),
        ("llama-2-7b", "HF transformers LlamaForCausalLM state_dict naming, with the "
                       "self_attn.rotary_emb.inv_freq buffers of older checkpoints; config "
                       "Llama-2-7b-hf (32 layers, hidden 4096, 32 heads, intermediate 11008, "
                       "vocab 32000, untied lm_head)",
         llama, lambda: build_llama(llama, True, meta), 6_738_415_616),
        ("mistral-7b", "HF transformers MistralForCausalLM state_dict naming (same as LLaMA, "
                       "no inv_freq buffer); config Mistral-7B-v0.1 (32 layers, hidden 4096, "
                       "32 heads, 8 kv heads, intermediate 14336, vocab 32000, untied lm_head)",
         mistral, lambda: build_llama(mistral, False, meta), 7_241_732_096),
        ("smollm-135m", "HF transformers LlamaForCausalLM state_dict naming (no inv_freq "
                        "buffer); config SmolLM-135M (30 layers, hidden 576, 9 heads, 3 kv heads, "
                        "head_dim 64, intermediate 1536, vocab 49152, lm_head tied to "
                        "embed_tokens)",
         smollm, lambda: build_llama(smollm, False, meta, tied=True), 134_515_008),
        ("t5-small", "HF transformers T5ForConditionalGeneration state_dict naming; config "
                     "t5-small (6+6 layers, d_model 512, 8 heads, d_kv 64, d_ff 2048, vocab "
                     "32128, 32 relative attention buckets, lm_head and embed_tokens tied to "
                     "shared)",
         t5, lambda: build_t5(t5, meta), 60_506_624),
        ("vit_b_16", "torchvision 0.14 torchvision.models.vit_b_16() state_dict",
         vit, torchvision.models.vit_b_16, 86_567_656),
        ("resnet50", "torchvision 0.14 torchvision.models.resnet50() state_dict",
         {"family": "resnet", "layers": [3, 4, 6, 3], "block": "bottleneck", "width": 64,
          "classes": 1000},
         torchvision.models.resnet50, 25_557_032),
        ("resnet18", "torchvision 0.14 torchvision.models.resnet18() state_dict",
         {"family": "resnet", "layers": [2, 2, 2, 2], "block": "basic", "width": 64,
          "classes": 1000},
         torchvision.models.resnet18, 11_689_512),
        ("mobilenet_v3_small", "torchvision 0.14 torchvision.models.mobilenet_v3_small() "
                               "state_dict (no family ptscope recognises)",
         {"family": None, "classes": 1000},
         torchvision.models.mobilenet_v3_small, 2_542_856),
    ]


# --------------------------------------------------------------------------
# Shape lists
# --------------------------------------------------------------------------

def shape_rows(model):
    """[name, shape, role, tied-to] per state_dict() entry, in order.  Tied
    entries are the same tensor object (nn.Parameter) under two names; the
    row names the first one."""
    buffer_names = {name for name, _ in model.named_buffers()}
    first = {}
    rows = []
    for name, t in model.state_dict(keep_vars=True).items():
        tied = first.setdefault(id(t), name)
        rows.append([name, list(t.shape), "buffer" if name in buffer_names else "parameter",
                     None if tied == name else tied])
    return rows


def rows_parameters(rows):
    return sum(math.prod(shape) for _, shape, role, tied in rows
               if role == "parameter" and tied is None)


def write_shape_list(path, model_name, source, config, model, published):
    rows = shape_rows(model)
    parameters = rows_parameters(rows)
    module_parameters = sum(p.numel() for p in model.parameters())
    assert parameters == module_parameters, (model_name, parameters, module_parameters)
    assert parameters == published, (model_name, parameters, published)
    head = {"model": model_name, "source": source, "config": config, "parameters": parameters}
    text = json.dumps(head)[:-1] + ",\n \"tensors\": [\n"
    text += ",\n".join("  " + json.dumps(row) for row in rows)
    text += "]}\n"
    path.write_text(text)
    return parameters


def write_shape_lists(out):
    folder = out / "shapes"
    folder.mkdir(parents=True, exist_ok=True)
    done = {}
    for name, source, config, build, published in real_models():
        torch.manual_seed(0)
        done[name] = write_shape_list(folder / f"{name}.json", name, source, config, build(),
                                      published)
    return done


# --------------------------------------------------------------------------
# Tiny checkpoints
# --------------------------------------------------------------------------

GPT2_TINY = gpt2_config(2, 64, 4, 1000, 128)
BERT_TINY = lm_config("bert", 2, 64, 4, 4, 256, 1000, 128)
LLAMA_TINY = lm_config("llama", 2, 64, 4, 2, 176, 1000, None)
MOBILENET_TINY = {"family": None, "model": "mobilenet_v3_small", "width_mult": 0.25, "classes": 10}


def make_gpt2_tiny():
    torch.manual_seed(0)
    return build_gpt2(GPT2_TINY).eval()


def buffer_names(model):
    return sorted(name for name, _ in model.named_buffers())


def write_state_dict(out, file_name, model, config, tied=()):
    """torch.save(model.state_dict()); `tied` (name, name_of_original) pairs
    are made the same tensor object, as HF's save_pretrained leaves them."""
    sd = OrderedDict(model.state_dict())
    for name, original in tied:
        assert sd[name].data_ptr() == sd[original].data_ptr()
        sd[name] = sd[original]
    torch.save(sd, out / file_name)
    return {file_name: {"format": "state_dict", "config": config, "buffer_names": buffer_names(model)}}


def write_tiny_state_dicts(out):
    written = {}
    written.update(write_state_dict(out, "gpt2_tiny.pt", make_gpt2_tiny(), GPT2_TINY,
                                    [("lm_head.weight", "transformer.wte.weight")]))
    torch.manual_seed(0)
    written.update(write_state_dict(out, "bert_tiny.pt", build_bert(BERT_TINY).eval(), BERT_TINY))
    torch.manual_seed(0)
    written.update(write_state_dict(out, "llama_tiny.pt", build_llama(LLAMA_TINY, True).eval(),
                                    LLAMA_TINY))
    # The same model saved in bfloat16 (weights and inv_freq), as
    # model.to(torch.bfloat16) leaves it: estimate's default --dtype.
    torch.manual_seed(0)
    written.update(write_state_dict(out, "llama_tiny_bf16.pt",
                                    build_llama(LLAMA_TINY, True).to(torch.bfloat16).eval(),
                                    LLAMA_TINY))
    # A CNN no family covers: torchvision's MobileNetV3-Small at a quarter
    # of its width and 10 classes (119,842 parameters, under the size cap).
    torch.manual_seed(0)
    written.update(write_state_dict(out, "mobilenet_v3_small_tiny.pt",
                                    torchvision.models.mobilenet_v3_small(
                                        width_mult=0.25, num_classes=10).eval(),
                                    MOBILENET_TINY))
    return written


def write_scripted_gpt2(out):
    model = make_gpt2_tiny()
    example = torch.randint(0, GPT2_TINY["vocab"], (2, 10), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        reference = model(example)
    scripted = torch.jit.script(model)     # raises if scripting fails: no silent fallback
    path = out / "gpt2_tiny_scripted.pt"
    scripted.save(str(path))
    loaded = torch.jit.load(str(path))
    with torch.no_grad():
        logits = loaded(example)
    assert logits.shape == (2, 10, GPT2_TINY["vocab"])
    assert torch.allclose(logits, reference, atol=1e-5)
    # Causality: changing a later token does not change earlier logits.
    changed = example.clone()
    changed[:, 7] = (changed[:, 7] + 1) % GPT2_TINY["vocab"]
    with torch.no_grad():
        assert torch.allclose(loaded(changed)[:, :7], logits[:, :7], atol=1e-6)
    assert loaded.lm_head.weight.data_ptr() == loaded.transformer.wte.weight.data_ptr(), \
        "lm_head is no longer tied to wte"
    return {"gpt2_tiny_scripted.pt": {"format": "torchscript", "config": GPT2_TINY,
                                      "buffer_names": buffer_names(model)}}


# --------------------------------------------------------------------------
# Expected numbers, computed from the files as torch loads them
# --------------------------------------------------------------------------

def storage_key(t):
    return (t.storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()))


def expected_for(path, info):
    exp = {"format": info["format"], "config": info["config"], "file_bytes": path.stat().st_size}
    if info["format"] == "torchscript":
        module = torch.jit.load(str(path))
        sd = module.state_dict()
        exp["parameters"] = sum(p.numel() for p in module.parameters())
        exp["buffers"] = sum(b.numel() for b in module.buffers())
    else:
        sd = torch.load(path)
    buffers = set(info["buffer_names"])
    assert buffers <= set(sd)
    seen, tied, params = {}, [], 0
    for name, t in sd.items():
        if name in buffers:
            continue
        key = storage_key(t)
        if key in seen:
            tied.append([seen[key], name])
        else:
            seen[key] = name
            params += t.numel()
    if info["format"] == "torchscript":
        assert params == exp["parameters"], (path.name, params, exp["parameters"])
    exp.update(parameters=params, buffers=sum(sd[n].numel() for n in buffers))
    exp["tensors"] = len(sd)
    exp["buffer_names"] = info["buffer_names"]
    exp["tied"] = tied
    assert exp["file_bytes"] < MAX_TINY_BYTES, (path.name, exp["file_bytes"])
    return exp


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

README = """\
# Architecture-recognition fixtures

Generated by `scripts/make_arch_fixtures.py` with PyTorch {torch} /
torchvision {torchvision} (Debian).  Regenerate (byte-identical on every run) with:

    /usr/bin/python3 scripts/make_arch_fixtures.py

## shapes/<model>.json: full-size real models, names and shapes only

{shape_table}

Each file: `model`, `source`, `config` (family, layers, hidden, heads,
kv_heads, ffn, vocab, positions; `decoder_layers` for T5; for ResNet layers
per stage, block, width, classes), `parameters` and `tensors`, one
`[name, shape, role, tied_to]` row per `state_dict()` entry in the library's
order: role is `parameter` or `buffer`, `tied_to` names the earlier entry
sharing the same tensor (or null).  `parameters` is the unique parameter
numel (tied entries once, buffers excluded), asserted by the script against
the published figure.

Where the shapes come from: transformers is not installed here, so the HF
models are rebuilt (on the `meta` device, no memory, no weights) from
modules in the script that mirror the HF classes' attribute names and
registration order; their `state_dict()` therefore has HF's keys in HF's
order.  Choices for buffers: GPT-2 keeps `attn.bias` (causal mask
[1,1,1024,1024]) and `attn.masked_bias` ([]), as in the original
pytorch_model.bin; BERT keeps `bert.embeddings.position_ids` [1,512] (a
module's own buffers precede its children's entries, so it is the first
embeddings key); LLaMA-2 keeps `self_attn.rotary_emb.inv_freq` [64] of older
checkpoints; Mistral has none.  The torchvision models are the real
torchvision classes (random init, nothing downloaded).

## Tiny checkpoints (random seeded weights, float32 unless said)

| file | what |
|------|------|
| gpt2_tiny.pt | `torch.save` of a GPT2LMHeadModel-style state_dict: 2 layers, E 64, 4 heads, vocab 1000, 128 positions; `lm_head.weight` is the same tensor as `transformer.wte.weight` (one storage); bool `attn.bias` [1,1,128,128] and `attn.masked_bias` [] buffers |
| bert_tiny.pt | BertModel-style state_dict under `bert.`: 2 layers, hidden 64, 4 heads (not inferable from shapes), ffn 256, vocab 1000, 128 positions; int64 `position_ids` [1,128] buffer, pooler |
| llama_tiny.pt | LlamaForCausalLM-style state_dict: 2 layers, hidden 64, 4 heads, 2 kv heads (k_proj/v_proj [32,64]), head_dim 16, ffn 176, vocab 1000; float32 `inv_freq` [8] buffers; untied lm_head |
| llama_tiny_bf16.pt | llama_tiny.pt's model (same seed) converted with `.to(torch.bfloat16)` before saving: every tensor bfloat16, `inv_freq` too |
| mobilenet_v3_small_tiny.pt | `torch.save` of torchvision's `mobilenet_v3_small(width_mult=0.25, num_classes=10)` state_dict: a CNN no recognised family covers (119,842 parameters, BatchNorm running stats and `num_batches_tracked` buffers) |
| gpt2_tiny_scripted.pt | `torch.jit.script` of the same GPT-2 (same weights as gpt2_tiny.pt) as real modules with HF parameter names, dropouts (p=0.1), tanh GELU, causal mask buffer `attn.bias`; `forward(input_ids [B,S] int64) -> logits [B,S,1000]`; `lm_head.weight` tied to `transformer.wte.weight` |

## expected.json

Per .pt file: `config`, `parameters` (unique numel of the non-buffer entries
of the loaded state_dict, entries sharing storage/offset/shape/stride once;
for the TorchScript file also equal to `sum(p.numel() for p in
torch.jit.load(f).parameters())`), `buffers` (numel of the buffer entries),
`buffer_names`, `tensors` (state_dict entries), `tied` and `file_bytes`.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "fixtures" / "arch"),
                        help="output folder (default: fixtures/arch/ of the repository)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    reexec_deterministically(SCRIPT_REL, __file__, ["--out", str(out)])

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)

    shape_params = write_shape_lists(out)

    written = {}
    written.update(write_tiny_state_dicts(out))
    written.update(write_scripted_gpt2(out))
    expected = {name: expected_for(out / name, info) for name, info in written.items()}
    with open(out / "expected.json", "w") as f:
        json.dump(expected, f, sort_keys=True, indent=1)
        f.write("\n")

    shape_table = "| file | parameters |\n|------|-----------:|\n" + "\n".join(
        f"| shapes/{name}.json | {n:,} |" for name, n in shape_params.items())
    (out / "README.md").write_text(README.format(torch=torch.__version__,
                                                 torchvision=torchvision.__version__,
                                                 shape_table=shape_table))

    files = sorted(p for p in out.rglob("*") if p.is_file())
    for p in files:
        digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
        print(f"{str(p.relative_to(out)):32} {p.stat().st_size:8}  {digest}")


if __name__ == "__main__":
    main()
