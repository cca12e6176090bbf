#!/usr/bin/python3
"""Generate the checkpoint fixtures used by ptscope's tests.

ptscope reads PyTorch checkpoints without PyTorch, so its tests need real
files written by real PyTorch, plus the numbers PyTorch itself reports for
them.  This script writes small, deterministic fixtures into fixtures/ and
fixtures/expected.json, where every expected number is computed here by
torch (by loading the file back), never typed by hand.

Run with Debian's interpreter, which has torch 1.13 / torchvision 0.14:

    /usr/bin/python3 scripts/make_fixtures.py [--out DIR]

Determinism (running twice gives byte-identical files):
  * every fixture seeds torch/numpy/random itself;
  * torch.save's zip writer is deterministic (fixed timestamps, storage keys
    "0", "1", ... in pickling order); the record prefix inside the zip is the
    file's stem, so files are always written under their final name;
  * the legacy (non-zip) format uses memory addresses as storage keys, so it
    is written by save_legacy(), a copy of torch 1.13's _legacy_save with
    deterministic pseudo-address keys;
  * TorchScript serializes module constants in set order (string hashing),
    and records the source file name in its debug info, so the script
    re-executes itself with PYTHONHASHSEED=0 from the repository root under
    the relative name scripts/make_fixtures.py (see reexec_deterministically).
"""

import argparse
import copy
import hashlib
import io
import json
import math
import os
import pickle
import random
import struct
import sys
import warnings
import zipfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import reexec_deterministically, save_safetensors  # noqa: E402

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.serialization import (MAGIC_NUMBER, PROTOCOL_VERSION, location_tag,
                                 normalize_storage_type, _should_read_directly,
                                 SHORT_SIZE, INT_SIZE, LONG_SIZE)

SCRIPT_REL = "scripts/make_fixtures.py"
REPO_ROOT = Path(__file__).resolve().parent.parent

# Entries are listed in expected.json only for files with at most this many.
MAX_LISTED_ENTRIES = 40


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class SmallCNN(nn.Module):
    """Conv-BN-ReLU, grouped conv without bias, BN, global pool, linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, groups=2, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.fc(self.pool(x).flatten(1))


class TinyLM(nn.Module):
    """Embedding tied to the output projection, plus a position_ids buffer."""

    def __init__(self, vocab=50, dim=16, max_len=8):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.ln = nn.LayerNorm(dim)
        self.proj = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, vocab)
        self.head.weight = self.emb.weight
        self.register_buffer("position_ids", torch.arange(max_len).unsqueeze(0))

    def forward(self, ids):
        return self.head(self.proj(self.ln(self.emb(ids))))


class WholeNet(nn.Module):
    """Pickled as a whole module: tied parameters, (non-)persistent buffers."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.enc = nn.Linear(8, 8, bias=False)
        self.dec = nn.Linear(8, 8, bias=False)
        self.dec.weight = self.enc.weight          # one nn.Parameter, two owners
        self.fc = nn.Linear(8, 4)
        self.register_buffer("scale", torch.full((8,), 0.5))
        self.register_buffer("mask", torch.ones(8, dtype=torch.bool), persistent=False)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x))).mean((2, 3))
        x = self.dec(self.enc(x)) * self.scale * self.mask
        return self.fc(x)


class ChannelGain(nn.Module):
    """Multiplies channels by a tensor created in forward (a trace constant)."""

    def forward(self, x):
        gain = torch.tensor([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0])
        return x * gain.view(1, 8, 1, 1)


class ScriptCNN(nn.Module):
    """Scripted model; its traced ChannelGain brings a constants.pkl tensor."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.gain = torch.jit.trace(ChannelGain(), torch.zeros(1, 8, 4, 4))
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.gain(x)
        return self.fc(x.mean((2, 3)))


class TraceCNN(nn.Module):
    """Traced model with a constant tensor created in forward."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        bias = torch.tensor([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8])
        x = self.pool(x).flatten(1) + bias
        return self.fc(x)


