"""The Python side of scripts/gpu_check.sh: the models, the reference
measurements ptscope is compared with, and the table.

  gpu_check.py models DIR [--small]     resnet50, vit_b_16 and GPT-2 small as TorchScript
  gpu_check.py cases DIR [--dry-run]    what to run: DIR/cases.json and, a line each, DIR/cases.tsv
  gpu_check.py reference DIR            PyTorch's own figures for every case: DIR/reference.json
  gpu_check.py table DIR OUT            OUT/table.md and OUT/raw.json from DIR/ptscope/*.json
                                        and DIR/reference.json

The reference mirrors what `ptscope profile` does (src/torch_backend/profile.cc)
so that the two measure the same thing:
  - the module is torch.jit.load()ed onto the device, converted with .to(dtype)
    for bf16, put in eval mode; float inputs are randn, integer inputs zeros;
  - forward: max(warmup, 1) + 1 untimed forwards under no_grad, then the peaks
    of one forward after torch.cuda.reset_peak_memory_stats
    (max_memory_allocated / max_memory_reserved), then `iters` timed forwards,
    each synchronised, the median taken;
  - train: one cold step (gradients None, forward, loss = the sum of the float
    outputs in fp32, backward, AdamW step) for the peaks, then warmup and timed
    steps; - max batch: doubling from 1, then bisection, a batch fitting when
    weights + inputs + the forward's peak above them is within the limit.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch


def write_models(out, small):
    import torchvision

    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for name, make in (("resnet50", torchvision.models.resnet50), ("vit_b_16", torchvision.models.vit_b_16)):
        m = make().eval()
        try:
            s = torch.jit.script(m)
        except Exception as e:  # noqa: BLE001 - a model torchvision cannot script is traced
            print(f"gpu_check: {name}: scripting failed ({e}); tracing", file=sys.stderr)
            s = torch.jit.trace(m, torch.randn(1, 3, 224, 224))
        s.save(os.path.join(out, f"{name}.pt"))
    seq = 128 if small else 512
    gpt2, how = gpt2_small(seq)
    gpt2.save(os.path.join(out, "gpt2.pt"))
    json.dump({"gpt2": how, "torch": torch.__version__}, open(os.path.join(out, "models.json"), "w"))


def gpt2_small(seq):
    """GPT-2 small (124,439,808 parameters): Hugging Face's own when
    transformers is installed, traced at `seq` tokens; else a module with
    HF's names and shapes (Conv1D weights [in, out], tied lm_head), scripted."""
    try:
        from transformers import GPT2Config, GPT2LMHeadModel

        # No KV cache (its outputs are not tensors in recent versions); a tuple out.
        m = GPT2LMHeadModel(GPT2Config(torchscript=True, use_cache=False, return_dict=False)).eval()
        ids = torch.zeros(1, seq, dtype=torch.long)
        return torch.jit.trace(m, (ids,)), "transformers GPT2LMHeadModel, traced at 1x%d" % seq
    except Exception as e:  # noqa: BLE001 - not installed, or not traceable in this version
        print(f"gpu_check: transformers' GPT-2 unavailable ({type(e).__name__}: {e}); own module",
              file=sys.stderr)
        return torch.jit.script(Gpt2().eval()), "own GPT-2 module with HF names and shapes, scripted"


class Conv1D(torch.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = torch.nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight).reshape(
            x.shape[:-1] + (self.weight.size(1),))


