"""The shared snippet runner: output comes back, input files are beside the snippet, failures say why."""

from __future__ import annotations

import pytest
from snippets import run_snippet


def test_runs_offline_beside_its_files(tmp_path) -> None:  # noqa: ANN001
    source = tmp_path / "words.txt"
    source.write_text("hello")
    code = (
        "import os\nprint(open('words.txt').read(), open('raw.bin', 'rb').read().hex(), os.environ['HF_HUB_OFFLINE'])\n"
    )
    assert run_snippet(code, {"words.txt": source, "raw.bin": b"\x01\x02"}) == "hello 0102 1\n"


def test_a_broken_snippet_fails_with_its_error() -> None:
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        run_snippet("print(1 / 0)\n")
