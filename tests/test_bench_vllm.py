"""The benchmark's many-users-on-vLLM section against a real vLLM server (CPU build), at smoke size:
`make test-vllm` runs it (PLAYGROUND_TEST_ENGINE=vllm). Without vLLM the section is skipped with its
reason, which tests/test_bench_smoke.py checks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from engines import ENGINE

from bench import vllm_users
from bench.common import SMOKE
from bench.models import ensure_models
from bench.report import vllm_users_markdown

pytestmark = pytest.mark.skipif(ENGINE != "vllm", reason="needs vLLM's CPU build: `make test-vllm` runs it")


def test_vllm_users_compares_the_app_vllm_and_the_app_on_vllm_in_rounds(tmp_path: Path) -> None:
    catalog = ensure_models("smoke", SMOKE.new_tokens)
    results = vllm_users.measure(catalog.parent, catalog, SMOKE, tmp_path)

    assert results["engine"]["name"].startswith("vLLM ") and results["model"] == "llama-hd64"
    assert "--api-key *** " in results["engine"]["command"]  # the key checked, never written out
    assert set(results["levels"]) == {str(count) for count in SMOKE.users}
    for clients, level in results["levels"].items():
        for variant in vllm_users.VARIANTS:
            figures = level[variant]
            assert figures["requests"] >= int(clients) and figures["short_requests"] == 0, (clients, variant)
            # every request made exactly the asked-for tokens, through every path
            assert figures["tokens"] == figures["requests"] * SMOKE.user_new_tokens, (clients, variant)
            assert 0 < figures["ttft_p50_s"] <= figures["ttft_p90_s"]
            assert len(level["rounds"][variant]) == SMOKE.engine_rounds
            for name in ("ratio_to_vllm", "ttft_p90_ratio_to_vllm"):
                assert math.isfinite(figures[name]) and figures[name] > 0, (clients, variant, name)
        assert level["vllm"]["ratio_to_vllm"] == 1
    assert set(results["met"]) == {"aggregate_at_16", "first_token_sooner_at_16"}

    table = "\n".join(vllm_users_markdown(results))
    assert "| this app, `endpoint:` entry on that vLLM (browser protocol) |" in table
    assert "| this app, local batching, torch on one thread (browser protocol) |" in table
    assert "× vLLM" in table and "Target at 4 clients" in table