class UserThing:
    """A plain user class: the pickle refers to the global __main__.UserThing."""

    def __init__(self, t):
        self.t = t


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def seed_all(seed=0):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def warmed_up(model, example):
    """One train-mode forward (non-trivial BN running stats), then eval mode."""
    model.train()
    with torch.no_grad():
        model(example)
    return model.eval()


def make_cnn():
    seed_all(0)
    return warmed_up(SmallCNN(), torch.randn(4, 3, 16, 16))


def save_legacy(obj, path, pickle_protocol=2):
    """torch.save(obj, path, _use_new_zipfile_serialization=False), made deterministic.

    A copy of torch 1.13's serialization._legacy_save (minus source saving of
    nn.Module classes, which this script never needs).  The only change: the
    storage keys are not str(storage._cdata) (a memory address, different on
    every run) but pseudo-addresses of the same shape.  They are a permutation
    of the pickling order, so, as in real legacy files, the sorted key list
    (= order of the storage blobs) differs from the order of first use.
    """
    keys = {}                      # storage._cdata -> pseudo-address
    serialized_storages = {}       # key -> (untyped storage, dtype)

    def persistent_id(obj):
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            raise TypeError("save_legacy() does not save whole modules")
        if not (isinstance(obj, torch.storage.TypedStorage) or torch.is_storage(obj)):
            return None
        if isinstance(obj, torch.storage.TypedStorage):
            storage = obj._storage
            storage_type = getattr(torch, obj.pickle_storage_type())
            dtype = obj.dtype
            storage_numel = obj.size()
        else:
            storage = obj
            storage_type = normalize_storage_type(type(obj))
            dtype = torch.uint8
            storage_numel = storage.nbytes()
        if storage._cdata not in keys:
            index = len(keys)
            assert index < 1000
            keys[storage._cdata] = 140_000_000_000_000 + (index * 7919 % 1000) * 64
        # A new str object per call, as str(storage._cdata) is in torch, so the
        # pickler does not memoize the key: same opcodes as torch's output.
        key = str(keys[storage._cdata])
        serialized_storages.setdefault(key, (storage, dtype))
        return ("storage", storage_type, key, location_tag(storage), storage_numel, None)

    sys_info = dict(protocol_version=PROTOCOL_VERSION,
                    little_endian=sys.byteorder == "little",
                    type_sizes=dict(short=SHORT_SIZE, int=INT_SIZE, long=LONG_SIZE))
    with open(path, "wb") as f:
        pickle.dump(MAGIC_NUMBER, f, protocol=pickle_protocol)
        pickle.dump(PROTOCOL_VERSION, f, protocol=pickle_protocol)
        pickle.dump(sys_info, f, protocol=pickle_protocol)
        pickler = pickle.Pickler(f, protocol=pickle_protocol)
        pickler.persistent_id = persistent_id
        pickler.dump(obj)
        storage_keys = sorted(serialized_storages)
        pickle.dump(storage_keys, f, protocol=pickle_protocol)
        f.flush()
        for key in storage_keys:
            storage, dtype = serialized_storages[key]
            storage._write_file(f, _should_read_directly(f), True,
                                torch._utils._element_size(dtype))


# --------------------------------------------------------------------------
# Fixture writers: each returns (format, info) where info carries what the
# loaded file cannot tell (the model's parameters/buffers, ...).
# --------------------------------------------------------------------------

def module_counts(model):
    """parameters = model.parameters() (tied ones once); buffers = the other
    state_dict entries (persistent buffers only)."""
    params = list(model.parameters())
    param_ids = {id(p) for p in params}
    buffers = [t for t in model.state_dict(keep_vars=True).values()
               if id(t) not in param_ids]
    return {"parameters": count(params), "buffers": count(buffers)}


def count(tensors):
    return {"tensors": len(tensors), "numel": sum(t.numel() for t in tensors)}


def write_cnn_state_dicts(out):
    model = make_cnn()
    sd = model.state_dict()
    torch.save(sd, out / "cnn_state_dict.pt")
    torch.save(sd, out / "cnn_protocol4.pt", pickle_protocol=4)
    save_legacy(sd, out / "cnn_legacy.pt")
    info = module_counts(model)
    return {"cnn_state_dict.pt": ("torch-zip", info),
            "cnn_protocol4.pt": ("torch-zip", info),
            "cnn_legacy.pt": ("torch-legacy", info)}


