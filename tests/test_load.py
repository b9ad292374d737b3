"""The load-test command (scripts/load_test.py, `make load-test`) on a small scale: 20 concurrent mixed
clients against a queue of 4. Every request is answered or told the queue is full; none is lost or
hangs, none fails, and the app's memory stays bounded. Not a timed test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_concurrent_clients_are_answered_or_told_the_queue_is_full(test_models: Path, tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "load_test.py"),
            "--models",
            str(test_models),
            "--clients",
            "20",
            "--queue-size",
            "4",
            "--timeout",
            "240",
            "--json",
            str(summary_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["answered"] + summary["queue_full"] == 20
    assert summary["lost"] == summary["hung"] == summary["error"] == 0
    assert summary["answered"] >= 4 and summary["queue_full"] >= 1, "the bounded queue must both serve and refuse"
    assert summary["app_alive"] and summary["rss_peak_mb"] - summary["rss_baseline_mb"] <= 512
    assert "OK" in result.stdout
