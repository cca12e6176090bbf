#!/usr/bin/python3
"""`ptscope profile` on state_dicts, checked against Python references
(ctest: profile_state_dicts; exit 77, skipped, where /usr/bin/python3 has no
torch/torchvision or ptscope has no LibTorch plugin).

    /usr/bin/python3 scripts/check_profile_state_dicts.py --ptscope BIN [--work DIR] [--quick]

  * ResNet-18, ResNet-50 and ViT-B/16: torchvision 0.14's models with random
    weights (seed 0), saved as state_dicts and as torch.jit.script archives
    in --work. The state_dict's logits (ptscope profile --save-io) must equal
    torchvision's on the same input within 1e-4, and its MACs those ptscope
    counts on the scripted model; ResNet's FLOPs too (the scripted ViT also
    runs eval-mode dropout ops and the native attention kernel, priced
    differently). --quick: ResNet-18 only.
  * LLaMA with grouped-query attention, GPT-2, BERT (BertForPreTraining's
    state_dict: pooler, MLM and NSP heads) and RoBERTa (RobertaForMaskedLM's,
    an input with a padding token) (fixtures/profile_sd/, from
    scripts/hf_reference.py): logits equal to the reference implementation of
    HF's equations within 1e-4, and to expected.pt; MACs equal to the hand
    count (linears, QK^T, AV, LM head; BERT's pooler and MLM transform); a
    --train step; the LLaMA one again as a safetensors folder; the RoBERTa
    one again as a bare RobertaModel with a pooler (no prefix, no head:
    config.json's model_type says RoBERTa), its (last hidden state, pooled
    output) against the reference, its MACs, and a --train step.
  * Mixtral and Qwen2-MoE (fixtures/profile_sd/mixtral_tiny, qwen2_moe_tiny,
    from scripts/hf_reference.py; Qwen2-MoE's layer 1 dense): logits equal
    to the reference and expected.pt within 1e-4; MACs equal to the hand
    count for the routing that happened (router, each expert on the tokens
    routed to it, shared expert and its gate); per-expert rows; every op
    priced; --train; in --work a Qwen2-MoE whose layer 0 is dense, with
    norm_topk_prob; without num_experts_per_tok, a one-line error, and
    --experts-per-token 1 built and checked.
  * T5 (fixtures/profile_sd/t5_tiny: gated-gelu, untied head, two inputs:
    input_ids 2x16, decoder_input_ids 2x8), and in --work T5 v1.0's relu
    with the tied, rescaled head and a T5EncoderModel: logits equal to the
    reference within 1e-4 (t5_tiny's to expected.pt too), MACs to the hand
    count, parameters the file's (tied ones once); one --input (the decoder reads the
    encoder's ids); three --input, or a UMT5 layout: a one-line error; --train.
  * The LLaMA fixture again in --work with config.json's rope_scaling
    (linear, dynamic, llama3, yarn) or a sliding window (Mistral's; Qwen2's
    unused without use_sliding_window): logits equal to the reference within
    1e-4 and unlike the plain model's; an unknown rope_type: a one-line error.
  * --train with dropout: each HF fixture's activations with its config's
    dropout probabilities 0.1 above those with 0, and those of its config
    without the keys equal to the config class's default's.
  * Every profile's per-layer table adds up: the depth-0 rows' parameters,
    MACs and FLOPs are at most the totals, and each row's are at least the
    sum of its children's.
Prints one line per check and exits 1 when any fails.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
try:
    import torch
    import torchvision
except ImportError:
    print("skipped: /usr/bin/python3 has no torch/torchvision")
    sys.exit(77)
sys.path.insert(0, str(REPO / "scripts"))
import hf_reference  # noqa: E402

TOLERANCE = 1e-4
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def profile(ptscope, path, shape, io=None, extra=()):
    cmd = [ptscope, "profile", str(path), "-i", shape, "--iters", "1", "--warmup", "0", "-f", "json",
           "--depth", "64", *extra]
    if io:
        cmd += ["--save-io", str(io)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return json.loads(r.stdout)[0]


def check_layers(name, j):
    rows = j["layers"]
    top = [r for r in rows if r["depth"] == 0]
    check(bool(rows) and sum(r["macs"] for r in top) <= j["macs"] and sum(r["flops"] for r in top) <= j["flops"]
          and sum(r["parameters"] for r in top) <= j["parameters"]["numel"],
          f"{name}: depth-0 layers add up to at most the totals")
    ok = True
    for i, r in enumerate(rows):
        children = []
        for c in rows[i + 1:]:
            if c["depth"] <= r["depth"]:
                break
            if c["depth"] == r["depth"] + 1:
                children.append(c)
        for key in ("macs", "flops", "parameters"):
            ok = ok and sum(c[key] for c in children) <= r[key]
    check(ok, f"{name}: every layer holds at least its children's counts")


def torchvision_models(ptscope, work, names):
    for name in names:
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)().eval()
        with torch.no_grad():  # torchvision starts some weights at zero (ViT's head): logits would be the bias
            for p in model.parameters():
                if p.dim() > 1 and not p.any():
                    p.normal_(std=0.02)
        sd_path, script_path, io = work / f"{name}.pth", work / f"{name}_script.pt", work / f"{name}.io"
        torch.save(model.state_dict(), sd_path)
        torch.jit.script(model).save(str(script_path))
        built = profile(ptscope, sd_path, "1x3x224x224", io)
        scripted = profile(ptscope, script_path, "1x3x224x224")
        inputs, logits = torch.load(io)
        with torch.no_grad():
            ref = model(inputs[0])
        diff = (logits - ref).abs().max().item()
        check(diff <= TOLERANCE, f"{name}: logits against torchvision's, max abs diff {diff:.3g}")
        check(built["macs"] == scripted["macs"],
              f"{name}: MACs {built['macs']} from the state_dict, {scripted['macs']} scripted")
        if name.startswith("resnet"):
            check(built["flops"] == scripted["flops"],
                  f"{name}: FLOPs {built['flops']} from the state_dict, {scripted['flops']} scripted")
        check(built["parameters"]["numel"] == sum(p.numel() for p in model.parameters()),
              f"{name}: {built['parameters']['numel']} parameters")
        check_layers(name + " (state_dict)", built)
        check_layers(name + " (scripted)", scripted)


def hf_families(ptscope, work):
    for family, folder in hf_reference.FOLDERS.items():
        path = REPO / "fixtures" / "profile_sd" / folder
        shape = f"{hf_reference.BATCH}x{hf_reference.SEQ}"
        io = work / f"{folder}.io"
        j = profile(ptscope, path, shape, io)
        cfg = json.loads((path / "config.json").read_text())
        sd = torch.load(path / "pytorch_model.bin")
        inputs, logits = torch.load(io)
        expected = torch.load(path / "expected.pt")
        with torch.no_grad():
            ref = hf_reference.FAMILIES[family][2](sd, cfg, inputs[0])
        diff = (logits - ref).abs().max().item()
        check(diff <= TOLERANCE, f"{folder}: logits against the reference, max abs diff {diff:.3g}")
        same = torch.equal(inputs[0], expected["input_ids"])
        diff_e = (logits - expected["logits"]).abs().max().item() if same else float("inf")
        check(same and diff_e <= TOLERANCE, f"{folder}: logits against expected.pt, max abs diff {diff_e:.3g}")
        hand = hf_reference.FAMILIES[family][3](cfg, hf_reference.BATCH, hf_reference.SEQ)
        check(j["macs"] == hand, f"{folder}: MACs {j['macs']}, hand count {hand}")
        check_layers(folder, j)
        t = profile(ptscope, path, shape, extra=["--train", "--optimizer", "adamw"])["train"]
        check(t["gradients_bytes"] == t["parameters_bytes"] > 0 and t["optimizer_state_bytes"] == 2 * t["parameters_bytes"],
              f"{folder}: --train: gradients and AdamW moments sized as the parameters")


def moe_families(ptscope, work):
    """Mixtral and Qwen2-MoE (fixtures/profile_sd/mixtral_tiny,
    qwen2_moe_tiny): logits against the reference and expected.pt, MACs the
    hand count for the routing the reference saw on the same ids (each
    expert counts the tokens routed to it), one row per expert, router and
    shared expert, --train; and top-k from --experts-per-token when
    config.json has none, a one-line error when neither gives it."""
    B, S = hf_reference.BATCH, hf_reference.SEQ
    for family, folder in hf_reference.MOE_FOLDERS.items():
        path = REPO / "fixtures" / "profile_sd" / folder
        io = work / f"{folder}.io"
        j = profile(ptscope, path, f"{B}x{S}", io)
        cfg = json.loads((path / "config.json").read_text())
        sd = torch.load(path / "pytorch_model.bin")
        inputs, logits = torch.load(io)
        tokens = []
        with torch.no_grad():
            ref = hf_reference.moe_forward(sd, cfg, inputs[0], tokens)
        diff = (logits - ref).abs().max().item()
        check(diff <= TOLERANCE, f"{folder}: logits against the reference, max abs diff {diff:.3g}")
        expected = torch.load(path / "expected.pt")
        same = torch.equal(inputs[0], expected["input_ids"])
        diff_e = (logits - expected["logits"]).abs().max().item() if same else float("inf")
        check(same and diff_e <= TOLERANCE, f"{folder}: logits against expected.pt, max abs diff {diff_e:.3g}")
        hand = hf_reference.moe_macs(cfg, B, S, tokens)
        check(j["macs"] == hand, f"{folder}: MACs {j['macs']}, hand count {hand} for tokens per expert {tokens}")
        rows = {r["name"]: r for r in j["layers"]}
        block = "layers.0.block_sparse_moe" if family == "mixtral" else "layers.0.mlp"
        E, X = cfg["hidden_size"], hf_reference.experts_of(cfg)
        F = cfg["intermediate_size"] if family == "mixtral" else cfg["moe_intermediate_size"]
        experts_ok = all(rows.get(f"{block}.experts.{e}", {}).get("macs") == tokens[0][e] * 3 * E * F for e in range(X))
        check(experts_ok and rows.get(f"{block}.gate", {}).get("macs") == B * S * E * X,
              f"{folder}: rows {block}.gate and .experts.N, each expert's MACs its tokens'")
        if family == "qwen2_moe":
            check(rows.get("layers.1.mlp", {}).get("type") == "LlamaMLP" and f"{block}.shared_expert" in rows,
                  f"{folder}: layer 1 dense (mlp_only_layers), layer 0's shared expert a row")
        numel = sum(t.numel() for t in sd.values())
        check(j["parameters"]["numel"] == numel, f"{folder}: {j['parameters']['numel']} parameters, the file's {numel}")
        check(not j.get("ops_without_formula"), f"{folder}: every op has a formula: {j.get('ops_without_formula')}")
        check_layers(folder, j)
        t = profile(ptscope, path, f"{B}x{S}", extra=["--train", "--optimizer", "adamw"])["train"]
        check(t["gradients_bytes"] == t["parameters_bytes"] > 0 and t["optimizer_state_bytes"] == 2 * t["parameters_bytes"],
              f"{folder}: --train: gradients and AdamW moments sized as the parameters")
    # Qwen2-MoE whose first layer is dense (layer 0 shows no experts), renormalised top-k.
    cfg = dict(hf_reference.QWEN2_MOE_CONFIG, mlp_only_layers=[0], norm_topk_prob=True)
    folder = work / "qwen2_moe_dense_first"
    folder.mkdir(exist_ok=True)
    sd = hf_reference.moe_state_dict(cfg)
    torch.save(sd, folder / "pytorch_model.bin")
    (folder / "config.json").write_text(json.dumps(cfg))
    io = work / "qwen2_moe_dense_first.io"
    j = profile(ptscope, folder, f"{B}x{S}", io)
    inputs, logits = torch.load(io)
    tokens = []
    with torch.no_grad():
        ref = hf_reference.moe_forward(sd, cfg, inputs[0], tokens)
    diff = (logits - ref).abs().max().item()
    hand = hf_reference.moe_macs(cfg, B, S, tokens)
    check(diff <= TOLERANCE and j["macs"] == hand and "a shared expert" in j["built"],
          f"qwen2_moe, layer 0 dense, norm_topk_prob: max abs diff {diff:.3g}, MACs {j['macs']}, hand count {hand}")
    src = REPO / "fixtures" / "profile_sd" / "mixtral_tiny"
    folder = work / "mixtral_no_topk"
    folder.mkdir(exist_ok=True)
    cfg = {k: v for k, v in json.loads((src / "config.json").read_text()).items() if k != "num_experts_per_tok"}
    (folder / "config.json").write_text(json.dumps(cfg))
    (folder / "pytorch_model.bin").write_bytes((src / "pytorch_model.bin").read_bytes())
    r = subprocess.run([ptscope, "profile", str(folder), "-i", f"{B}x{S}"], capture_output=True, text=True)
    check(r.returncode == 1 and "--experts-per-token" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          f"mixtral without num_experts_per_tok: one line: {r.stderr.strip()}")
    io = work / "mixtral_top1.io"
    j = profile(ptscope, folder, f"{B}x{S}", io, ["--experts-per-token", "1"])
    sd = torch.load(src / "pytorch_model.bin")
    inputs, logits = torch.load(io)
    tokens = []
    with torch.no_grad():
        ref = hf_reference.moe_forward(sd, dict(cfg, num_experts_per_tok=1), inputs[0], tokens)
    diff = (logits - ref).abs().max().item()
    hand = hf_reference.moe_macs(dict(cfg, num_experts_per_tok=1), B, S, tokens)
    check(diff <= TOLERANCE and j["macs"] == hand,
          f"mixtral, --experts-per-token 1: max abs diff {diff:.3g}, MACs {j['macs']}, hand count {hand}")


def t5_family(ptscope, work):
    B, S, T = hf_reference.BATCH, hf_reference.SEQ, hf_reference.T5_DECODER_SEQ
    tiny = REPO / "fixtures" / "profile_sd" / "t5_tiny"
    folders = [("t5_tiny", tiny)]
    for variant in ("relu-tied", "encoder"):
        folder = work / f"t5_{variant}"
        hf_reference.write_t5_fixture(folder, variant)
        folders.append((f"t5_{variant}", folder))
    for name, path in folders:
        cfg = json.loads((path / "config.json").read_text())
        sd = torch.load(path / "pytorch_model.bin")
        encoder_only = cfg["num_decoder_layers"] == 0
        io = work / f"{name}.io"
        j = profile(ptscope, path, f"{B}x{S}", io, [] if encoder_only else ["-i", f"{B}x{T}"])
        inputs, out = torch.load(io)
        with torch.no_grad():
            ref = hf_reference.t5_forward(sd, cfg, *inputs)
        diff = (out - ref).abs().max().item() if out.shape == ref.shape else float("inf")
        check(diff <= TOLERANCE, f"{name}: output {list(out.shape)} against the reference, max abs diff {diff:.3g}")
        expected = torch.load(path / "expected.pt")
        same = len(inputs) == len(expected) - 1 and all(
            torch.equal(i, expected[k]) for i, k in zip(inputs, ("input_ids", "decoder_input_ids")))
        diff_e = (out - expected["logits"]).abs().max().item() if same else float("inf")
        check(same and diff_e <= TOLERANCE, f"{name}: output against expected.pt, max abs diff {diff_e:.3g}")
        hand = hf_reference.t5_macs(cfg, B, S, None if encoder_only else T)
        check(j["macs"] == hand, f"{name}: MACs {j['macs']}, hand count {hand}")
        numel = sum(t.numel() for t in {t.data_ptr(): t for t in sd.values()}.values())
        check(j["parameters"]["numel"] == numel, f"{name}: {j['parameters']['numel']} parameters, the file's {numel}")
        check_layers(name, j)
    cfg = json.loads((tiny / "config.json").read_text())
    sd = torch.load(tiny / "pytorch_model.bin")
    io = work / "t5_tiny_one_input.io"
    j = profile(ptscope, tiny, f"{B}x{S}", io)
    inputs, out = torch.load(io)
    with torch.no_grad():
        ref = hf_reference.t5_forward(sd, cfg, inputs[0], inputs[0])
    diff = (out - ref).abs().max().item() if len(inputs) == 1 and out.shape == ref.shape else float("inf")
    check(diff <= TOLERANCE and j["macs"] == hf_reference.t5_macs(cfg, B, S, S),
          f"t5_tiny, one --input: the decoder reads input_ids, max abs diff {diff:.3g}, MACs {j['macs']}")
    r = subprocess.run([ptscope, "profile", str(tiny), "-i", "1x4", "-i", "1x4", "-i", "1x4"],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "takes 1 or 2 inputs" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          f"t5_tiny, three --input: one line: {r.stderr.strip()}")
    umt5 = work / "umt5_tiny.bin"  # a relative bias in every block: turned away, not built wrong
    sd["encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"] = \
        sd["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"].clone()
    torch.save(sd, umt5)
    r = subprocess.run([ptscope, "profile", str(umt5), "-i", "1x4"], capture_output=True, text=True)
    check(r.returncode == 1 and "(UMT5)" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          f"UMT5 layout: one line: {r.stderr.strip()}")
    t = profile(ptscope, tiny, f"{B}x{S}", extra=["-i", f"{B}x{T}", "--train", "--optimizer", "adamw"])["train"]
    check(t["gradients_bytes"] == t["parameters_bytes"] > 0 and t["optimizer_state_bytes"] == 2 * t["parameters_bytes"],
          "t5_tiny: --train: gradients and AdamW moments sized as the parameters")


def safetensors_folder(ptscope, work):
    """The LLaMA fixture as a safetensors folder (no alignment of its own):
    the same logits."""
    from fixture_util import save_safetensors
    src = REPO / "fixtures" / "profile_sd" / "llama_gqa"
    folder = work / "llama_gqa_safetensors"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text((src / "config.json").read_text())
    save_safetensors(folder / "model.safetensors", torch.load(src / "pytorch_model.bin"))
    io = work / "llama_gqa_safetensors.io"
    profile(ptscope, folder, f"{hf_reference.BATCH}x{hf_reference.SEQ}", io)
    _, logits = torch.load(io)
    expected = torch.load(src / "expected.pt")["logits"]
    diff = (logits - expected).abs().max().item()
    check(diff <= TOLERANCE, f"llama_gqa as safetensors: logits against expected.pt, max abs diff {diff:.3g}")


# config.json additions to the LLaMA fixture (head_dim 16, rope_theta 5e5,
# SEQ 16): llama3's bands put inv_freq in all three (kept, smoothed,
# divided); dynamic's max_position_embeddings 8 < SEQ rescales the base;
# the window 4 < SEQ hides most keys.
LLAMA_VARIANTS = {
    "rope_linear": {"rope_scaling": {"type": "linear", "factor": 4.0}},
    "rope_dynamic": {"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}, "max_position_embeddings": 8},
    "rope_llama3": {"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                     "high_freq_factor": 4.0, "original_max_position_embeddings": 1024}},
    "rope_yarn": {"rope_scaling": {"rope_type": "yarn", "factor": 4.0}},
    "sliding_window": {"model_type": "mistral", "sliding_window": 4},
    "qwen2_window": {"model_type": "qwen2", "use_sliding_window": True, "sliding_window": 4},
}


def llama_variants(ptscope, work):
    """The LLaMA fixture with rope_scaling (each type) or a sliding window in
    its config.json: logits equal to the reference within 1e-4 and unlike
    the plain model's (expected.pt), so neither can pass unapplied; Qwen2's
    window off unless use_sliding_window, dynamic NTK within
    max_position_embeddings the plain model; an unknown rope_type, or yarn
    with DeepSeek's mscale, a one-line error."""
    src = REPO / "fixtures" / "profile_sd" / "llama_gqa"
    sd = torch.load(src / "pytorch_model.bin")
    expected = torch.load(src / "expected.pt")
    base = json.loads((src / "config.json").read_text())
    shape = f"{hf_reference.BATCH}x{hf_reference.SEQ}"

    def variant(name, extra):
        folder = work / f"llama_{name}"
        folder.mkdir(exist_ok=True)
        cfg = dict(base, **extra)
        (folder / "config.json").write_text(json.dumps(cfg))
        (folder / "pytorch_model.bin").write_bytes((src / "pytorch_model.bin").read_bytes())
        return folder, cfg

    # Unlike the plain model only past max_position_embeddings (64 > SEQ),
    # or with use_sliding_window: these equal it.
    plain_alike = {"rope_dynamic_within": {"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}},
                   "qwen2_window_unused": {"model_type": "qwen2", "sliding_window": 4}}
    for name, extra in list(LLAMA_VARIANTS.items()) + list(plain_alike.items()):
        folder, cfg = variant(name, extra)
        io = work / f"llama_{name}.io"
        j = profile(ptscope, folder, shape, io)
        scaling = cfg.get("rope_scaling")
        said = (f"rope_scaling {scaling.get('rope_type', scaling.get('type'))}" if scaling else
                f"sliding window {cfg['sliding_window']}" if name in ("sliding_window", "qwen2_window") else None)
        if said:
            check(said in j["built"], f"llama {name}: the built line says {said!r}: {j['built']}")
        inputs, logits = torch.load(io)
        with torch.no_grad():
            ref = hf_reference.llama_forward(sd, cfg, inputs[0])
        diff = (logits - ref).abs().max().item()
        check(diff <= TOLERANCE, f"llama {name}: logits against the reference, max abs diff {diff:.3g}")
        plain = (logits - expected["logits"]).abs().max().item() if torch.equal(inputs[0], expected["input_ids"]) \
            else float("nan")
        if name in plain_alike:
            check(plain <= TOLERANCE, f"llama {name}: the plain model's logits, max abs diff {plain:.3g}")
        else:
            check(plain > 1e-2, f"llama {name}: logits differ from the plain model's, max abs diff {plain:.3g}")
    for name, scaling, said in (("rope_unknown", {"rope_type": "su", "factor": 2.0}, "'su'"),
                                ("rope_yarn_mscale", {"rope_type": "yarn", "factor": 4.0, "mscale": 0.707}, "mscale")):
        folder, _ = variant(name, {"rope_scaling": scaling})
        r = subprocess.run([ptscope, "profile", str(folder), "-i", shape], capture_output=True, text=True)
        check(r.returncode != 0 and said in r.stderr and len(r.stderr.strip().splitlines()) == 1,
              f"llama {name}: one line: {r.stderr.strip()}")


# Each family's dropout keys in config.json (absent: the config class's
# defaults, 0.1 but LLaMA's attention_dropout 0).
DROPOUT_KEYS = {"gpt2_tiny": ("embd_pdrop", "attn_pdrop", "resid_pdrop"),
                "bert_tiny": ("hidden_dropout_prob", "attention_probs_dropout_prob"),
                "t5_tiny": ("dropout_rate",), "llama_gqa": ("attention_dropout",)}


def dropout_train(ptscope, work):
    """--train applies dropout where HF's modules in train mode do: its masks
    are saved for backward, so the step's activations outgrow those of the
    same model with every probability 0 in config.json. (The forward-only
    profiles above, dropout-free, still equal the references.)"""
    B, S, T = hf_reference.BATCH, hf_reference.SEQ, hf_reference.T5_DECODER_SEQ
    for folder, keys in DROPOUT_KEYS.items():
        src = REPO / "fixtures" / "profile_sd" / folder
        base = json.loads((src / "config.json").read_text())
        sizes = {}
        for label, p in (("off", 0.0), ("on", 0.1)):
            out = work / f"{folder}_dropout_{label}"
            out.mkdir(exist_ok=True)
            (out / "config.json").write_text(json.dumps(dict(base, **{k: p for k in keys})))
            (out / "pytorch_model.bin").write_bytes((src / "pytorch_model.bin").read_bytes())
            extra = ["--train"] + (["-i", f"{B}x{T}"] if folder == "t5_tiny" else [])
            sizes[label] = profile(ptscope, out, f"{B}x{S}", extra=extra)["train"]["activations_bytes"]
        check(sizes["on"] > sizes["off"] > 0,
              f"{folder} --train: activations {sizes['on']} bytes with dropout 0.1, {sizes['off']} without")
        extra = ["--train"] + (["-i", f"{B}x{T}"] if folder == "t5_tiny" else [])
        plain = profile(ptscope, src, f"{B}x{S}", extra=extra)["train"]["activations_bytes"]
        default = "off" if folder == "llama_gqa" else "on"
        check(plain == sizes[default] and not any(k in base for k in keys),
              f"{folder} --train: without the keys, the config class's default ({default}): {plain} bytes")


def bare_roberta(ptscope, work):
    """RobertaModel's own state_dict (no "roberta." prefix, no LM head; a
    pooler, drawn here): only config.json's model_type tells its positions
    from BERT's. Its output is (last_hidden_state, pooler_output)."""
    src = REPO / "fixtures" / "profile_sd" / "roberta_tiny"
    cfg = dict(json.loads((src / "config.json").read_text()), architectures=["RobertaModel"])
    sd = {k: v for k, v in torch.load(src / "pytorch_model.bin").items() if k.startswith("roberta.")}
    E = cfg["hidden_size"]
    g = torch.Generator().manual_seed(1)
    sd.update({"roberta.pooler.dense.weight": torch.randn(E, E, generator=g) * 0.1,
               "roberta.pooler.dense.bias": torch.randn(E, generator=g) * 0.1})
    folder = work / "roberta_bare"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(cfg))
    torch.save({k[len("roberta."):]: v for k, v in sd.items()}, folder / "pytorch_model.bin")
    io = work / "roberta_bare.io"
    shape = f"{hf_reference.BATCH}x{hf_reference.SEQ}"
    j = profile(ptscope, folder, shape, io)
    inputs, output = torch.load(io)
    with torch.no_grad():
        ref = hf_reference.bert_forward(sd, cfg, inputs[0])
    ok = isinstance(output, tuple) and len(output) == 2 and all(o.shape == r.shape for o, r in zip(output, ref))
    diff = max((o - r).abs().max().item() for o, r in zip(output, ref)) if ok else float("inf")
    check(diff <= TOLERANCE, f"bare RobertaModel: (last hidden state, pooled) against the reference, "
                             f"max abs diff {diff:.3g}")
    hand = hf_reference.bert_macs(cfg, hf_reference.BATCH, hf_reference.SEQ)
    check(j["macs"] == hand, f"bare RobertaModel: MACs {j['macs']}, hand count {hand} (pooler included)")
    check_layers("bare RobertaModel", j)
    t = profile(ptscope, folder, shape, extra=["--train", "--optimizer", "adamw"])["train"]
    check(t["gradients_bytes"] == t["parameters_bytes"] > 0,
          "bare RobertaModel: --train: every parameter, the pooler's too, has a gradient")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ptscope", required=True)
    p.add_argument("--work")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    if subprocess.run([a.ptscope, "backend"], capture_output=True).returncode != 0:
        print("skipped: ptscope has no LibTorch plugin")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(a.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        hf_families(a.ptscope, work)
        moe_families(a.ptscope, work)
        t5_family(a.ptscope, work)
        safetensors_folder(a.ptscope, work)
        bare_roberta(a.ptscope, work)
        llama_variants(a.ptscope, work)
        dropout_train(a.ptscope, work)
        torchvision_models(a.ptscope, work, ["resnet18"] if a.quick else ["resnet18", "resnet50", "vit_b_16"])
    print(f"{len(failures)} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
