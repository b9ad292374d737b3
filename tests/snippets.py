"""Run a "show code" snippet the way a learner would: a new process, offline, beside its input files.

The process is forked from a server that already imported torch and transformers
(tests/snippet_process.py, multiprocessing's forkserver): the snippet's own imports and globals are
still its own, and the suite skips 5 s of imports per snippet.

    stdout = run_snippet(code, files={"photo.png": path_or_bytes})
    stdout = run_snippet(code, files, cwd=test_models)  # where the catalog's relative model paths resolve
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conftest import OFFLINE_ENV

# What the fork server imports once, for every snippet's process (from site-packages: Python 3.11's
# server does not see this folder on its path).
PRELOAD = ["numpy", "PIL.Image", "torch", "transformers.pipelines"]
_forkserver: Any = None


def _context() -> Any:
    """The forkserver context (its server starts on first use, with this process's environment, made
    offline as conftest made it)."""
    global _forkserver
    if _forkserver is None:
        # Libraries rewrite some of these in-process (a gr.Blocks sets HF_HUB_DISABLE_TELEMETRY=True,
        # generate() TOKENIZERS_PARALLELISM=0): the server starts with the offline environment again.
        os.environ.update(OFFLINE_ENV)
        _forkserver = multiprocessing.get_context("forkserver")
        _forkserver.set_forkserver_preload(PRELOAD)
    return _forkserver


def run_snippet(
    code: str, files: Mapping[str, Path | bytes] | None = None, timeout: float = 300, cwd: Path | None = None
) -> str:
    """Execute `code` as `snippet.py` in a new folder (or in `cwd`) holding `files` (name -> path or
    bytes); its stdout.

    Fails the test with the snippet and its stderr when it does not run as printed.
    """
    with tempfile.TemporaryDirectory(prefix="snippet-") as folder:
        workdir = Path(cwd or folder)
        for name, content in (files or {}).items():
            target = workdir / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            elif Path(content).resolve() != target.resolve():
                shutil.copy(content, target)
        script = Path(folder) / "snippet.py"
        script.write_text(code)
        stdout, stderr = Path(folder) / "stdout.txt", Path(folder) / "stderr.txt"
        stdout.touch()
        stderr.touch()
        from snippet_process import run

        process = _context().Process(target=run, args=(str(script), str(workdir), str(stdout), str(stderr)))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
        printed, errors = stdout.read_text(errors="replace"), stderr.read_text(errors="replace")
    assert process.exitcode == 0, (
        f"the snippet does not run as printed (exit code {process.exitcode}):\n{code}\n--- stderr ---\n{errors[-3000:]}"
    )
    return printed


def last_line(stdout: str) -> str:
    """What a snippet printed last (its result)."""
    return stdout.strip().splitlines()[-1]
