"""Start-up: `python app.py` (the shipped models.yaml) until its page answers, against a bare
gr.Blocks with the same number of empty tabs. Runs alternate so both see the same machine load. The
app's modules are compiled to bytecode first, as any earlier start leaves them (Gradio's are installed so).
Then each, started and left alone (after as long again to settle), is read for the CPU it uses doing
nothing: Gradio's queue looks for work every millisecond, the app's waits to be woken
(playground.web.gradio_patches)."""

from __future__ import annotations

import compileall
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Server, Settings, app_command, idle_cpu_share, ratio, say

TARGET = 1.3


def tab_count(catalog: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from app import selected_tabs
    from playground.config.catalog import load_catalog

    return len(selected_tabs(load_catalog(catalog), None))  # the Models tab included


def compile_app() -> None:
    """The app's modules as bytecode, as any start leaves them (Gradio's own are, in site-packages): in a
    fresh checkout, or with PYTHONDONTWRITEBYTECODE set, every measured start would compile them anew
    (about 110 modules, a tenth of a second), which a deployed app does once."""
    compileall.compile_file(ROOT / "app.py", quiet=1)
    for folder in ("playground", "tabs"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def settled_idle_cpu(pid: int, seconds: float) -> float:
    """Idle CPU once start-up has settled: the app finishes start-up work (about 7 % of a core) for a few
    seconds after its page first answers, so the first `seconds` are skipped."""
    time.sleep(seconds)
    return idle_cpu_share(pid, seconds)


def measure(settings: Settings, log_dir: Path) -> dict[str, Any]:
    say("start-up …")
    compile_app()
    catalog = ROOT / "models.yaml"
    tabs = tab_count(catalog)
    times: dict[str, list[float]] = {"app": [], "blocks": []}
    idle: dict[str, list[float]] = {"app": [], "blocks": []}
    for _ in range(settings.startup_runs):
        with Server(app_command(catalog), log_dir, "startup-app") as app:
            times["app"].append(app.startup_s)
            idle["app"].append(settled_idle_cpu(app.pid, settings.idle_cpu_s))
        with Server(
            [sys.executable, "-m", "bench.empty_tabs", str(tabs), "{port}"], log_dir, "startup-blocks"
        ) as blocks:
            times["blocks"].append(blocks.startup_s)
            idle["blocks"].append(settled_idle_cpu(blocks.pid, settings.idle_cpu_s))
    app_s, blocks_s = statistics.median(times["app"]), statistics.median(times["blocks"])
    value = ratio(app_s, blocks_s)
    return {
        "tabs": tabs,
        "app_s": app_s,
        "blocks_s": blocks_s,
        "runs": settings.startup_runs,
        "ratio": value,
        "target": TARGET,
        "met": value <= TARGET,
        "idle_cpu_s": settings.idle_cpu_s,
        "app_idle_cpu": statistics.median(idle["app"]),
        "blocks_idle_cpu": statistics.median(idle["blocks"]),
    }
