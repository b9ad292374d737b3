"""scripts/gpu_check.py where there is no GPU: it says so in one JSON report and runs nothing; its
report's format and exit status; and a check that a CPU can run, through the real model manager."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import gpu_check  # noqa: E402


def test_without_cuda_it_says_so_exits_0_and_runs_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TMPDIR": str(tmp_path)}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gpu_check.py")], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert report["cuda"] is False and report["ok"] is True
    assert "CUDA is not available" in report["message"]
    assert "checks" not in report
    assert list(tmp_path.iterdir()) == []  # no models written, no app started
    assert time.perf_counter() - began < 60


def test_report_lists_every_check_with_its_outcome_and_fails_on_any_failure() -> None:
    def fails() -> dict:
        gpu_check.expect(1 + 1 == 3, "arithmetic is off")
        return {}

    results = gpu_check.run_checks(
        [
            gpu_check.Check("passes", lambda: {"answer": 42}),
            gpu_check.Check("fails", fails),
            gpu_check.Check("crashes", lambda: {}["missing"]),
        ]
    )
    report = json.loads(json.dumps(gpu_check.report(results, "Test GPU", 1.234)))
    assert report["cuda"] is True and report["ok"] is False and report["device"] == "Test GPU"
    assert [c["name"] for c in report["checks"]] == ["passes", "fails", "crashes"]
    passed, failed, crashed = report["checks"]
    assert passed["ok"] is True and passed["details"] == {"answer": 42} and passed["seconds"] >= 0
    assert failed == {"name": "fails", "ok": False, "error": "arithmetic is off", "seconds": failed["seconds"]}
    assert crashed["ok"] is False and crashed["error"] == "KeyError: 'missing'" and "traceback" in crashed
    assert gpu_check.report([passed], "Test GPU", 1.0)["ok"] is True


def test_checks_left_when_the_time_budget_is_spent_are_failed_as_not_run() -> None:
    ran = []
    results = gpu_check.run_checks(
        [gpu_check.Check("slow", lambda: ran.append("slow") or time.sleep(0.2) or {}), gpu_check.Check("late", dict)],
        budget_s=0.1,
    )
    assert ran == ["slow"] and results[0]["ok"] is True
    assert results[1] == {"name": "late", "ok": False, "error": "not run: the 0.1 s budget was spent"}


def test_unknown_check_names_are_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        gpu_check.main(["--only", "device_auto,no_such_check"])
    assert stopped.value.code == 2
    assert "unknown check(s) no_such_check" in capsys.readouterr().err


def test_a_quantized_load_check_runs_through_the_model_manager_on_this_cpu(test_models: Path) -> None:
    details = gpu_check.check_quantized(test_models, "int8")
    assert details["device"] == "cpu" and "Int8Tensor" in details["weight_types"]
    assert details["text"].startswith("the cat")
