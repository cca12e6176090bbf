#!/usr/bin/python3
"""Writes the hostile files of issue 14 into a folder, byte by byte.

    /usr/bin/python3 scripts/make_hostile_files.py OUT_DIR

No torch: every file is assembled by hand (zip records, pickle opcodes,
safetensors headers) so that each one carries exactly the trick it names
and nothing else. Each case is a few hundred bytes to a few megabytes on
disk; what they ask of a reader is far larger. tests/hostile_files.py runs
ptscope on every file written here under a memory limit.

The finding numbers are issue 14's ("Why").
"""
import json
import os
import stat
import struct
import sys
import zlib

# --- zip -------------------------------------------------------------------


class Zip:
    """A zip writer that lets a file lie: central entries may repeat a local
    record, and sizes may be set by hand."""

    def __init__(self):
        self.out = bytearray()
        self.central = []  # (name, offset, method, crc, csize, size, zip64_size)

    def add(self, name, data, deflate=False, declared_size=None, zip64_size=None):
        body = zlib.compress(data, 9)[2:-4] if deflate else data
        method = 8 if deflate else 0
        size = len(data) if declared_size is None else declared_size
        offset = len(self.out)
        crc = zlib.crc32(data)
        n = name.encode()
        self.out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, method, 0, 0, crc,
                                len(body), min(size, 0xffffffff), len(n), 0)
        self.out += n + body
        self.central.append((n, offset, method, crc, len(body), size, zip64_size))
        return len(self.central) - 1

    def alias(self, index, name):
        """A second central entry for record `index`'s bytes."""
        e = self.central[index]
        self.central.append((name.encode(),) + e[1:])

    def bytes(self):
        cd = bytearray()
        for n, offset, method, crc, csize, size, zip64_size in self.central:
            extra = b''
            usize = min(size, 0xffffffff)
            if zip64_size is not None:
                usize = 0xffffffff
                extra = struct.pack('<HHQ', 1, 8, zip64_size)
            cd += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, method, 0, 0,
                              crc, csize, usize, len(n), len(extra), 0, 0, 0, 0, offset)
            cd += n + extra
        end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(self.central),
                          len(self.central), len(cd), len(self.out), 0)
        return bytes(self.out + cd + end)


# --- pickle ----------------------------------------------------------------

PROTO2 = b'\x80\x02'
STOP = b'.'
MARK, EMPTY_DICT, EMPTY_LIST, NONE = b'(', b'}', b']', b'N'
APPEND, APPENDS, SETITEM, SETITEMS = b'a', b'e', b's', b'u'
TUPLE, REDUCE, BUILD, NEWOBJ = b't', b'R', b'b', b'\x81'
EMPTY_TUPLE = b')'


