"""Before/after: another revision's app (the baseline) against this checkout's, measured in one run.

    python -m bench.before_after --baseline b3c9e8c            # real-size models, about 25 minutes
    python -m bench.before_after --baseline HEAD~3 --smoke     # tiny models, about a minute
    make bench-compare BASELINE=b3c9e8c

On a machine shared with other work, two benchmark runs started at different times meet different
loads, so their figures cannot be set side by side. Here both revisions are measured in the same run,
interleaved round by round (the order alternating: before, after, then after, before), and each figure
is judged on the median of the rounds' own after ÷ before ratios (bench.common.paired_ratio): a slow
stretch slows both sides of a round alike and drops out of its ratio.

The baseline is checked out with `git worktree add --detach` into a scratch folder (removed at the
end) and runs on this venv, with the same bench catalog and models (bench/models.py):
- start-up: each revision's app.py until its page answers, one start of each a round;
- then both apps, the whole bench catalog, up at once for the other two sections:
- latency: each task's browser-protocol call (bench/latency.py, bench/browser.py) on one app, then the
  other, a round per pair;
- many users: 1, 4 and 16 concurrent streaming /generate clients (bench/users.py, in a process of its
  own) on one app, then the other, a round per pair and level; aggregate tokens/s and first-token p90.

Writes before_after.json and BEFORE_AFTER.md to bench/ (with --smoke: bench/out/before-after-smoke),
after every section, so an interrupted run keeps the sections it finished.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import FULL, OFFLINE_ENV, ROOT, SMOKE, Server, Settings, app_command, ratio, say, summary, timed

SIDES = ("before", "after")
Progress = Callable[[dict[str, Any]], None]
SECTIONS = ("startup", "latency", "many_users")
# How far after ÷ before may stray the wrong way and still count as "no worse". Medians of several
# seconds (start-up, latency) and aggregate tokens/s move by a few percent between rounds of the same
# code on this shared machine, so 5 %; a first-token p90 is a tail (at 16 clients one round's p90 is
# its second-slowest request) and moves by 10-15 % between rounds, so 10 %.
TOLERANCE = {"median": 0.05, "tail": 0.10}


@dataclass(frozen=True)
class Rounds:
    """How many rounds each comparison runs (a round: one measurement of each revision)."""

    startup: int
    startup_warmups: int  # untimed starts of each first: bytecode compiled, files in the page cache
    latency: dict[str, int]  # task (bench.latency.TASKS) -> rounds, after one warm-up call each
    users: dict[int, int]  # concurrent /generate clients -> rounds

    def capped(self, most: int) -> Rounds:
        """At most `most` rounds of each comparison (a loaded machine's run that must end in time)."""
        return Rounds(
            startup=min(self.startup, most),
            startup_warmups=self.startup_warmups,
            latency={task: min(count, most) for task, count in self.latency.items()},
            users={clients: min(count, most) for clients, count in self.users.items()},
        )


FULL_ROUNDS = Rounds(
    startup=6,
    startup_warmups=1,
    # ASR calls take about 12 s each (30 s of audio), the others 0.2-0.6 s and so noisier: more rounds.
    latency={"asr": 8, "image_classification": 25, "fill_mask": 40, "zero_shot": 25},
    users={1: 5, 4: 5, 16: 5},
)
SMOKE_ROUNDS = Rounds(
    startup=1,
    startup_warmups=0,
    latency={"asr": 2, "image_classification": 2, "fill_mask": 2, "zero_shot": 2},
    users={1: 2, 4: 1},
)


def sides_in_round(index: int) -> tuple[str, str]:
    """Before first in even rounds, after first in odd ones, so neither always meets the other's wake."""
    return SIDES if index % 2 == 0 else SIDES[::-1]


def comparison(
    figure: str, before: Sequence[float], after: Sequence[float], higher_is_better: bool, tolerance: float
) -> dict[str, Any]:
    """One judged figure from paired rounds: each side's median, the median of the rounds' after ÷ before
    ratios, their middle half (how much the rounds disagree), and whether it is no worse than `tolerance`."""
    round_ratios = [ratio(a, b) for a, b in zip(after, before, strict=True)]
    value = statistics.median(round_ratios)
    quartiles = statistics.quantiles(round_ratios, n=4, method="inclusive") if len(round_ratios) > 1 else [value] * 3
    no_worse = value >= 1 - tolerance if higher_is_better else value <= 1 + tolerance
    return {
        "figure": figure,
        "before": statistics.median(before),
        "after": statistics.median(after),
        "ratio": value,
        "ratio_q1": quartiles[0],
        "ratio_q3": quartiles[2],
        "rounds": len(round_ratios),
        "round_ratios": round_ratios,
        "higher_is_better": higher_is_better,
        "tolerance": tolerance,
        "no_worse": no_worse,
    }


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


@contextmanager
def baseline_checkout(revision: str, scratch: Path) -> Iterator[Path]:
    """A detached worktree of `revision` in `scratch`, removed (and unregistered) on the way out."""
    path = scratch / "baseline"
    git("worktree", "add", "--detach", str(path), revision)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False)