def make_tied_lm():
    seed_all(0)
    return TinyLM().eval()


def write_tied_lm(out):
    model = make_tied_lm()
    torch.save(model.state_dict(), out / "tied_lm.pt")
    return {"tied_lm.pt": ("torch-zip", module_counts(model))}


def make_views():
    seed_all(0)
    base = torch.arange(100, dtype=torch.float32).reshape(10, 10)
    return {"base": base, "row": base[2], "col": base[:, 3],
            "block": base[4:6, 1:5], "t": base.t(), "other": torch.randn(4)}


def write_views(out):
    views = make_views()
    torch.save(views, out / "views.pt")
    save_legacy(views, out / "legacy_views.pt")
    no_model = {"parameters": None, "buffers": None}
    return {"views.pt": ("torch-zip", no_model),
            "legacy_views.pt": ("torch-legacy", no_model)}


def write_dtypes(out):
    seed_all(0)
    x = torch.randn(6)
    d = {
        "bool": torch.tensor([True, False, True]),
        "uint8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "int8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "int16": torch.tensor([-300, 0, 300, 7], dtype=torch.int16),
        "int32": torch.tensor([-70000, 0, 70000, 1], dtype=torch.int32),
        "int64": torch.tensor([-(2 ** 40), 0, 2 ** 40, 2], dtype=torch.int64),
        "float16": torch.randn(5).half(),
        "bfloat16": torch.randn(5).bfloat16(),
        "float32": torch.randn(6),
        "float64": torch.randn(3, dtype=torch.float64),
        "complex64": torch.randn(3, dtype=torch.complex64),
        "complex128": torch.randn(4, dtype=torch.complex128),
        "quint8": torch.quantize_per_tensor(x, 0.1, 10, torch.quint8),
        "qint8": torch.quantize_per_tensor(x, 0.1, 10, torch.qint8),
        "qint32": torch.quantize_per_tensor(x, 0.1, 10, torch.qint32),
        "qint8_per_channel": torch.quantize_per_channel(
            torch.randn(2, 3), torch.tensor([0.1, 0.05], dtype=torch.float64),
            torch.tensor([0, 2]), 0, torch.qint8),
        "scalar": torch.tensor(3.5, dtype=torch.float64),
        "empty": torch.empty(0, 3),
    }
    torch.save(d, out / "dtypes.pt")
    return {"dtypes.pt": ("torch-zip", {"parameters": None, "buffers": None})}


def write_training_checkpoint(out):
    seed_all(0)
    model = SmallCNN().train()
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(adam, step_size=10, gamma=0.5)
    loss = F.cross_entropy(model(torch.randn(4, 3, 16, 16)), torch.randint(0, 10, (4,)))
    adam.zero_grad()
    loss.backward()
    adam.step()
    scheduler.step()
    model.eval()
    ema = copy.deepcopy(model)
    ckpt = {"model": model.state_dict(), "optimizer": adam.state_dict(),
            "ema": ema.state_dict(), "scheduler": scheduler.state_dict(),
            "epoch": 3, "step": 1200, "best_acc": 0.91,
            "args": argparse.Namespace(lr=1e-3, arch="cnn", seed=0)}
    torch.save(ckpt, out / "training_checkpoint.pt")
    return {"training_checkpoint.pt": ("torch-zip", module_counts(model))}


def write_whole_module(out):
    seed_all(0)
    model = warmed_up(WholeNet(), torch.randn(4, 3, 8, 8))
    torch.save(model, out / "whole_module.pt")
    return {"whole_module.pt": ("torch-zip", module_counts(model))}


def write_torchscript(out):
    seed_all(0)
    example = torch.randn(1, 3, 16, 16)
    scripted = torch.jit.script(warmed_up(ScriptCNN(), torch.randn(4, 3, 16, 16)))
    scripted.save(str(out / "scripted_cnn.pt"))
    traced = torch.jit.trace(warmed_up(TraceCNN(), torch.randn(4, 3, 16, 16)), example)
    traced.save(str(out / "traced_cnn.pt"))
    return {"scripted_cnn.pt": ("torchscript", {}),
            "traced_cnn.pt": ("torchscript", {})}



