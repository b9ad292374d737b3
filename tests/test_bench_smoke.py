"""The benchmark's smoke mode runs end to end (tiny models, a few calls) so `make bench` never rots.

Only structure is checked: every section is present with finite, positive ratios measured in this run.
Speeds themselves are judged by `make bench` on real-size models, never here.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import OFFLINE_ENV, ROOT

from bench.common import SMOKE
from bench.engines import VLLM_PYTHON
from bench.vllm_users import SKIPPED


def positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def test_bench_smoke_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)],
        cwd=ROOT,
        check=True,
        env={**os.environ, **OFFLINE_ENV},
        timeout=600,
    )
    results = json.loads((out / "results.json").read_text())
    assert results["mode"] == "smoke"

    assert set(results["latency"]) == {"asr", "image_classification", "fill_mask", "zero_shot"}
    for task, latency in results["latency"].items():
        for variant in ("bare", "plain_demo", "app", "app_gradio_client"):
            assert (
                positive(latency[variant]["median_s"]) and latency[variant]["p90_s"] >= latency[variant]["median_s"]
            ), task
        assert positive(latency["ratio_app_bare"]) and positive(latency["ratio_app_plain_demo"]), task
        rounds = latency["samples_s"]
        assert len(rounds["app"]) == len(rounds["bare"]) == latency["app"]["n"] == SMOKE.latency_calls[task]
        # judged round by round: the median of each round's own ratio, not a ratio of medians
        assert latency["ratio_app_bare"] == statistics.median(a / b for a, b in zip(rounds["app"], rounds["bare"]))
        assert latency["ratio_of_medians_app_bare"] == latency["app"]["median_s"] / latency["bare"]["median_s"]
        assert positive(latency["client_floor"]["median_s"]), task

    throughput = results["throughput"]
    assert positive(throughput["bare_sequential_images_per_s"]) and positive(throughput["bare_batched_images_per_s"])
    for endpoint in ("app_batched", "app_unbatched"):
        assert set(throughput[endpoint]) == {"1", "4", "16"}
        assert all(positive(level["ratio_to_bare"]) for level in throughput[endpoint].values())
    assert positive(throughput["ratio_at_16"])
    under_load = throughput["under_load"]
    assert set(under_load["tabs"]) == {"image_classification", "fill_mask"}
    for tab, levels in under_load["tabs"].items():
        assert positive(levels["1"]["images_per_s"]) and positive(levels["16"]["images_per_s"]), tab
        assert levels["ratio_16_to_1"] == levels["16"]["images_per_s"] / levels["1"]["images_per_s"], tab
    assert under_load["met"] == all(
        levels["ratio_16_to_1"] >= under_load["target"] for levels in under_load["tabs"].values()
    )

    generation = results["generation"]
    assert positive(generation["bare"]["ttft_s"]) and positive(generation["app"]["tokens_per_s"])
    assert positive(generation["ratio_tokens_per_s"]) and positive(generation["ratio_ttft"])
    assert positive(generation["ratio_of_medians_tokens_per_s"]) and "medians_ttft_delta_s" in generation
    assert positive(generation["app_gradio_client"]["ttft_s"]) and positive(
        generation["ratio_gradio_client_tokens_per_s"]
    )

    fair = results["fair_share"]
    for variant in ("limit", "no_limit"):
        assert positive(fair[variant]["alone_ttft_s"]) and positive(fair[variant]["ratio"]), variant
        assert fair[variant]["flood_answered"] + fair[variant]["flood_refused"] == fair["flood"], variant
    assert fair["limit"]["flood_refused"] > 0, "the flood's requests beyond its share are refused"
    assert fair["no_limit"]["flood_refused"] == 0

    remote = results["remote_generation"]
    assert positive(remote["engine_client"]["ttft_s"]) and positive(remote["app"]["tokens_per_s"])
    assert (
        positive(remote["ratio_tokens_per_s"]) and positive(remote["ratio_ttft"]) and positive(remote["client_floor_s"])
    )

    many = results["many_users"]
    user_counts = {str(count) for count in SMOKE.users}
    assert set(many["bare_padded_batch"]) == user_counts
    for bare in many["bare_padded_batch"].values():
        assert 0 < bare["first_token_s"] < bare["seconds"]
    for variant, protocols in (("batched", {"browser", "gradio_client"}), ("off", {"browser", "gradio_client"})):
        assert set(many[variant]) == protocols, variant
        for protocol, levels in many[variant].items():
            for clients, level in levels.items():
                assert level["requests"] >= int(clients) and level["tokens"] > 0, (variant, protocol, clients)
                assert positive(level["aggregate_tokens_per_s"]) and positive(level["per_user_tokens_per_s"])
                assert 0 < level["ttft_p50_s"] <= level["ttft_p90_s"]
                assert level["client_cpu_s"] >= 0  # measured in the clients' own process
    assert set(many["batched"]["browser"]) == user_counts and set(many["off"]["browser"]) == user_counts
    assert positive(many["ratio_aggregate_at_16"]) and positive(many["ratio_alone"])
    assert many["met"]["to_bare"] == all(
        value >= many["targets"]["to_bare"] for clients, value in many["ratio_to_bare"].items() if int(clients) > 1
    )
    assert (out / "many_users.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    engine_users = results["vllm_users"]
    if VLLM_PYTHON.exists():  # measured: tests/test_bench_vllm.py checks the figures (`make test-vllm`)
        assert set(engine_users["levels"]) == user_counts
        assert all(positive(level["app"]["ratio_to_vllm"]) for level in engine_users["levels"].values())
    else:
        assert engine_users == {"skipped": SKIPPED} and "scripts/setup_vllm.sh" in SKIPPED
        assert f"Skipped: {SKIPPED}." in (out / "RESULTS.md").read_text()

    speech = results["speech_users"]
    assert positive(speech["bare"]["sequential"]["clips_per_s"]) and positive(speech["bare"]["batch_4"]["clips_per_s"])
    assert set(speech["app"]) == {"cpu_default", "batched"}
    default, batched = speech["app"]["cpu_default"], speech["app"]["batched"]
    assert set(default) == {"browser", "gradio_client"} and set(default["browser"]) == {"1", "4"}
    assert set(batched) == {"browser"} and set(batched["browser"]) == {"4"}  # one at a time is measured once
    # The lone client runs before and after each concurrent level (browser 4, gradio_client 4), and
    # each level is compared with the two runs around it.
    assert default["browser"]["1"]["runs"] == 3 and default["browser"]["1"]["requests"] == 3
    for protocol in ("browser", "gradio_client"):
        around = default[protocol]["4"]["alone_around"]
        assert around["requests"] == 2 and positive(around["clips_per_s"])
    assert speech["cpu_default"]["ratio_to_one_after_another"]["4"] == pytest.approx(
        default["browser"]["4"]["clips_per_s"] / default["browser"]["4"]["alone_around"]["clips_per_s"], rel=1e-3
    )
    for app, protocols in speech["app"].items():
        for protocol, levels in protocols.items():
            for clients, level in levels.items():
                assert level["requests"] >= int(clients) and positive(level["clips_per_s"]), (app, protocol, clients)
                assert 0 < level["latency_p50_s"] <= level["latency_p90_s"] and level["client_cpu_s"] >= 0
                assert level["same_text"]
    # The CPU default runs one request at a time without a batcher (no batch recorded); the batching
    # app's concurrent requests shared a forward pass.
    assert default["browser"]["4"]["peak_batch_size"] == 0
    assert batched["browser"]["4"]["peak_batch_size"] >= 2
    for app in ("cpu_default", "batched"):
        assert positive(speech[app]["ratio_to_one_after_another"]["4"]) and positive(
            speech[app]["ratio_to_bare_batch"]["4"]
        )
    assert speech["met"] == (speech["cpu_default"]["ratio_to_one_after_another"]["4"] >= speech["target_cpu_default"])

    startup = results["startup"]
    assert startup["tabs"] >= 2 and positive(startup["ratio"])

    memory = results["memory"]
    assert [step["model"] for step in memory["steps"]] == ["whisper", "vit", "bert-mlm", "nli", "llama-chat"]
    assert all(step["peak_mb"] >= step["after_mb"] * 0.9 for step in memory["steps"])
    assert positive(memory["ratio_peak_to_limit"]) and positive(memory["ratio_after_unload_to_baseline"])
    # Unloading really returned the models: nothing is left loaded and RSS fell back near the baseline.
    assert memory["loaded_after_unload"] == []
    assert memory["ratio_after_unload_to_baseline"] < 1.5

    quantized = results["quantization"]["variants"]
    assert list(quantized) == ["float32", "float32 packed", "bfloat16", "int8", "int8 + bfloat16", "int4", "offloaded"]
    for name, variant in quantized.items():
        assert positive(variant["rss_after_generation_mb"]) and positive(variant["tokens_per_s"]), name
        assert positive(variant["first_token"]["median_s"]) and positive(variant["memory_ratio"]), name
    assert quantized["float32"]["tokens_per_s_ratio"] == 1 and quantized["int4"]["dtype"] == "bfloat16"

    fine_tune = results["fine_tune"]
    assert fine_tune["rounds"] == SMOKE.fine_tune_rounds == len(fine_tune["tab_steps_per_s"])
    assert all(positive(rate) for rate in fine_tune["tab_steps_per_s"] + fine_tune["bare_steps_per_s"])
    assert positive(fine_tune["ratio_steps_per_s"]) and positive(fine_tune["tab_wall_median_s"])

    table = (out / "RESULTS.md").read_text()
    assert "Quantized and offloaded" in table
    assert "Fine-tune: the tab's training against a bare `Trainer`" in table
    assert "app / bare" in table and "tokens/s" in table and "Many users" in table and "served by an engine" in table
    assert "Many users transcribing" in table
    assert (out / "latency_ratios.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_before_after_smoke_compares_two_revisions_in_one_run(tmp_path: Path) -> None:
    from bench.before_after import SECTIONS, SMOKE_ROUNDS
    from bench.latency import TASKS

    out = tmp_path / "before-after"
    subprocess.run(
        [sys.executable, "-m", "bench.before_after", "--baseline", "HEAD", "--smoke", "--out", str(out)],
        cwd=ROOT,
        check=True,
        env={**os.environ, **OFFLINE_ENV},
        timeout=600,
    )
    results = json.loads((out / "before_after.json").read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert results["mode"] == "smoke" and results["before"]["commit"] == head.stdout.strip()
    assert set(results["phase_s"]) == set(SECTIONS)

    startup = results["startup"]
    assert [len(startup["samples_s"][side]) for side in ("before", "after")] == [SMOKE_ROUNDS.startup] * 2
    assert set(results["latency"]["samples_s"]) == set(TASKS)
    assert set(results["many_users"]["levels"]) == {str(clients) for clients in SMOKE_ROUNDS.users}
    for level in results["many_users"]["levels"].values():
        for side in ("before", "after"):
            assert all(run["tokens"] > 0 for run in level["rounds"][side])
    figures = [figure for section in SECTIONS for figure in results[section]["figures"]]
    assert len(figures) == 1 + len(TASKS) + 2 * len(SMOKE_ROUNDS.users)
    for figure in figures:
        assert positive(figure["before"]) and positive(figure["after"]), figure["figure"]
        # judged round by round: the median of each round's own after / before
        assert figure["ratio"] == statistics.median(figure["round_ratios"]), figure["figure"]
        assert figure["ratio_q1"] <= figure["ratio"] <= figure["ratio_q3"], figure["figure"]
    (first_start,) = startup["figures"]
    assert first_start["round_ratios"] == [
        after / before for before, after in zip(startup["samples_s"]["before"], startup["samples_s"]["after"])
    ]
    assert results["no_worse"] == all(figure["no_worse"] for figure in figures)

    table = (out / "BEFORE_AFTER.md").read_text()
    assert all(f"| {figure['figure']} |" in table for figure in figures)
    # The baseline's temporary worktree is removed and unregistered.
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "bench-before-after-" not in worktrees.stdout
