#!/usr/bin/python3
"""fixtures/dcp/: torch.distributed.checkpoint folders in the torch 2.x layout.

Debian's torch 1.13 cannot write 2.x DCP, so `.metadata` is pickled here with
stand-in classes registered under the real module and class names
(torch/distributed/checkpoint/metadata.py at pytorch 03e266fa, filesystem.py
at 0140b62d, the 2.5 line), and each data file is written as
FileSystemWriter._write_item does: Bytes items first as their raw bytes,
then each tensor chunk as torch.save(chunk) at the stream's position.
"""
import io, json, os, pickle, shutil, sys, types
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "dcp")
M = "torch.distributed.checkpoint.metadata"


def standin(module, name, fields):
    cls = type(name, (), {"__module__": module, "__qualname__": name})
    def init(self, *a):
        for f, x in zip(fields, a):
            setattr(self, f, x)
    cls.__init__ = init
    return cls

Metadata = standin(M, "Metadata", ["state_dict_metadata", "planner_data", "storage_data"])
TSM = standin(M, "TensorStorageMetadata", ["properties", "size", "chunks"])
BSM = standin(M, "BytesStorageMetadata", [])
CSM = standin(M, "ChunkStorageMetadata", ["offsets", "sizes"])
MI = standin(M, "MetadataIndex", ["fqn", "offset", "index"])
SI = standin("torch.distributed.checkpoint.filesystem", "_StorageInfo", ["relative_path", "offset", "length"])


class TensorProperties:  # torch/distributed/_shard/sharded_tensor/metadata.py: __getstate__ is a tuple
    __module__ = "torch.distributed._shard.sharded_tensor.metadata"
    __qualname__ = "TensorProperties"
    def __init__(self, dtype): self.dtype = dtype
    def __getstate__(self): return (self.dtype, FakeG("strided"), False, 0, False)
    def __setstate__(self, s): pass


class Size(tuple):
    __module__ = "torch"; __qualname__ = "Size"
    def __reduce__(self): return (Size, (tuple(self),))


class _G:  # torch.float32 etc.: pickled as GLOBAL torch.<name>
    __module__ = "torch"
    def __init__(self, name): self.name = name
    def __reduce__(self): return self.name


_GLOBALS = {n: _G(n) for n in ["float32", "float16", "bfloat16", "int64", "strided"]}
def FakeG(name): return _GLOBALS[name]


FAKE = {}
def fake_modules():
    names = ["torch", "torch.distributed", "torch.distributed.checkpoint", M,
             "torch.distributed.checkpoint.filesystem", "torch.distributed._shard",
             "torch.distributed._shard.sharded_tensor", "torch.distributed._shard.sharded_tensor.metadata"]
    mods = {n: types.ModuleType(n) for n in names}
    t = mods["torch"]
    t.Size = Size
    for n, g in _GLOBALS.items():
        setattr(t, n, g)
    for c in [Metadata, TSM, BSM, CSM, MI]:
        setattr(mods[M], c.__qualname__, c)
    mods["torch.distributed.checkpoint.filesystem"]._StorageInfo = SI
    mods["torch.distributed._shard.sharded_tensor.metadata"].TensorProperties = TensorProperties
    return mods


def dump_metadata(md):
    mods = fake_modules()
    saved = {n: sys.modules.get(n) for n in mods}
    sys.modules.update(mods)
    try:
        return pickle.dumps(md)
    finally:
        for n, m in saved.items():
            if m is None: sys.modules.pop(n, None)
            else: sys.modules[n] = m


DT = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16", torch.int64: "int64"}


def write(name, ranks, hack=None):
    """ranks: list of dicts fqn -> tensor chunk spec (tensor, full_size, offsets) or bytes."""
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    sdm, sd = {}, {}
    for r, items in enumerate(ranks):
        fname = f"__{r}_0.distcp"
        buf = io.BytesIO()
        for fqn, v in items:
            if isinstance(v, bytes):
                off = buf.tell(); buf.write(v)
                sdm[fqn] = BSM(); sd[MI(fqn, None, None)] = SI(fname, off, len(v))
        for fqn, v in items:
            if isinstance(v, bytes): continue
            t, full, offs = v
            off = buf.tell(); torch.save(t.clone(), buf)
            e = sdm.setdefault(fqn, TSM(TensorProperties(FakeG(DT[t.dtype])), Size(full), []))
            e.chunks.append(CSM(Size(offs), Size(t.shape)))
            sd[MI(fqn, Size(offs), len(e.chunks) - 1)] = SI(fname, off, buf.tell() - off)
        with open(os.path.join(d, fname), "wb") as f: f.write(buf.getvalue())
    md = Metadata(sdm, None, sd)
    if hack: hack(md)
    with open(os.path.join(d, ".metadata"), "wb") as f: f.write(dump_metadata(md))
    return sdm


def main():
    torch.manual_seed(0)
    w = torch.randn(8, 6); b = torch.randn(8); emb = torch.randn(10, 4).half(); step = torch.tensor(7)
    expected = {}
    # one rank: whole tensors plus a Bytes entry
    one = [[("model.w", (w, [8, 6], [0, 0])), ("model.b", (b, [8], [0])), ("emb", (emb, [10, 4], [0, 0])),
            ("step", (step, [], [])), ("extra", pickle.dumps({"epoch": 3}))]]
    # two ranks: w and emb row-sharded
    two = [[("model.w", (w[:4], [8, 6], [0, 0])), ("model.b", (b, [8], [0])), ("emb", (emb[:5], [10, 4], [0, 0])),
            ("step", (step, [], [])), ("extra", pickle.dumps({"epoch": 3}))],
           [("model.w", (w[4:], [8, 6], [4, 0])), ("emb", (emb[5:], [10, 4], [5, 0]))]]
    for name, ranks in [("one_rank", one), ("two_ranks", two)]:
        write(name, ranks)
        d = os.path.join(OUT, name)
        tensors = {"model.w": 48, "model.b": 8, "emb": 40, "step": 1}
        tbytes = 48 * 4 + 8 * 4 + 40 * 2 + 8
        expected[name] = {"tensors": tensors, "numel": sum(tensors.values()), "tensor_bytes": tbytes,
                          "bytes_entries": ["extra"], "data_files": len(ranks),
                          "file_bytes": sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))}
    # hostile .metadata
    def negative(md): md.state_dict_metadata["model.b"].size = Size([-8])
    def wrong_type(md): md.state_dict_metadata["model.b"] = "not metadata"
    def past_file(md):
        for k, v in md.storage_data.items():
            if k.fqn == "model.b": v.offset = 1 << 30
    def chunk_sum(md): md.state_dict_metadata["model.w"].size = Size([9, 6])
    hostile = {"bad_negative_size": (negative, "is negative"), "bad_wrong_type": (wrong_type, "neither TensorStorageMetadata"),
               "bad_chunk_past_file": (past_file, "past the end of the file"), "bad_chunk_sum": (chunk_sum, "chunks hold 48 elements")}
    for name, (hack, msg) in hostile.items():
        write(name, one, hack)
        expected[name] = {"error": msg}
    with open(os.path.join(OUT, "expected.json"), "w") as f: json.dump(expected, f, indent=1, sort_keys=True); f.write("\n")


if __name__ == "__main__":
    main()
