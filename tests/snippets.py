"""Run a "show code" snippet the way a learner would: a fresh Python, offline, beside its input files.

    stdout = run_snippet(code, files={"photo.png": path_or_bytes})
    stdout = run_snippet(code, files, cwd=test_models)  # where the catalog's relative model paths resolve
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping

from conftest import OFFLINE_ENV


def run_snippet(code: str, files: Mapping[str, Path | bytes] | None = None, timeout: float = 300,
                cwd: Path | None = None) -> str:
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
        result = subprocess.run(
            [sys.executable, str(script)], cwd=workdir, env={**os.environ, **OFFLINE_ENV},
            capture_output=True, text=True, timeout=timeout,
        )
    assert result.returncode == 0, f"the snippet does not run as printed:\n{code}\n--- stderr ---\n{result.stderr[-3000:]}"
    return result.stdout


def last_line(stdout: str) -> str:
    """What a snippet printed last (its result)."""
    return stdout.strip().splitlines()[-1]
