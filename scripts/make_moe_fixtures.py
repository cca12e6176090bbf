#!/usr/bin/python3
"""Generate fixtures/moe/: tiny mixture-of-experts model folders under the
tensor names transformers gives them, with their truth in expected.json.

  mixtral/          MixtralForCausalLM-like: block_sparse_moe.gate (router),
                    block_sparse_moe.experts.E.w1/w2/w3; 4 experts, top-2
  qwen2_moe/        Qwen2MoeForCausalLM-like: mlp.gate (router),
                    mlp.experts.E.gate_proj/up_proj/down_proj,
                    mlp.shared_expert.* and mlp.shared_expert_gate; q/k/v biases
  deepseek_v3/      DeepseekV3ForCausalLM-like: MLA attention (q_a_proj,
                    kv_a_proj_with_mqa, ...), a dense first layer
                    (first_k_dense_replace 1), then mlp.gate with its
                    e_score_correction_bias, mlp.experts.E.*, mlp.shared_experts.*
  mixtral_no_topk/  the Mixtral weights with a config.json that has no
                    num_experts_per_tok: active figures need --experts-per-token

Each folder: model.safetensors (float32) and config.json. The truth is
computed from the modules, not from names: total parameters
(model.parameters()), the routed experts' parameters (the experts
ModuleLists), the routers' and shared experts', and the active parameters
per token: total - routed experts + top-k x one routed expert per MoE layer.
For the two families ptscope recognises (Mixtral, Qwen2-MoE: LLaMA
attention) also the forward FLOPs per token at seq = max_position_embeddings,
by README's convention: 2 x (active - token embeddings) + 2*L*s*q.

    /usr/bin/python3 scripts/make_moe_fixtures.py [--out DIR]
"""

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import save_safetensors  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

V, E, HEADS, KV_HEADS, HEAD_DIM, SEQ = 64, 16, 4, 2, 4, 128


def linear(i, o, bias=False):
    return nn.Linear(i, o, bias=bias)


def numel(module):
    return sum(p.numel() for p in module.parameters())


class Attention(nn.Module):  # LlamaAttention / Qwen2MoeAttention
    def __init__(self, bias):
        super().__init__()
        self.q_proj = linear(E, HEADS * HEAD_DIM, bias)
        self.k_proj = linear(E, KV_HEADS * HEAD_DIM, bias)
        self.v_proj = linear(E, KV_HEADS * HEAD_DIM, bias)
        self.o_proj = linear(HEADS * HEAD_DIM, E)


class MLA(nn.Module):  # DeepseekV3Attention with q_lora_rank set
    def __init__(self, q_rank=8, kv_rank=8, nope=4, rope=2, v_dim=4):
        super().__init__()
        self.q_a_proj = linear(E, q_rank)
        self.q_a_layernorm = RMSNorm(q_rank)
        self.q_b_proj = linear(q_rank, HEADS * (nope + rope))
        self.kv_a_proj_with_mqa = linear(E, kv_rank + rope)
        self.kv_a_layernorm = RMSNorm(kv_rank)
        self.kv_b_proj = linear(kv_rank, HEADS * (nope + v_dim))
        self.o_proj = linear(HEADS * v_dim, E)


class RMSNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))


class GatedMLP(nn.Module):  # LlamaMLP, Qwen2MoeMLP, DeepseekV3MLP
    def __init__(self, f):
        super().__init__()
        self.gate_proj = linear(E, f)
        self.up_proj = linear(E, f)
        self.down_proj = linear(f, E)


class MixtralExpert(nn.Module):  # MixtralBlockSparseTop2MLP
    def __init__(self, f):
        super().__init__()
        self.w1 = linear(E, f)
        self.w2 = linear(f, E)
        self.w3 = linear(E, f)


class MixtralMoE(nn.Module):  # MixtralSparseMoeBlock
    def __init__(self, experts, f):
        super().__init__()
        self.gate = linear(E, experts)
        self.experts = nn.ModuleList(MixtralExpert(f) for _ in range(experts))


class Qwen2MoE(nn.Module):  # Qwen2MoeSparseMoeBlock
    def __init__(self, experts, f, shared_f):
        super().__init__()
        self.gate = linear(E, experts)
        self.experts = nn.ModuleList(GatedMLP(f) for _ in range(experts))
        self.shared_expert = GatedMLP(shared_f)
        self.shared_expert_gate = linear(E, 1)


class DeepseekGate(nn.Module):  # DeepseekV3TopkRouter / MoEGate
    def __init__(self, experts):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(experts, E))
        self.e_score_correction_bias = nn.Parameter(torch.zeros(experts))