def glob(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def s(text):
    b = text.encode('utf-8', 'surrogateescape') if isinstance(text, str) else text
    return b'X' + struct.pack('<I', len(b)) + b


def i(n):
    if -2**31 <= n < 2**31:
        return b'J' + struct.pack('<i', n)
    b = n.to_bytes((n.bit_length() + 8) // 8, 'little', signed=True)
    return b'\x8a' + bytes([len(b)]) + b


def put(k):
    return b'r' + struct.pack('<I', k)


def get(k):
    return b'j' + struct.pack('<I', k)


def tensor(key, numel, shape, memo_base=None):
    """_rebuild_tensor_v2(storage key, 0, shape, contiguous stride, False,
    OrderedDict()) over a float storage of `numel` elements."""
    stride, acc = [], 1
    for d in reversed(shape):
        stride.insert(0, acc)
        acc *= max(d, 1)
    ints = lambda xs: MARK + b''.join(i(x) for x in xs) + TUPLE
    pid = MARK + s('storage') + glob('torch', 'FloatStorage') + s(key) + s('cpu') + i(numel) + TUPLE
    return (glob('torch._utils', '_rebuild_tensor_v2') + MARK + pid + b'Q' + i(0) + ints(shape) +
            ints(stride) + b'\x89' + glob('collections', 'OrderedDict') + EMPTY_TUPLE + REDUCE +
            TUPLE + REDUCE)


def torch_zip(pickle, storages=(), deflate=False, extra=()):
    """A torch.save zip: archive/data.pkl, archive/data/KEY per storage."""
    z = Zip()
    z.add('archive/data.pkl', pickle, deflate=deflate)
    for key, data in storages:
        z.add('archive/data/' + key, data)
    for name, data, deflate_it in extra:
        z.add('archive/' + name, data, deflate=deflate_it)
    z.add('archive/version', b'3\n')
    return z


def module(params_pairs, modules_pairs=b''):
    """A pickled nn.Module: torch.nn.Linear.__new__ + BUILD({_parameters,
    _buffers, _modules})."""
    return (glob('torch.nn.modules.linear', 'Linear') + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT +
            MARK + s('_parameters') + EMPTY_DICT + MARK + params_pairs + SETITEMS +
            s('_buffers') + EMPTY_DICT + s('_modules') + EMPTY_DICT + MARK + modules_pairs +
            SETITEMS + SETITEMS + BUILD)


def safetensors(header, data=b''):
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(',', ':')).encode()
    return struct.pack('<Q', len(h)) + h + data


# --- the cases -------------------------------------------------------------


def case_rebuild_from_type_loop():
    """1: _rebuild_from_type_v2(func, type, args) whose args are the call's
    own argument tuple (a tuple APPENDed to itself through the memo)."""
    f = glob('torch._tensor', '_rebuild_from_type_v2')
    p = PROTO2 + f + MARK + f + NONE + TUPLE + put(0) + get(0) + APPEND + REDUCE + STOP
    return torch_zip(p).bytes()


def case_module_name_bomb():
    """2: an nn.Module under a 64 KiB key whose _parameters names one tensor
    20,000 times: 1.3 GB of names from 300 KB."""
    pairs = b''.join(s(str(k)) + get(1) for k in range(1, 20000))
    params = s('0') + tensor('0', 1, [1]) + put(1) + pairs
    p = PROTO2 + EMPTY_DICT + s('k' * 65536) + module(params) + SETITEM + STOP
    return torch_zip(p, [('0', b'\0' * 4)]).bytes()


def case_member_rewalk():
    """3: one module referenced 8,000 times from its parent's _modules, with
    8,000 non-tensor attributes beside _parameters: each reference re-read
    the whole member dict, 64 M steps from 300 KB."""
    n = 8000
    attrs = b''.join(s('a%d' % k) + NONE for k in range(n))
    child = (glob('torch.nn.modules.linear', 'Linear') + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT +
             MARK + attrs + s('_parameters') + EMPTY_DICT + s('_buffers') + EMPTY_DICT +
             s('_modules') + EMPTY_DICT + SETITEMS + BUILD + put(1))
    mods = s('m0') + child + b''.join(s('m%d' % k) + get(1) for k in range(1, n))
    p = PROTO2 + module(b'', mods) + STOP
    return torch_zip(p).bytes()


def case_code_parameters_scan():
    """4: a TorchScript code/ record of 400,000 `__parameters__` lines with
    no '[' (deflated to a few KB): each line used to scan to the end."""
    code = b'class M(Module):\n' + b'  __parameters__\n' * 400000
    p = PROTO2 + EMPTY_DICT + STOP
    z = torch_zip(p, extra=[('code/__torch__.py', code, True), ('constants.pkl', PROTO2 + EMPTY_TUPLE + STOP, False)])
    return z.bytes()


def case_shared_deflated_record():
    """5: 2,000 central entries naming one deflated 1 MB code/ record."""
    z = Zip()
    z.add('archive/data.pkl', PROTO2 + EMPTY_DICT + STOP)
    rec = z.add('archive/code/__torch__/m0.py', b'#' * (1 << 20), deflate=True)
    for k in range(1, 2000):
        z.alias(rec, 'archive/code/__torch__/m%d.py' % k)
    return z.bytes()


def case_overlapping_records():
    """5: a data record whose bytes are also another record's header."""
    z = Zip()
    z.add('archive/data.pkl', PROTO2 + EMPTY_DICT + STOP)
    rec = z.add('archive/data/0', b'\0' * 64)
    z.alias(rec, 'archive/data/1')
    return z.bytes()


def case_many_safetensors():
    """6: 100,000 one-byte tensors: the header parse must be linear."""
    n = 100000
    header = {'t%06d' % k: {'dtype': 'U8', 'shape': [1], 'data_offsets': [k, k + 1]} for k in range(n)}
    return safetensors(header, b'\0' * n)


def case_pickle_value_bomb():
    """7: a deflated data.pkl of 50 M NONEs appended to lists (~97 KB)."""
    chunk = MARK + NONE * 1000000 + APPENDS
    body = EMPTY_LIST + chunk * 50
    z = Zip()
    z.add('archive/data.pkl', PROTO2 + body + STOP, deflate=True)
    return z.bytes()


def case_declared_gib_record():
    """7: a deflated data.pkl declaring 1 GiB that inflates to 3 bytes."""
    z = Zip()
    z.add('archive/data.pkl', PROTO2 + EMPTY_DICT + STOP, deflate=True, declared_size=1 << 30)
    return z.bytes()


def case_rank_bomb():
    """7 and 12: one safetensors tensor of 4 M dimensions (8 MB header)."""
    shape = b'[' + b','.join([b'1'] * (4 << 20)) + b']'
    header = b'{"w":{"dtype":"U8","shape":' + shape + b',"data_offsets":[0,1]}}'
    return safetensors(header, b'\0')


def case_pickle_rank_bomb():
    """12: a torch tensor of 200,000 dimensions, each of size 1."""
    p = PROTO2 + EMPTY_DICT + s('w') + tensor('0', 1, [1] * 200000) + SETITEM + STOP
    return torch_zip(p, [('0', b'\0' * 4)], deflate=True).bytes()


def case_control_names():
    """9: tensor names that set the terminal title, clear the screen, forge
    a CSV row and carry a C1 CSI."""
    names = ['title\x1b]0;pwned\x07', 'clear\x1b[2J\x1b[H', 'row\nforged,1,2,3',
             'tab\tcell', 'csi\u009b31m', 'bell\x07']
    header = {n: {'dtype': 'U8', 'shape': [1], 'data_offsets': [k, k + 1]} for k, n in enumerate(names)}
    return safetensors(header, b'\0' * len(names))


def case_zip64_stored_size():
    """10: a stored data/0 record of 4 bytes whose zip64 size says 1 EiB,
    under a storage that declares 2**58 floats."""
    p = PROTO2 + EMPTY_DICT + s('w') + tensor('0', 1 << 58, [1 << 58]) + SETITEM + STOP
    z = Zip()
    z.add('archive/data.pkl', p)
    z.add('archive/data/0', b'\0' * 4, zip64_size=1 << 60)
    return z.bytes()


def case_sparse_huge_numel():
    """10: a COO tensor of dense size [2**31, 2**31] with no values: 2**62
    parameters from a few hundred bytes; estimate must not wrap."""
    idx = tensor('0', 0, [2, 0])
    val = tensor('1', 0, [0])
    size = MARK + i(2**31) + i(2**31) + TUPLE
    sparse = (glob('torch._utils', '_rebuild_sparse_tensor') + MARK + glob('torch', 'sparse_coo') +
              MARK + idx + val + size + TUPLE + TUPLE + REDUCE)
    p = PROTO2 + EMPTY_DICT + s('w.weight') + sparse + SETITEM + STOP
    return torch_zip(p, [('0', b''), ('1', b'')]).bytes()


def case_non_utf8_name():
    """11: a tensor named by bytes that are not UTF-8."""
    p = PROTO2 + EMPTY_DICT + s(b'bad\xff\xfe\xc3name') + tensor('0', 1, [1]) + SETITEM + STOP
    return torch_zip(p, [('0', b'\0' * 4)]).bytes()


def case_safetensors_overlap():
    """13: two tensors over the same bytes, which safetensors refuses."""
    header = {'a': {'dtype': 'U8', 'shape': [4], 'data_offsets': [0, 4]},
              'b': {'dtype': 'U8', 'shape': [4], 'data_offsets': [0, 4]}}
    return safetensors(header, b'\0' * 4)


def case_safetensors_hole():
    """13: a gap between two tensors, which safetensors refuses."""
    header = {'a': {'dtype': 'U8', 'shape': [2], 'data_offsets': [0, 2]},
              'b': {'dtype': 'U8', 'shape': [2], 'data_offsets': [4, 6]}}
    return safetensors(header, b'\0' * 6)


def case_shared_sublists():
    """13: L0 = [t, t], L(k+1) = [Lk, Lk], 19 levels: 2**19 entries from a
    pickle of under 1 KB."""
    p = PROTO2 + EMPTY_DICT + tensor('0', 1, [1]) + put(0) + b'0'
    for k in range(19):
        p += EMPTY_LIST + get(k) + APPEND + get(k) + APPEND + put(k + 1) + b'0'
    p += s('l') + get(19) + SETITEM + STOP
    return torch_zip(p, [('0', b'\0' * 4)]).bytes()


CASES = {
    'f01_rebuild_from_type_loop.pt': case_rebuild_from_type_loop,
    'f02_module_name_bomb.pt': case_module_name_bomb,
    'f03_member_rewalk.pt': case_member_rewalk,
    'f04_code_parameters_scan.pt': case_code_parameters_scan,
    'f05_shared_deflated_record.pt': case_shared_deflated_record,
    'f05_overlapping_records.pt': case_overlapping_records,
    'f06_many_tensors.safetensors': case_many_safetensors,
    'f07_pickle_value_bomb.pt': case_pickle_value_bomb,
    'f07_declared_gib_record.pt': case_declared_gib_record,
    'f07_rank_bomb.safetensors': case_rank_bomb,
    'f12_pickle_rank_bomb.pt': case_pickle_rank_bomb,
    'f09_control_names.safetensors': case_control_names,
    'f10_zip64_stored_size.pt': case_zip64_stored_size,
    'f10_sparse_huge_numel.pt': case_sparse_huge_numel,
    'f11_non_utf8_name.pt': case_non_utf8_name,
    'f13_safetensors_overlap.safetensors': case_safetensors_overlap,
    'f13_safetensors_hole.safetensors': case_safetensors_hole,
    'f13_shared_sublists.pt': case_shared_sublists,
}


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: make_hostile_files.py OUT_DIR')
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, make in CASES.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(make())
    # 8: a FIFO nobody writes to; 9 and 11: file names a terminal or a
    # log line would break on (the file itself is not a checkpoint).
    fifo = os.path.join(out, 'f08_fifo.pt')
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    with open(os.path.join(out, 'f09_name\nwith newline\x1b[2J.pt'), 'wb') as f:
        f.write(b'not a checkpoint')
    with open(os.path.join(out.encode(), b'f11_name_\xff\xfe.safetensors'), 'wb') as f:
        f.write(case_control_names())


if __name__ == '__main__':
    main()