def safetensors_tensors():
    """tied_lm's tensors minus the tied duplicate, one f16 and one bf16."""
    sd = make_tied_lm().state_dict()
    del sd["head.weight"]                       # same storage as emb.weight
    sd["proj.weight"] = sd["proj.weight"].half()
    sd["ln.weight"] = sd["ln.weight"].bfloat16()
    return {name: sd[name].contiguous() for name in sorted(sd)}


def write_safetensors(out):
    save_safetensors(out / "model.safetensors", safetensors_tensors(), {"format": "pt"})
    return {"model.safetensors": ("safetensors", {"parameters": None, "buffers": None})}


def write_nested_containers(out):
    seed_all(0)
    t1, t2, t3, t4 = torch.randn(2, 3), torch.arange(5), torch.ones(4, dtype=torch.float16), torch.randn(3)
    t5 = torch.zeros(2, 2, dtype=torch.int32)
    root = [{"a": t1, "b": (t2, [t3])}, t4, 7, "text", np.float64(1.5), UserThing(t5)]
    torch.save(root, out / "nested_containers.pt")
    return {"nested_containers.pt": ("torch-zip", {"parameters": None, "buffers": None})}


WRITERS = [write_cnn_state_dicts, write_tied_lm, write_views, write_dtypes,
           write_training_checkpoint, write_whole_module, write_torchscript,
           write_safetensors, write_nested_containers]


# --------------------------------------------------------------------------
# Expected numbers, computed from the files as torch loads them
# --------------------------------------------------------------------------

def walk(obj, prefix=""):
    """Yield (dotted name, tensor): dict values, list/tuple items, and the
    __dict__ of plain objects (argparse.Namespace, UserThing)."""
    def join(key):
        return f"{prefix}.{key}" if prefix else str(key)

    if isinstance(obj, torch.Tensor):
        yield prefix, obj
        # A per-channel qtensor pickles its scales and zero points as tensors
        # of their own; ptscope names them after it (torch accessor names).
        if obj.is_quantized and obj.qscheme() in (torch.per_channel_affine,
                                                  torch.per_channel_affine_float_qparams):
            yield join("q_per_channel_scales"), obj.q_per_channel_scales()
            yield join("q_per_channel_zero_points"), obj.q_per_channel_zero_points()
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, join(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk(v, join(i))
    elif hasattr(obj, "__dict__") and not isinstance(obj, (type, nn.Module)):
        for k, v in vars(obj).items():
            yield from walk(v, join(k))


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def storage_id(t):
    return t.storage()._storage._cdata


def view_key(t):
    return (storage_id(t), t.storage_offset(), tuple(t.shape), tuple(t.stride()))


def tensor_stats(entries):
    """The numbers shared by every fixture, from a list of (name, tensor)."""
    views, storages, dtypes = {}, {}, {}
    for name, t in entries:
        views.setdefault(view_key(t), []).append(name)
        storages[storage_id(t)] = t.storage().nbytes()
        d = dtypes.setdefault(dtype_name(t.dtype), {"tensors": 0, "numel": 0, "bytes": 0})
        d["tensors"] += 1
        d["numel"] += t.numel()
        d["bytes"] += t.numel() * t.element_size()
    stats = {
        "tensors": len(entries),
        "numel": sum(t.numel() for _, t in entries),
        "unique_numel": sum(math.prod(key[2]) for key in views),
        "tensor_bytes": sum(t.numel() * t.element_size() for _, t in entries),
        "storage_bytes": sum(storages.values()),
        "dtypes": dtypes,
        "tied": sorted(sorted(names) for names in views.values() if len(names) > 1),
    }
    if len(entries) <= MAX_LISTED_ENTRIES:
        stats["entries"] = [{"name": name, "dtype": dtype_name(t.dtype),
                             "shape": list(t.shape), "numel": t.numel(),
                             "stride": list(t.stride()),
                             "storage_offset": t.storage_offset()}
                            for name, t in entries]
    return stats


def zip_records(path, folder):
    """{"count", "bytes"} of the <archive>/<folder>/<key> records of a zip."""
    with zipfile.ZipFile(path) as z:
        sizes = [i.file_size for i in z.infolist()
                 if i.filename.split("/")[1:2] == [folder] and len(i.filename.split("/")) == 3]
    return {"count": len(sizes), "bytes": sum(sizes)}


class _StorageRecorder(pickle.Unpickler):
    """Unpickles a checkpoint pickle without data: records the storages it
    references and the tensors built by _rebuild_tensor_v2."""

    def __init__(self, f):
        super().__init__(f)
        self.storages = {}       # key -> dtype
        self.tensor_numels = []

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, *rest: self.tensor_numels.append(math.prod(size))
        if (module, name) == ("torch._utils", "_rebuild_qtensor"):
            return lambda *args: None
        return super().find_class(module, name)

    def persistent_load(self, pid):
        storage_type, key = pid[1], pid[2]
        self.storages[key] = storage_type.dtype
        return None


def legacy_storage_records(path):
    """Walk a legacy file to its end: header pickles, data pickle, key list,
    then one (int64 element count, data) blob per storage."""
    with open(path, "rb") as f:
        assert pickle.load(f) == MAGIC_NUMBER
        pickle.load(f), pickle.load(f)          # protocol version, sys_info
        recorder = _StorageRecorder(f)
        recorder.load()
        keys = pickle.load(f)
        assert sorted(keys) == sorted(recorder.storages)
        total = 0
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            nbytes = numel * torch._utils._element_size(recorder.storages[key])
            assert len(f.read(nbytes)) == nbytes
            total += nbytes
        assert f.read() == b"", "trailing bytes"
    return {"count": len(keys), "bytes": total}


def torchscript_constants(path):
    """Tensors in constants.pkl (their data is in the constants/ records)."""
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.split("/")[1:] == ["constants.pkl"])
        recorder = _StorageRecorder(io.BytesIO(z.read(name)))
        recorder.load()
    return {"tensors": len(recorder.tensor_numels), "numel": sum(recorder.tensor_numels)}