class DeepseekMoE(nn.Module):  # DeepseekV3MoE
    def __init__(self, experts, f, shared):
        super().__init__()
        self.experts = nn.ModuleList(GatedMLP(f) for _ in range(experts))
        self.gate = DeepseekGate(experts)
        self.shared_experts = GatedMLP(f * shared)


class Layer(nn.Module):
    def __init__(self, attn, moe_name, moe):
        super().__init__()
        self.self_attn = attn
        setattr(self, moe_name, moe)
        self.input_layernorm = RMSNorm(E)
        self.post_attention_layernorm = RMSNorm(E)


class Inner(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.embed_tokens = nn.Embedding(V, E)
        self.layers = nn.ModuleList(layers)
        self.norm = RMSNorm(E)


class CausalLM(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.model = Inner(layers)
        self.lm_head = linear(E, V)


def moe_blocks(model):
    return [m for m in model.modules() if isinstance(m, (MixtralMoE, Qwen2MoE, DeepseekMoE))]


def truth(model, top_k, llama_attention):
    blocks = moe_blocks(model)
    total = numel(model)
    routed = sum(numel(b.experts) for b in blocks)
    one_each = sum(numel(b.experts[0]) for b in blocks)
    t = {
        "parameters": total,
        "moe_layers": len(blocks),
        "experts": len(blocks[0].experts),
        "expert_parameters": routed,
        "router_parameters": sum(numel(b.gate) for b in blocks),
        "shared_expert_parameters": sum(total_of(b, ("shared_expert", "shared_expert_gate", "shared_experts"))
                                        for b in blocks),
        "top_k": top_k,
        "active_parameters": total - routed + top_k * one_each if top_k else None,
    }
    if llama_attention and top_k:
        layers = len(model.model.layers)
        t["forward_flops_per_token"] = 2 * (t["active_parameters"] - V * E) + 2 * layers * SEQ * HEADS * HEAD_DIM
    return t


def total_of(block, names):
    return sum(numel(getattr(block, n)) for n in names if hasattr(block, n))


def base_config(model_type, layers):
    return {"model_type": model_type, "torch_dtype": "float32", "hidden_size": E, "num_attention_heads": HEADS,
            "num_key_value_heads": KV_HEADS, "num_hidden_layers": layers, "vocab_size": V,
            "max_position_embeddings": SEQ, "tie_word_embeddings": False}


def mixtral():
    torch.manual_seed(1)
    model = CausalLM([Layer(Attention(False), "block_sparse_moe", MixtralMoE(4, 24)) for _ in range(2)])
    config = dict(base_config("mixtral", 2), intermediate_size=24, num_local_experts=4, num_experts_per_tok=2)
    return model, config


def qwen2_moe():
    torch.manual_seed(2)
    model = CausalLM([Layer(Attention(True), "mlp", Qwen2MoE(4, 12, 24)) for _ in range(2)])
    config = dict(base_config("qwen2_moe", 2), intermediate_size=48, moe_intermediate_size=12,
                  shared_expert_intermediate_size=24, num_experts=4, num_experts_per_tok=2)
    return model, config


def deepseek_v3():
    torch.manual_seed(3)
    layers = [Layer(MLA(), "mlp", GatedMLP(32))] + [Layer(MLA(), "mlp", DeepseekMoE(8, 6, 1)) for _ in range(2)]
    model = CausalLM(layers)
    config = dict(base_config("deepseek_v3", 3), intermediate_size=32, moe_intermediate_size=6,
                  n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=2, first_k_dense_replace=1,
                  q_lora_rank=8, kv_lora_rank=8, qk_nope_head_dim=4, qk_rope_head_dim=2, v_head_dim=4)
    return model, config


def write(out, name, model, config):
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    save_safetensors(folder / "model.safetensors", tensors, {"format": "pt"})
    with open(folder / "config.json", "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "fixtures" / "moe"))
    out = Path(ap.parse_args().out)
    expected = {}
    for name, make, llama_attention in (("mixtral", mixtral, True), ("qwen2_moe", qwen2_moe, True),
                                        ("deepseek_v3", deepseek_v3, False)):
        model, config = make()
        write(out, name, model, config)
        expected[name] = truth(model, config["num_experts_per_tok"], llama_attention)
    model, config = mixtral()
    del config["num_experts_per_tok"]
    write(out, "mixtral_no_topk", model, config)
    expected["mixtral_no_topk"] = truth(model, None, True)
    with open(out / "expected.json", "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
