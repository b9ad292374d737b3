"""What a "show code" snippet's process runs (tests/snippets.py): the process is forked from a server
that has already imported torch and transformers, so each snippet skips their 5 s of imports but
still starts with fresh globals, its own working directory and `__name__ == "__main__"`."""

from __future__ import annotations

import os
import runpy
import sys


def run(script: str, cwd: str, stdout_path: str, stderr_path: str) -> None:
    """Run `script` as `python script` would, in `cwd`, its output in the two files (file descriptors
    1 and 2 too, so output written below Python lands there as well). Raises what the script raises."""
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(cwd)
    sys.argv = [script]
    # A fresh `python script`'s path: the script's folder and the interpreter's own (no project folders).
    sys.path[:] = [os.path.dirname(script)] + [
        path for path in sys.path if path.startswith((sys.prefix, sys.base_prefix))
    ]
    runpy.run_path(script, run_name="__main__")