def expected_for(path, fmt, info):
    exp = {"format": fmt, "file_bytes": os.path.getsize(path)}
    if fmt == "safetensors":
        entries = list(safetensors_tensors().items())
        exp.update(tensor_stats(entries))
        exp.update(parameters=None, buffers=None, storage_records=None)
        check_safetensors(path, entries)
        return exp
    if fmt == "torchscript":
        module = torch.jit.load(str(path))
        entries = list(walk(module.state_dict()))
        exp.update(tensor_stats(entries))
        exp["parameters"] = count(list(module.parameters()))
        exp["buffers"] = count(list(module.buffers()))
        exp["constants"] = torchscript_constants(path)
        exp["storage_records"] = zip_records(path, "data")
        return exp

    loaded = torch.load(path)
    if isinstance(loaded, nn.Module):
        entries = list(walk(loaded.state_dict()))
    else:
        entries = list(walk(loaded))
    exp.update(tensor_stats(entries))
    exp.update(info)
    if fmt == "torch-zip":
        exp["storage_records"] = zip_records(path, "data")
    else:
        exp["storage_records"] = legacy_storage_records(path)
    if path.name == "training_checkpoint.pt":
        exp["groups"] = [{"name": key, **count([t for _, t in walk(value)])}
                         for key, value in loaded.items() if list(walk(value))]
    return exp


def check_safetensors(path, entries):
    """Read model.safetensors back and compare with the source tensors."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    for name, t in entries:
        begin, end = header[name]["data_offsets"]
        raw = body[begin:end]
        back = torch.frombuffer(bytearray(raw), dtype=t.dtype).reshape(t.shape)
        assert torch.equal(back, t), name
    assert end == len(body)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

README = """\
# ptscope test fixtures

Generated by `scripts/make_fixtures.py` with PyTorch {torch} (Debian).
Regenerate (byte-identical on every run) with:

    /usr/bin/python3 scripts/make_fixtures.py

