"""App replicas behind HAProxy (scripts/replicas.py) sharing one engine, under the load test
(scripts/load_test.py --replicas): 64 concurrent mixed clients through the balancer; then, on the same
replicas, the same with one replica stopped mid-test. Not timed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from engines import haproxy_available

pytestmark = pytest.mark.skipif(
    not haproxy_available(), reason="haproxy is not installed (scripts/setup.sh installs it when root)"
)
CLIENTS = 64


@pytest.fixture(scope="module")
def rounds(test_models: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Both rounds on one deployment: every replica up (`before_stop`), then replica 1 stopped 3 s in."""
    summary_path = tmp_path_factory.mktemp("replicas") / "summary.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "load_test.py"),
            "--models",
            str(test_models),
            "--clients",
            str(CLIENTS),
            "--replicas",
            "2",
            "--timeout",
            "240",
            "--json",
            str(summary_path),
            "--stop-replica-after",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    return json.loads(summary_path.read_text())


def test_every_client_through_the_balancer_is_answered_or_told_the_queue_is_full(rounds: dict) -> None:
    summary = rounds["before_stop"]
    assert summary["answered"] + summary["queue_full"] == CLIENTS
    assert summary["lost"] == summary["hung"] == summary["error"] == 0
    assert set(summary["per_replica"]) == {"replica1", "replica2"}, "the balancer spreads clients over both"
    assert summary["per_endpoint"]["/generate"].get("answered"), "the shared engine answered through both replicas"
    assert summary["replicas_alive"] == [True, True] and rounds["engine_alive"]


def test_stopping_one_replica_leaves_the_other_s_clients_unaffected(rounds: dict) -> None:
    summary = rounds
    assert summary["replicas_alive"] == [False, True]
    survivor, stopped = summary["per_replica"]["replica2"], summary["per_replica"]["replica1"]
    assert set(survivor) <= {"answered", "queue_full"} and survivor.get("answered")
    assert not stopped.get("hung") and not summary["hung"], "the stopped replica's clients get an error, not a hang"
