"""What both fixture generators share: making TorchScript output reproducible
byte for byte, whatever the hash seed and wherever the checkout lies."""

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def reexec_deterministically(script_rel, script_file, argv):
    """Re-run the calling script with PYTHONHASHSEED=0 from the repository
    root, compiled under its relative name `script_rel`: TorchScript writes
    constants in set order and keeps the source file name in its debug
    records. Returns when already re-run."""
    if os.environ.get("PYTHONHASHSEED") == "0" and script_file == script_rel:
        return
    boot = ("import __main__, sys\n"
            f"__main__.__file__ = sys.argv[0] = {script_rel!r}\n"
            f"exec(compile(open({script_rel!r}).read(), {script_rel!r}, 'exec'),"
            " __main__.__dict__)\n")
    env = dict(os.environ, PYTHONHASHSEED="0")
    os.chdir(REPO_ROOT)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-c", boot] + argv, env)


def save_safetensors(path, tensors, metadata=None):
    """Writes `tensors` (name -> torch tensor, in the dict's order) as a
    safetensors file by its documented layout (huggingface/safetensors,
    safetensors/src/tensor.rs): an 8-byte little-endian header length, the
    JSON header (`__metadata__` first when given; data_offsets relative to
    the data), padded with spaces to a multiple of 8, then the data. The
    safetensors package is not in Debian; this is the one writer the
    fixture scripts share."""
    import json
    import struct

    import torch

    dtypes = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16",
              torch.int32: "I32", torch.int64: "I64", torch.float16: "F16",
              torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64"}
    header = {"__metadata__": metadata} if metadata is not None else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        data = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()  # numpy has no bf16
        assert sys.byteorder == "little" and len(data) == t.numel() * t.element_size()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