`expected.json` holds, per file, the numbers PyTorch itself computes after
loading the file: tensor entries (walking dict values, list/tuple items and
plain objects' attributes; `state_dict()` for whole modules and TorchScript),
numel, unique numel (entries sharing storage/offset/shape/stride once),
bytes, unique storage bytes, per-dtype counts, tied entries, the model's
parameters/buffers, `storage_records` (storage blobs in the file) and, for
files with at most {max_listed} entries, the entries themselves (name, dtype,
shape, numel, plus stride and storage_offset).

| file | exercises |
|------|-----------|
| cnn_state_dict.pt | zip state_dict of a small CNN (conv, grouped conv, BatchNorm buffers incl. int64 num_batches_tracked) |
| cnn_protocol4.pt | same, pickle protocol 4 (FRAME, STACK_GLOBAL, SHORT_BINUNICODE, MEMOIZE opcodes) |
| cnn_legacy.pt | same, legacy non-zip format (magic number, sys_info, storage key list, raw storages) |
| tied_lm.pt | embedding tied to the output head (two entries, one storage), int64 position_ids buffer |
| views.pt | views into one storage: row (offset), column (non-contiguous), block, transpose |
| legacy_views.pt | the same views in the legacy format |
| dtypes.pt | one tensor per dtype incl. bool, bf16, complex, quantized per-tensor/per-channel, 0-dim, empty (0,3) |
| training_checkpoint.pt | model + Adam state (step/exp_avg/exp_avg_sq) + EMA copy + scheduler + scalars + argparse.Namespace |
| whole_module.pt | torch.save of a whole `__main__.WholeNet` module: tied parameter, persistent and non-persistent buffers |
| scripted_cnn.pt | torch.jit.script model with BatchNorm buffers; a traced submodule puts a tensor in constants.pkl |
| traced_cnn.pt | torch.jit.trace model with a tensor created in forward (constants.pkl, constants/0) |
| model.safetensors | hand-written safetensors: F32, F16, BF16, I64; tied_lm minus the tied duplicate |
| nested_containers.pt | list root with nested dict/tuple/list, int, str, numpy float64 scalar, `__main__.UserThing` object |

Notes:
* Legacy files are written by a copy of torch's legacy saver whose storage
  keys are deterministic pseudo-addresses instead of real memory addresses.
* In `dtypes.pt` the per-channel quantized tensor also stores its scales
  (float64) and zero points (int64) as separate storages: they are entries of
  their own, `qint8_per_channel.q_per_channel_scales` / `.q_per_channel_zero_points`.
* In `whole_module.pt` the non-persistent buffer `mask` is pickled (it is in
  `storage_records`) but is not a `state_dict()` entry.
* TorchScript `storage_records` count `data/` only; `constants` describes
  `constants.pkl` / `constants/`.  In TorchScript archives the `code/`
  records (`.py`, `.debug_pkl`) are deflate-compressed; everything else in
  every zip fixture is stored uncompressed.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "fixtures"),
                        help="output folder (default: fixtures/ of the repository)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    reexec_deterministically(SCRIPT_REL, __file__, ["--out", str(out)])

    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)

    written = {}
    for writer in WRITERS:
        written.update(writer(out))

    expected = {name: expected_for(out / name, fmt, info)
                for name, (fmt, info) in written.items()}
    with open(out / "expected.json", "w") as f:
        json.dump(expected, f, sort_keys=True, indent=1)
        f.write("\n")
    (out / "README.md").write_text(README.format(torch=torch.__version__,
                                                 max_listed=MAX_LISTED_ENTRIES))

    print(f"{'file':24} {'format':12} {'bytes':>7} {'tensors':>7} {'numel':>6}  sha256")
    for name in sorted(expected) + ["expected.json"]:
        e = expected.get(name, {})
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()[:16]
        print(f"{name:24} {e.get('format', ''):12} {(out / name).stat().st_size:7} "
              f"{e.get('tensors', ''):>7} {e.get('numel', ''):>6}  {digest}")


if __name__ == "__main__":
    main()