def start_both(roots: dict[str, Path], catalog: Path, work: Path) -> dict[str, Server]:
    """Both revisions' apps launched together on their own ports, returned once both pages answer."""
    servers: dict[str, Server] = {}
    try:
        for side in SIDES:
            servers[side] = Server(
                app_command(catalog, root=roots[side]), work, f"app-{side}", wait=False, cwd=roots[side]
            )
        for server in servers.values():
            server.wait()
    except BaseException:
        stop_all(servers)
        raise
    return servers


def stop_all(servers: dict[str, Server]) -> None:
    for server in servers.values():
        server.stop()


def measure_startup(roots: dict[str, Path], catalog: Path, rounds: Rounds, work: Path) -> dict[str, Any]:
    """Each revision's app started alone until its page answers, alternating, one start of each a round."""
    times: dict[str, list[float]] = {side: [] for side in SIDES}
    for index in range(rounds.startup_warmups + rounds.startup):
        for side in sides_in_round(index):
            with Server(app_command(catalog, root=roots[side]), work, f"startup-{side}", cwd=roots[side]) as app:
                if index >= rounds.startup_warmups:
                    times[side].append(app.startup_s)
    say(f"start-up: before {statistics.median(times['before']):.2f} s, after {statistics.median(times['after']):.2f} s")
    return {
        "samples_s": times,
        "figures": [
            comparison("Start-up, page answers (s)", times["before"], times["after"], False, TOLERANCE["median"])
        ],
    }


def task_call(task: str, session: Any, inputs: Any, asr_audio: str) -> Callable[[], Any]:
    """One call of `task` the way the page makes it (bench.latency's endpoint, inputs and file)."""
    from bench.latency import app_arguments, browser_call, input_file

    endpoint, _ = app_arguments(task, None, inputs)
    return browser_call(
        session, endpoint, input_file(task, inputs, asr_audio), lambda value: app_arguments(task, value, inputs)[1]
    )


def measure_latency(
    servers: dict[str, Server], inputs: Any, settings: Settings, rounds: Rounds, progress: Progress
) -> dict[str, Any]:
    """Each task's call as the page makes it, on one app then the other, a round per pair (`progress`
    gets the section so far after each task)."""
    from bench.browser import BrowserSession
    from bench.latency import TASKS

    sessions = {side: BrowserSession(server.url) for side, server in servers.items()}
    samples: dict[str, dict[str, list[float]]] = {}
    figures = []
    try:
        for task in TASKS:
            say(f"latency: {task}, {rounds.latency[task]} rounds …")
            calls = {side: task_call(task, session, inputs, settings.asr_audio) for side, session in sessions.items()}
            for call in calls.values():
                call()  # warm-up: the app loads its model on first use
            samples[task] = {side: [] for side in SIDES}
            for index in range(rounds.latency[task]):
                for side in sides_in_round(index):
                    samples[task][side].append(timed(calls[side]))
            figures.append(
                comparison(
                    f"Latency, {task} (s)",
                    samples[task]["before"],
                    samples[task]["after"],
                    False,
                    TOLERANCE["median"],
                )
            )
            progress(latency_section(settings, samples, figures))
    finally:
        for session in sessions.values():
            session.close()
    return latency_section(settings, samples, figures)


