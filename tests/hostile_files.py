#!/usr/bin/env python3
"""Runs ptscope on every file scripts/make_hostile_files.py writes, under a
memory fence, and checks each run the way issue 14 asks:

  exit 0 or 1 (3 allowed for scan), at most one line on stderr, under
  MAX_SECONDS of CPU (and MAX_WALL_SECONDS of wall time), peak RSS under
  MAX_RSS, no raw control byte on stdout, and valid JSON where JSON was
  asked for.

    hostile_files.py PTSCOPE SOURCE_DIR [--report]

The address-space fence (RLIMIT_AS, as `prlimit --as` sets it) is well above
MAX_RSS so that a bomb shows up as a measured failure, not as the allocator
giving up. --report prints time and peak memory per run.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

# Issue 14 asks for 2 s. Measured as CPU time (user + system), which the
# other jobs of a loaded machine do not inflate; wall time is the hang guard
# (a read blocked on a FIFO costs no CPU), at a bound loose enough for -j2.
MAX_SECONDS = 2.0
MAX_WALL_SECONDS = 10.0
MAX_RSS = 256 << 20
FENCE = 1 << 30

# Control bytes a terminal acts on: C0 except newline, DEL, and the UTF-8
# encoding of C1 (0xC2 0x80..0x9F).
def control_byte(out, allowed=b'\n'):
    for k, b in enumerate(out):
        if (b < 0x20 and b not in allowed) or b == 0x7f:
            return k
        if b == 0xc2 and k + 1 < len(out) and 0x80 <= out[k + 1] <= 0x9f:
            return k
    return None


def fence():
    resource.setrlimit(resource.RLIMIT_AS, (FENCE, FENCE))


def run(cmd):
    """(exit status or None when killed, stdout, stderr, wall seconds, CPU
    seconds, peak RSS bytes) of one run: os.wait4 gives this child's own
    rusage."""
    with tempfile.TemporaryFile() as o, tempfile.TemporaryFile() as e:
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=o, stderr=e, preexec_fn=fence)
        killer = threading.Timer(MAX_WALL_SECONDS * 2, p.kill)
        killer.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - start
        killer.cancel()
        p.returncode = 0  # reaped above; keeps Popen from waiting again
        o.seek(0)
        e.seek(0)
        rc = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        return (None if rc < 0 else rc), o.read(), e.read(), wall, cpu, usage.ru_maxrss * 1024


def main():
    ptscope, source = sys.argv[1], sys.argv[2]
    report = '--report' in sys.argv
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(source, 'scripts', 'make_hostile_files.py'), tmp],
                       check=True)
        files = sorted(os.listdir(tmp.encode()))
        for f in files:
            path = os.path.join(tmp.encode(), f)
            runs = [('inspect', [b'inspect', path], False),
                    ('inspect --tensors', [b'inspect', b'--tensors', path], False),
                    ('inspect -f json', [b'-f', b'json', b'inspect', path], True),
                    ('inspect --tensors -f csv', [b'-f', b'csv', b'inspect', b'--tensors', path], False),
                    ('inspect --tensors -f tsv', [b'-f', b'tsv', b'inspect', b'--tensors', path], False),
                    ('estimate', [b'estimate', path], False),
                    ('estimate -f json', [b'-f', b'json', b'estimate', path], True),
                    ('scan', [b'scan', path], False),
                    ('scan -f json', [b'-f', b'json', b'scan', path], True)]
            for what, args, want_json in runs:
                rc, out, err, wall, cpu, rss = run([ptscope.encode()] + args)
                name = f.decode('utf-8', 'backslashreplace')
                label = '%s: %s' % (name, what)
                problems = []
                allowed = (0, 1, 3) if what.startswith('scan') else (0, 1)
                if rc is None:
                    problems.append('killed (a signal, or past %.0f s)' % (MAX_WALL_SECONDS * 2))
                elif rc not in allowed:
                    problems.append('exit %d' % rc)
                if err.count(b'\n') > 1 or (err and not err.endswith(b'\n')):
                    problems.append('stderr is not one line: %r' % err[:300])
                if cpu > MAX_SECONDS:
                    problems.append('took %.2f s of CPU' % cpu)
                if wall > MAX_WALL_SECONDS:
                    problems.append('took %.2f s of wall time' % wall)
                if rss > MAX_RSS:
                    problems.append('peak RSS %d MiB' % (rss >> 20))
                # Newlines end lines; TSV's tab is its separator.
                k = control_byte(out, b'\n\t' if 'tsv' in what else b'\n')
                if k is not None:
                    problems.append('raw control byte on stdout: %r' % out[max(0, k - 20):k + 20])
                if want_json and rc == 0:
                    try:
                        json.loads(out.decode('utf-8'))
                    except (UnicodeDecodeError, ValueError) as e:
                        problems.append('invalid JSON: %s' % e)
                if report:
                    print('%-60s exit %s  cpu %.3f s  wall %.3f s  %4d MiB  %s' % (
                        label[:60], rc, cpu, wall, rss >> 20, err.decode('utf-8', 'backslashreplace').strip()[:100]))
                for p in problems:
                    failures.append('%s: %s' % (label, p))
    for f in failures:
        print('FAIL ' + f)
    print('%d hostile files, %d failures' % (len(files), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
