"""Run every benchmark once and write results.json, RESULTS.md, latency_ratios.png and many_users.png.

python -m bench.run            # real-size models (.cache/bench-models), about 25 minutes on 2 CPU cores
python -m bench.run --smoke    # tiny models, a few calls each, under a minute (bench/out/smoke)
python -m bench.run --only speech_users,many_users   # re-run those sections, merged into results.json
python -m bench.run --only vllm_users   # many users on vLLM (`bash scripts/setup_vllm.sh` installs it first)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import FULL, OFFLINE_ENV, ROOT, SMOKE, Server, Settings, app_command


def machine() -> dict[str, Any]:
    import gradio
    import torch
    import transformers

    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gradio": gradio.__version__,
    }


SECTIONS = (
    "startup",
    "memory",
    "latency",
    "throughput",
    "generation",
    "many_users",
    "vllm_users",
    "remote_generation",
    "speech_users",
    "fair_share",
    "quantization",
    "fine_tune",
)
APP_SECTIONS = {"memory", "latency", "throughput", "generation"}  # measured on one shared app


def previous_results(out_dir: Path, mode: str) -> dict[str, Any]:
    """The results.json an --only run merges into (its sections not re-run are kept as they are)."""
    path = out_dir / "results.json"
    if not path.is_file():
        raise SystemExit(f"--only merges into {path}, which does not exist: run every section once first")
    results = json.loads(path.read_text())
    if results.get("mode") != mode:
        raise SystemExit(f"{path} holds a {results.get('mode')} run, not {mode}")
    return results


def run(settings: Settings, out_dir: Path, only: Sequence[str] | None = None) -> dict[str, Any]:
    """Measure every section (or those in `only`, merged into out_dir's results.json) and write the outputs."""
    from bench import (
        fair_share,
        fine_tune,
        generation,
        latency,
        many_users,
        memory,
        quantization,
        remote,
        speech_users,
        startup,
        throughput,
        vllm_users,
    )
    from bench.inputs import write_inputs
    from bench.models import ensure_models

    started = time.perf_counter()
    catalog = ensure_models(settings.mode, settings.new_tokens)
    models = catalog.parent
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        work = Path(scratch)
        inputs = write_inputs(work / "inputs")
        wanted = set(only or SECTIONS)
        results: dict[str, Any] = (
            previous_results(out_dir, settings.mode)
            if only
            else {"mode": settings.mode, "machine": machine(), "phase_s": {}}
        )

        def phase(name: str, measure: Callable[[], dict[str, Any]]) -> None:
            if name not in wanted:
                return
            began = time.perf_counter()
            results[name] = measure()
            results["phase_s"][name] = time.perf_counter() - began

        phase("startup", lambda: startup.measure(settings, work))
        if wanted & APP_SECTIONS:
            with Server(app_command(catalog), work, "app") as app:
                phase("memory", lambda: memory.measure(app, catalog, inputs))  # first, on the fresh process
                phase("latency", lambda: latency.measure(models, app, inputs, settings, work))
                phase("throughput", lambda: throughput.measure(models, app, inputs, settings))
                phase("generation", lambda: generation.measure(models, app, settings))
        # Apps of its own (batching on and off), with the main app stopped so they have the CPU.
        phase("many_users", lambda: many_users.measure(models, catalog, settings, work))
        # vLLM's CPU build and two apps of its own (local batching, an endpoint entry on that vLLM), side by
        # side; skipped, with the reason recorded, where vLLM is not installed.
        phase("vllm_users", lambda: vllm_users.measure(models, catalog, settings, work))
        # The engine and an app of its own, also with the main app stopped.
        phase("remote_generation", lambda: remote.measure(models, settings, work))
        # An app with the speech tab alone, also with the main app stopped.
        phase(
            "speech_users",
            lambda: speech_users.measure(models, catalog, settings, getattr(inputs, settings.asr_audio), work),
        )
        # Two apps of its own (the per-user limit set and unset), one after the other.
        phase("fair_share", lambda: fair_share.measure(models, catalog, settings, work))
        # Processes of its own, one per configuration of the generation model, with no app running.
        phase("quantization", lambda: quantization.measure(models, settings, work))
        # Training in this process, no app: the tab's training job against a bare Trainer.
        phase(
            "fine_tune",
            lambda: fine_tune.measure(settings.fine_tune_size, settings.fine_tune_rounds, settings.fine_tune_epochs),
        )
    if not only:
        results["duration_s"] = time.perf_counter() - started
    write_outputs(results, out_dir)
    return results


def write_outputs(results: dict[str, Any], out_dir: Path) -> None:
    from bench.report import markdown, plot, plot_many_users

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (out_dir / "RESULTS.md").write_text(table)
    plot(results, out_dir / "latency_ratios.png")
    plot_many_users(results, out_dir / "many_users.png")
    print(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny models and a few calls: checks the benchmark runs")
    parser.add_argument("--out", type=Path, help="output folder (default: bench/, or bench/out/smoke with --smoke)")
    parser.add_argument(
        "--only",
        help=f"comma-separated sections to re-run, merged into the output folder's "
        f"results.json (sections: {', '.join(SECTIONS)})",
    )
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()] if args.only else None
    unknown = sorted(set(only or ()) - set(SECTIONS))
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(unknown)} (sections: {', '.join(SECTIONS)})")
    os.environ.update(OFFLINE_ENV)
    settings = SMOKE if args.smoke else FULL
    out_dir = args.out or (ROOT / "bench" / "out" / "smoke" if args.smoke else ROOT / "bench")
    run(settings, out_dir, only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