def latency_section(
    settings: Settings, samples: dict[str, dict[str, list[float]]], figures: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "asr_audio": settings.asr_audio,
        "samples_s": samples,
        "summary": {
            task: {side: summary(values) for side, values in by_side.items()} for task, by_side in samples.items()
        },
        "figures": figures,
    }


def measure_many_users(
    servers: dict[str, Server], settings: Settings, rounds: Rounds, progress: Progress
) -> dict[str, Any]:
    """N concurrent streaming /generate clients on one app then the other, a round per pair and level
    (`progress` gets the section so far after each level)."""
    from bench.many_users import client_run, level_summary

    new_tokens = settings.user_new_tokens
    levels: dict[str, Any] = {}
    figures = []
    for server in servers.values():
        client_run(server.url, 1, 1, new_tokens, "browser")  # loads the model (and warms the engine)
    for clients, count in rounds.users.items():
        say(f"many users: {clients} clients, {count} rounds …")
        per_round: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
        raw: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
        for index in range(count):
            for side in sides_in_round(index):
                run = client_run(servers[side].url, clients, clients, new_tokens, "browser")
                raw[side].append(run)
                per_round[side].append(level_summary(clients, [run]))
        levels[str(clients)] = {
            "rounds": per_round,
            "pooled": {side: level_summary(clients, runs) for side, runs in raw.items()},
        }
        speed = {side: [level["aggregate_tokens_per_s"] for level in per_round[side]] for side in SIDES}
        first = {side: [level["ttft_p90_s"] for level in per_round[side]] for side in SIDES}
        figures.append(
            comparison(
                f"Many users, {clients} client{'s' if clients > 1 else ''}: aggregate tokens/s",
                speed["before"],
                speed["after"],
                True,
                TOLERANCE["median"],
            )
        )
        figures.append(
            comparison(
                f"Many users, {clients} client{'s' if clients > 1 else ''}: first token p90 (s)",
                first["before"],
                first["after"],
                False,
                TOLERANCE["tail"],
            )
        )
        progress({"new_tokens": new_tokens, "levels": levels, "figures": figures})
    return {"new_tokens": new_tokens, "levels": levels, "figures": figures}


def run_line(run: dict[str, Any]) -> str:
    """One run of the comparison, for the header: when, what, at which revision, how long."""
    after = f"`{run['after']['commit'][:9]}`" + (" with uncommitted changes" if run["after"]["dirty"] else "")
    took = f"{run['duration_s'] / 60:.0f} min" if "duration_s" in run else "unfinished"
    rounds = run["rounds"]
    counts = {
        "startup": f"start-up {rounds['startup']}",
        "latency": "latency " + ", ".join(f"{task} {count}" for task, count in rounds["latency"].items()),
        "many_users": "many users "
        + ", ".join(f"{clients} clients {count}" for clients, count in rounds["users"].items()),
    }
    return f"- {run['date']}, after = {after}, {took}; rounds: " + "; ".join(counts[name] for name in run["sections"])


