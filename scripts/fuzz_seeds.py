#!/usr/bin/env python3
"""Collects the fuzz harnesses' seed corpora from the committed fixtures, so
that no fixture is copied into the repository twice (README "Fuzzing").

    scripts/fuzz_seeds.py OUT

writes OUT/load, OUT/inspect, OUT/scan (every fixture file up to MAX_SEED
bytes, hard links where possible) and OUT/folder (each fixture folder packed
as tests/fuzz/fuzz_folder.cc reads it), then adds the committed corpus
(tests/fuzz/corpus/NAME: seeds of its own and every finding's regression
file). Any python3 will do: it only copies bytes.
"""
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
COMMITTED = os.path.join(ROOT, "tests", "fuzz", "corpus")
# Mutating a megabyte input is slow and finds little the small ones do not;
# scripts/fuzz.sh passes the same figure to libFuzzer as -max_len.
MAX_SEED = 256 * 1024
ONE_FILE = ("load", "inspect", "scan")


def place(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def pack(folder):
    """A fixture folder as fuzz_folder.cc's records: name NUL u32-LE length
    bytes; names relative to the folder, at most one level deep."""
    out = b""
    for dirpath, _, names in sorted(os.walk(folder)):
        for n in sorted(names):
            path = os.path.join(dirpath, n)
            rel = os.path.relpath(path, folder)
            if rel.count(os.sep) > 1:
                continue
            data = open(path, "rb").read()
            out += rel.replace(os.sep, "/").encode() + b"\0" + struct.pack("<I", len(data)) + data
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    for name in ONE_FILE + ("folder",):
        os.makedirs(os.path.join(out, name), exist_ok=True)
    count = {name: 0 for name in ONE_FILE + ("folder",)}
    for dirpath, _, names in sorted(os.walk(FIXTURES)):
        for n in sorted(names):
            path = os.path.join(dirpath, n)
            if os.path.getsize(path) > MAX_SEED:
                continue
            flat = os.path.relpath(path, FIXTURES).replace(os.sep, "__")
            for name in ONE_FILE:
                place(path, os.path.join(out, name, flat))
                count[name] += 1
    # Folders read as one model: sharded models, DCP, DeepSpeed run folders.
    for group in ("folders", "dcp", "deepspeed"):
        base = os.path.join(FIXTURES, group)
        for sub in sorted(os.listdir(base)):
            folder = os.path.join(base, sub)
            if not os.path.isdir(folder):
                continue
            packed = pack(folder)
            if len(packed) <= MAX_SEED:
                with open(os.path.join(out, "folder", group + "__" + sub), "wb") as f:
                    f.write(packed)
                count["folder"] += 1
    for name in count:
        committed = os.path.join(COMMITTED, name)
        for n in sorted(os.listdir(committed)) if os.path.isdir(committed) else []:
            place(os.path.join(committed, n), os.path.join(out, name, "committed__" + n))
            count[name] += 1
    print("fuzz_seeds: " + ", ".join(f"{n} {c}" for n, c in count.items()))


if __name__ == "__main__":
    main()
