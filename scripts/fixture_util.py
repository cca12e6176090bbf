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