def markdown(results: dict[str, Any]) -> str:
    """BEFORE_AFTER.md: the revisions, the runs, how it was judged, and one row a figure."""
    before = results["before"]
    smoke = " --smoke" if results["mode"] == "smoke" else ""
    lines = [
        "# Before / after",
        "",
        f"Before: `{before['revision']}` (`{before['commit'][:9]}`); after: this checkout. "
        f"`python -m bench.before_after --baseline {before['revision']}{smoke}` ({results['mode']} mode) on "
        f"{results['machine']['cpu_count']} CPU cores shared with other work, in these runs:",
        "",
        *(run_line(run) for run in results["runs"]),
        "",
        "Both revisions run from the same venv on the same bench models and catalog (bench/models.py), "
        "interleaved round by round with the order alternating. *After ÷ before* is the median of the "
        "rounds' own ratios; *middle half* is the range of the middle half of those ratios (how much the "
        "rounds disagree). Times: lower is better; tokens/s: higher is better. *No worse* allows "
        f"{TOLERANCE['median']:.0%} the wrong way for medians and throughput (rounds of the same code "
        f"differ by a few percent on this shared machine) and {TOLERANCE['tail']:.0%} for a first-token "
        "p90, a tail figure that moves more between rounds.",
        "",
        "| Figure | Before | After | After ÷ before | Middle half | Rounds | No worse |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for section in SECTIONS:
        for figure in results.get(section, {}).get("figures", []):
            limit = (
                f"≥ {1 - figure['tolerance']:.2f}" if figure["higher_is_better"] else f"≤ {1 + figure['tolerance']:.2f}"
            )
            lines.append(
                f"| {figure['figure']} | {figure['before']:.3g} | {figure['after']:.3g} | {figure['ratio']:.3f} "
                f"| {figure['ratio_q1']:.2f}-{figure['ratio_q3']:.2f} | {figure['rounds']} "
                f"| {'yes' if figure['no_worse'] else '**no**'} ({limit}) |"
            )
    figures = [figure for section in SECTIONS for figure in results.get(section, {}).get("figures", [])]
    worse = [figure["figure"] for figure in figures if not figure["no_worse"]]
    missing = [section for section in SECTIONS if section not in results or results[section].get("unfinished")]
    lines += [
        "",
        ("Verdict: worse on " + "; ".join(worse) if worse else "Verdict: no worse on every figure measured")
        + (f" (not measured, or not to the end: {', '.join(missing)})." if missing else "."),
        "",
    ]
    return "\n".join(lines)


def write_outputs(results: dict[str, Any], out_dir: Path) -> None:
    figures = [figure for section in SECTIONS for figure in results.get(section, {}).get("figures", [])]
    results["no_worse"] = all(figure["no_worse"] for figure in figures)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "before_after.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / "BEFORE_AFTER.md").write_text(markdown(results))


def previous_results(out_dir: Path, mode: str, before: str, after: str) -> dict[str, Any] | None:
    """The output folder's before_after.json that an --only run adds its sections to, if it compared the
    same baseline in the same mode and this checkout's app is the same (changes since then only in
    bench/, tests/ or documents); None when there is none."""
    path = out_dir / "before_after.json"
    if not path.is_file():
        return None
    results = json.loads(path.read_text())
    if results.get("mode") != mode or results["before"]["commit"] != before:
        raise SystemExit(f"{path} compares another baseline or mode: choose another --out")
    changed = git("diff", "--name-only", results["after"]["commit"], after).splitlines()
    app_changes = [name for name in changed if not name.startswith(("bench/", "tests/")) and not name.endswith(".md")]
    if app_changes:
        raise SystemExit(
            f"{path} measured another app (changed since: {', '.join(app_changes[:5])}): choose another --out"
        )
    return results


def run(
    baseline: str,
    smoke: bool,
    out_dir: Path,
    sections: Sequence[str] = SECTIONS,
    max_rounds: int | None = None,
) -> dict[str, Any]:
    """Compare `baseline`'s app with this checkout's on `sections`, writing the outputs as they come.
    Measuring only some sections adds them to the output folder's earlier results (previous_results)."""
    from bench.inputs import write_inputs
    from bench.models import ensure_models
    from bench.run import machine

    settings, rounds = (SMOKE, SMOKE_ROUNDS) if smoke else (FULL, FULL_ROUNDS)
    if max_rounds:
        rounds = rounds.capped(max_rounds)
    started = time.perf_counter()
    catalog = ensure_models(settings.mode, settings.new_tokens)
    before = git("rev-parse", "--verify", f"{baseline}^{{commit}}")
    after = {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    earlier = (
        previous_results(out_dir, settings.mode, before, after["commit"]) if set(sections) != set(SECTIONS) else None
    )
    results: dict[str, Any] = earlier or {
        "mode": settings.mode,
        "machine": machine(),
        "before": {"revision": baseline, "commit": before},
        "after": after,
        "tolerance": TOLERANCE,
        "runs": [],
        "phase_s": {},
    }
    this_run = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "sections": [name for name in SECTIONS if name in sections],
        "after": after,
        "rounds": {"startup": rounds.startup, "latency": rounds.latency, "users": rounds.users},
    }
    results["runs"].append(this_run)

    def phase(section: str, measure: Callable[[Progress], dict[str, Any]]) -> None:
        if section not in sections:
            return
        say(f"{section} …")
        began = time.perf_counter()

        def progress(partial: dict[str, Any]) -> None:
            results[section] = {**partial, "unfinished": True}
            write_outputs(results, out_dir)

        results[section] = measure(progress)
        results["phase_s"][section] = time.perf_counter() - began
        write_outputs(results, out_dir)

    with tempfile.TemporaryDirectory(prefix="bench-before-after-") as scratch:
        work = Path(scratch)
        with baseline_checkout(baseline, work) as baseline_root:
            roots = {"before": baseline_root, "after": ROOT}
            phase("startup", lambda progress: measure_startup(roots, catalog, rounds, work))
            if {"latency", "many_users"} & set(sections):
                # One pair of apps (the whole bench catalog) serves both sections: each start costs
                # tens of seconds here, and an idle app uses well under 1 % of a core.
                inputs = write_inputs(work / "inputs")
                servers = start_both(roots, catalog, work)
                try:
                    phase("latency", lambda progress: measure_latency(servers, inputs, settings, rounds, progress))
                    phase("many_users", lambda progress: measure_many_users(servers, settings, rounds, progress))
                finally:
                    stop_all(servers)
    this_run["duration_s"] = time.perf_counter() - started
    write_outputs(results, out_dir)
    print((out_dir / "BEFORE_AFTER.md").read_text())
    return results


def main(argv: Sequence[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(prog="python -m bench.before_after", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the revision to compare against (any git revision)")
    parser.add_argument("--smoke", action="store_true", help="tiny models and a round or two: checks it runs")
    parser.add_argument("--out", type=Path, help="output folder (default: bench/, or bench/out/before-after-smoke)")
    parser.add_argument(
        "--only",
        help=f"comma-separated sections to measure (default all: {', '.join(SECTIONS)}), added to the output "
        "folder's earlier results of the same comparison",
    )
    parser.add_argument(
        "--max-rounds",
        type=int,
        help="at most this many rounds of each comparison (a loaded machine's run that must end in time)",
    )
    args = parser.parse_args(argv)
    sections = [name.strip() for name in args.only.split(",") if name.strip()] if args.only else list(SECTIONS)
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(unknown)} (sections: {', '.join(SECTIONS)})")
    try:
        git("rev-parse", "--verify", f"{args.baseline}^{{commit}}")
    except subprocess.CalledProcessError:
        parser.error(f"--baseline: {args.baseline!r} is not a revision of this repository")
    os.environ.update(OFFLINE_ENV)
    out_dir = args.out or (ROOT / "bench" / "out" / "before-after-smoke" if args.smoke else ROOT / "bench")
    run(args.baseline, args.smoke, out_dir, sections, args.max_rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
