#!/usr/bin/python3
"""Proves the malicious fixtures are malicious, and that ptscope never runs them.

For every row of fixtures/malicious/expected.tsv:
  * runs_under torch.load / numpy.load / pickle.load: copy the fixture into a
    fresh temporary folder, load it there in a subprocess (torch.load with
    weights_only=False; numpy.load(allow_pickle=True) and every array read;
    pickle.load) and require its payload file `ptscope_payload_ran_<stem>` to
    appear there.  A payload that does not run fails the check: the fixture
    would prove nothing.
  * runs_under none on a payload fixture: torch.load (and torch.jit.load) must
    NOT create the payload file, so the table's claim holds.
With --ptscope BIN, then runs `BIN inspect`, `BIN estimate` and `BIN scan` on
every fixture from a fresh temporary folder and requires that no payload file
appears there or next to the fixtures.  `scan` may not exist yet: exit 2 with
"unknown command" is tolerated; any other usage error (2), a crash (signal) or
a hang fails.

Exit 0: all good; 1: a check failed; 77: /usr/bin/python3 has no torch (skip).

    /usr/bin/python3 scripts/check_malicious_payloads.py [--ptscope build/ptscope] [-k SUBSTRING]
"""

import argparse
import concurrent.futures
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PAYLOAD_PREFIX = "ptscope_payload_ran"
LOAD_TIMEOUT = 180
PTSCOPE_TIMEOUT = 60

LOADERS = {
    "torch.load": "import sys, torch\ntorch.load(sys.argv[1], weights_only=False)\n",
    "numpy.load": ("import sys, numpy\n"
                   "r = numpy.load(sys.argv[1], allow_pickle=True)\n"
                   "if hasattr(r, 'files'):\n"
                   "    [r[k] for k in r.files]\n"),
    "pickle.load": "import sys, pickle\npickle.load(open(sys.argv[1], 'rb'))\n",
}
# What "runs_under none" is checked against.
NOT_RUN_LOADERS = {
    "torch.load": LOADERS["torch.load"],
    "torch.jit.load": "import sys, torch\ntorch.jit.load(sys.argv[1])\n",
}


def payload_name(file_name):
    return f"{PAYLOAD_PREFIX}_{file_name.split('.')[0]}"


def payload_files(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith(PAYLOAD_PREFIX))


def contained_env(home):
    """The loader's environment: HOME and caches inside its temporary folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home), PIP_NO_CACHE_DIR="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def run_loader(fixture, code):
    """Loads a copy of `fixture` in a fresh folder; returns (payload files, rc, tail)."""
    with tempfile.TemporaryDirectory(prefix="ptscope_mal_") as tmp:
        copy = Path(tmp) / fixture.name
        shutil.copyfile(fixture, copy)
        try:
            r = subprocess.run([sys.executable, "-c", code, fixture.name], cwd=tmp,
                               env=contained_env(tmp), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=LOAD_TIMEOUT)
            rc, tail = r.returncode, (r.stderr.strip().splitlines() or [""])[-1]
        except subprocess.TimeoutExpired:
            rc, tail = "timeout", ""
        return payload_files(tmp), rc, tail


def check_loader(row, folder):
    fixture = folder / row["file"]
    want = payload_name(row["file"])
    if row["runs_under"] in LOADERS:
        found, rc, tail = run_loader(fixture, LOADERS[row["runs_under"]])
        ok = want in found
        return ok, f"{row['runs_under']}: payload {'ran' if ok else 'DID NOT RUN'} (rc {rc}{': ' + tail if tail and rc else ''})"
    if row["verdict"] != "dangerous":
        return True, "control: not loaded"
    msgs, ok = [], True
    for name, code in NOT_RUN_LOADERS.items():
        found, rc, tail = run_loader(fixture, code)
        if found:
            ok = False
        msgs.append(f"{name}: {'payload RAN although runs_under is none' if found else 'no payload'} (rc {rc})")
    return ok, "; ".join(msgs)


def check_ptscope(row, folder, binary):
    fixture = (folder / row["file"]).resolve()
    problems = []
    for cmd in ("inspect", "estimate", "scan"):
        with tempfile.TemporaryDirectory(prefix="ptscope_mal_cli_") as tmp:
            try:
                r = subprocess.run([binary, cmd, str(fixture)], cwd=tmp, env=contained_env(tmp),
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   timeout=PTSCOPE_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append(f"{cmd}: timed out")
                continue
            found = payload_files(tmp) + payload_files(folder)
            if found:
                problems.append(f"{cmd}: PAYLOAD RAN ({', '.join(found)})")
            if r.returncode < 0:
                problems.append(f"{cmd}: killed by signal {-r.returncode}")
            elif r.returncode == 2 and not (cmd == "scan" and "unknown command" in r.stderr):
                problems.append(f"{cmd}: usage error: {r.stderr.strip()[:200]}")
    return not problems, "; ".join(problems) or "ptscope inspect/estimate/scan: no payload"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ptscope", help="ptscope binary to check as well")
    parser.add_argument("--dir", default=str(REPO_ROOT / "fixtures" / "malicious"))
    parser.add_argument("-k", default="", help="only fixtures whose name contains this")
    parser.add_argument("-j", type=int, default=2, help="parallel loaders (default 2)")
    args = parser.parse_args()

    probe = subprocess.run([sys.executable, "-c", "import torch, numpy"], capture_output=True)
    if probe.returncode != 0:
        print(f"skip: {sys.executable} cannot import torch and numpy")
        return 77

    folder = Path(args.dir).resolve()
    with open(folder / "expected.tsv", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if args.k in r["file"]]
    if not rows:
        print("no fixtures selected")
        return 1
    stray = payload_files(folder)
    if stray:
        print(f"payload files next to the fixtures before the check: {stray}")
        return 1

    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
        results = list(pool.map(lambda r: check_loader(r, folder), rows))
    for row, (ok, msg) in zip(rows, results):
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {row['file']:34} {msg}")

    if args.ptscope:
        binary = str(Path(args.ptscope).resolve())
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
            results = list(pool.map(lambda r: check_ptscope(r, folder, binary), rows))
        for row, (ok, msg) in zip(rows, results):
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {row['file']:34} {msg}")

    print(f"{len(rows)} fixtures, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