class Block(torch.nn.Module):
    def __init__(self, e, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = torch.nn.LayerNorm(e)
        self.attn = torch.nn.Module()
        self.attn.c_attn = Conv1D(e, 3 * e)
        self.attn.c_proj = Conv1D(e, e)
        self.ln_2 = torch.nn.LayerNorm(e)
        self.mlp = torch.nn.Module()
        self.mlp.c_fc = Conv1D(e, 4 * e)
        self.mlp.c_proj = Conv1D(4 * e, e)

    def forward(self, x):
        b, s, e = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(e, dim=2)
        q = q.view(b, s, self.heads, e // self.heads).transpose(1, 2)
        k = k.view(b, s, self.heads, e // self.heads).transpose(1, 2)
        v = v.view(b, s, self.heads, e // self.heads).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(e // self.heads)
        causal = torch.ones(s, s, dtype=torch.bool, device=x.device).tril()
        scores = scores.masked_fill(~causal, -1e4)
        a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, e)
        x = x + self.attn.c_proj(a)
        return x + self.mlp.c_proj(torch.nn.functional.gelu(self.mlp.c_fc(self.ln_2(x))))


class Gpt2(torch.nn.Module):
    def __init__(self, vocab=50257, positions=1024, e=768, layers=12, heads=12):
        super().__init__()
        self.transformer = torch.nn.Module()
        self.transformer.wte = torch.nn.Embedding(vocab, e)
        self.transformer.wpe = torch.nn.Embedding(positions, e)
        self.transformer.h = torch.nn.ModuleList([Block(e, heads) for _ in range(layers)])
        self.transformer.ln_f = torch.nn.LayerNorm(e)
        self.lm_head = torch.nn.Linear(e, vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids):
        pos = torch.arange(input_ids.size(1), device=input_ids.device)
        x = self.transformer.wte(input_ids) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


# --- the cases ----------------------------------------------------------------

GIB = 2**30


def cases(folder, dry_run):
    """On the GPU: resnet50 and vit_b_16 at batch 1 and 32, GPT-2 at 1x512 and
    8x512, fp32 and bf16, forward and one AdamW step, and --max-batch under a
    16 GiB limit. The CPU dry run: batch 1, GPT-2 at 128 tokens, fewer runs."""
    models = os.path.join(folder, "models")
    out = []

    def add(name, model, inputs, device, dtype, mode, warmup, iters, limit=0):
        out.append({"name": name, "model": os.path.join(models, model + ".pt"), "inputs": inputs,
                    "device": device, "dtype": dtype, "mode": mode, "warmup": warmup, "iters": iters,
                    "memory_limit": limit})

    if dry_run:
        add("resnet50_b1_fp32", "resnet50", ["1x3x224x224"], "cpu", "fp32", "forward", 1, 3)
        add("vit_b_16_b1_fp32", "vit_b_16", ["1x3x224x224"], "cpu", "fp32", "forward", 1, 3)
        add("gpt2_1x128_fp32", "gpt2", ["1x128:int64"], "cpu", "fp32", "forward", 1, 3)
        add("gpt2_1x128_bf16", "gpt2", ["1x128:int64"], "cpu", "bf16", "forward", 1, 3)
        add("gpt2_1x128_fp32_train", "gpt2", ["1x128:int64"], "cpu", "fp32", "train", 1, 2)
        add("resnet50_fp32_maxbatch", "resnet50", ["1x3x224x224"], "cpu", "fp32", "forward", 0, 1, GIB // 2)
    else:
        for model, shape, batches in (("resnet50", "3x224x224", (1, 32)), ("vit_b_16", "3x224x224", (1, 32)),
                                      ("gpt2", "512:int64", (1, 8))):
            for b in batches:
                for dtype in ("fp32", "bf16"):
                    for mode in ("forward", "train"):
                        size = f"{b}x512" if model == "gpt2" else f"b{b}"
                        name = f"{model}_{size}_{dtype}" + ("_train" if mode == "train" else "")
                        add(name, model, [f"{b}x{shape}"], "cuda", dtype, mode, 3, 10)
        add("resnet50_fp32_maxbatch", "resnet50", ["1x3x224x224"], "cuda", "fp32", "forward", 3, 10, 16 * GIB)
        add("gpt2_fp32_maxbatch", "gpt2", ["1x512:int64"], "cuda", "fp32", "forward", 3, 10, 16 * GIB)
    json.dump(out, open(os.path.join(folder, "cases.json"), "w"), indent=1)
    with open(os.path.join(folder, "cases.tsv"), "w") as f:
        for c in out:
            args = ["profile", c["model"], "--device", c["device"], "--dtype", c["dtype"],
                    "--warmup", str(c["warmup"]), "--iters", str(c["iters"])]
            for i in c["inputs"]:
                args += ["-i", i]
            if c["mode"] == "train":
                args += ["--train", "--optimizer", "adamw"]
            if c["memory_limit"]:
                args += ["--max-batch", "--memory-limit", str(c["memory_limit"])]
            f.write(c["name"] + "\t" + " ".join(args) + "\n")


# --- reference measurements -------------------------------------------------

def parse_input(spec, batch, float_type, device):
    dims, _, dtype = spec.partition(":")
    shape = [int(d) for d in dims.split("x")]
    if batch:
        shape[0] = batch
    t = getattr(torch, dtype) if dtype else float_type
    return torch.randn(shape, dtype=t, device=device) if t.is_floating_point else torch.zeros(shape, dtype=t, device=device)


def state_bytes(m):
    seen, total = set(), 0
    for t in list(m.parameters()) + list(m.buffers()):
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, iters, device):
    """Median milliseconds of `iters` runs: CUDA events on the GPU, the wall clock on the CPU."""
    times = []
    for _ in range(iters):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    n = len(times)
    return times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2


def nvidia_smi_process_bytes():
    """This process's memory as nvidia-smi lists it, or None."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        pid, _, mib = line.partition(",")
        if pid.strip() == str(os.getpid()):
            return int(mib.strip()) * 1024 * 1024
    return None


def float_loss(out):
    if isinstance(out, torch.Tensor):
        return out.float().sum() if out.is_floating_point() else None
    parts = [float_loss(o) for o in (out if isinstance(out, (list, tuple)) else ())]
    parts = [p for p in parts if p is not None]
    return sum(parts) if parts else None


def measure(case):
    device = torch.device(case["device"])
    float_type = torch.bfloat16 if case["dtype"] == "bf16" else torch.float32
    m = torch.jit.load(case["model"], map_location=device)
    if float_type != torch.float32:
        m.to(float_type)
    m.eval()
    inputs = [parse_input(s, case.get("batch", 0), float_type, device) for s in case["inputs"]]
    weights = state_bytes(m)
    cuda = device.type == "cuda"
    r = {"case": case["name"], "weights_bytes": weights}
    warmup, iters = case["warmup"], case["iters"]
    if case["mode"] == "train":
        m.train()
        params = list({id(p): p for p in m.parameters()}.values())
        opt = torch.optim.AdamW(params, lr=1e-3)

        def step():
            for p in params:
                p.grad = None
            float_loss(m(*inputs)).backward()
            opt.step()

        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        step()
        sync(device)
        if cuda:
            r["peak_allocated_bytes"] = torch.cuda.max_memory_allocated(device)
            r["peak_reserved_bytes"] = torch.cuda.max_memory_reserved(device)
        for _ in range(warmup):
            step()
        sync(device)
        r["median_ms"] = timed(step, iters, device)
    else:
        with torch.no_grad():
            for _ in range(max(warmup, 1) + 1):  # ptscope's warm-up and its FLOP-counting run
                m(*inputs)
            sync(device)
            if cuda:
                torch.cuda.reset_peak_memory_stats(device)
            m(*inputs)
            sync(device)
            if cuda:
                r["peak_allocated_bytes"] = torch.cuda.max_memory_allocated(device)
                r["peak_reserved_bytes"] = torch.cuda.max_memory_reserved(device)
            r["median_ms"] = timed(lambda: m(*inputs), iters, device)
            if cuda and case["memory_limit"]:
                r["max_batch"] = max_batch(m, case, float_type, device, weights)
    if cuda:
        r["nvidia_smi_process_bytes"] = nvidia_smi_process_bytes()
    del m, inputs
    if cuda:
        torch.cuda.empty_cache()
    return r


def max_batch(m, case, float_type, device, weights, limit=65536):
    """ptscope's search (src/backend/batch_search.cc): doubling, then bisection."""
    def fits(batch):
        torch.cuda.empty_cache()
        try:
            inputs = [parse_input(s, batch, float_type, device) for s in case["inputs"]]
            in_bytes = sum(t.numel() * t.element_size() for t in inputs)
            sync(device)
            before = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
            m(*inputs)
            sync(device)
            peak = weights + in_bytes + torch.cuda.max_memory_allocated(device) - before
            return peak <= case["memory_limit"]
        except torch.cuda.OutOfMemoryError:
            return False

    good, bad, b = 0, limit + 1, 1
    while b <= limit:
        if not fits(b):
            bad = b
            break
        good = b
        if b == limit:
            break
        b = limit if b > limit // 2 else b * 2
    while bad - good > 1:
        mid = good + (bad - good) // 2
        if fits(mid):
            good = mid
        else:
            bad = mid
    torch.cuda.empty_cache()
    return good


def reference(folder):
    results = []
    for case in json.load(open(os.path.join(folder, "cases.json"))):
        try:
            results.append(measure(case))
        except Exception as e:  # noqa: BLE001 - one failing case must not hide the others
            results.append({"case": case["name"], "error": f"{type(e).__name__}: {e}"})
        print(f"gpu_check: reference {case['name']} done", file=sys.stderr, flush=True)
    env = {"torch": torch.__version__, "cuda": torch.version.cuda,
           "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    json.dump({"environment": env, "results": results}, open(os.path.join(folder, "reference.json"), "w"), indent=1)


# --- the table --------------------------------------------------------------

def pct(a, b):
    return f"{100.0 * (a - b) / b:+.2f}%" if a is not None and b else "n/a"


def mib(n):
    return f"{n / 2**20:,.1f}" if n is not None else "n/a"


def table(folder, out):
    ref = json.load(open(os.path.join(folder, "reference.json")))
    cases = {c["name"]: c for c in json.load(open(os.path.join(folder, "cases.json")))}
    raw = {"reference": ref, "ptscope": {}}
    failed = 0
    rows = ["| case | peak allocated MiB ptscope / torch | diff | peak reserved MiB ptscope / torch | diff "
            "| median ms ptscope / torch | diff | NVML MiB ptscope / nvidia-smi (python) | max batch ptscope / torch |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in ref["results"]:
        name = r["case"]
        path = os.path.join(folder, "ptscope", name + ".json")
        if "error" in r or not os.path.exists(path):
            rows.append(f"| {name} | {r.get('error', 'no ptscope result')} |||||||")
            failed += 1
            continue
        try:
            p = json.load(open(path))
        except ValueError:
            p = {"error": open(os.path.join(folder, "ptscope", name + ".err")).read().strip()[-300:]}
        raw["ptscope"][name] = p
        if isinstance(p, dict) and "error" in p:
            rows.append(f"| {name} | ptscope: {p['error']} |||||||")
            failed += 1
            continue
        p = p[0]
        part = p.get("train", p)
        lat = part["latency"]["median_ms"]
        alloc, reserved = part.get("peak_allocated_bytes"), part.get("peak_reserved_bytes")
        mb = p.get("max_batch", {}).get("batch")
        rows.append(
            f"| {name} | {mib(alloc)} / {mib(r.get('peak_allocated_bytes'))} | {pct(alloc, r.get('peak_allocated_bytes'))} "
            f"| {mib(reserved)} / {mib(r.get('peak_reserved_bytes'))} | {pct(reserved, r.get('peak_reserved_bytes'))} "
            f"| {lat:.3f} / {r['median_ms']:.3f} | {pct(lat, r['median_ms'])} "
            f"| {mib(p.get('process_bytes'))} / {mib(r.get('nvidia_smi_process_bytes'))} "
            f"| {mb if mb is not None else 'n/a'} / {r.get('max_batch', 'n/a')} |")
    env = ref["environment"]
    head = f"GPU {env['gpu'] or 'none (CPU dry run)'}, torch {env['torch']}, CUDA {env['cuda']}\n\n"
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "table.md"), "w").write(head + "\n".join(rows) + "\n")
    json.dump(raw, open(os.path.join(out, "raw.json"), "w"), indent=1)
    print(head + "\n".join(rows))
    if failed:
        print(f"gpu_check: {failed} case(s) failed; see the table", file=sys.stderr)
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("models")
    m.add_argument("dir")
    m.add_argument("--small", action="store_true", help="GPT-2 at 128 tokens (the CPU dry run)")
    c = sub.add_parser("cases")
    c.add_argument("dir")
    c.add_argument("--dry-run", action="store_true")
    r = sub.add_parser("reference")
    r.add_argument("dir")
    t = sub.add_parser("table")
    t.add_argument("dir")
    t.add_argument("out")
    a = ap.parse_args()
    if a.cmd == "models":
        write_models(a.dir, a.small)
    elif a.cmd == "cases":
        cases(a.dir, a.dry_run)
    elif a.cmd == "reference":
        reference(a.dir)
    else:
        sys.exit(table(a.dir, a.out))


if __name__ == "__main__":
    main()
