"""Load test: many concurrent mixed clients against the launched app with a bounded queue.

    python scripts/load_test.py [--clients 100] [--queue-size 8] [--models DIR] [--url URL] [--json OUT]
                                [--replicas N [--stop-replica-after SECONDS]]

Without --url it writes the random-weight test models (into --models, default .cache/test-models),
launches `app.py` on them with a small `queue_size`, warms every model up, then starts all clients at
once. Each client sends one request (fill-mask, bias comparison, text and image zero-shot, image
classification, speech, generation, or the Models view) through Gradio's HTTP API, the way any client
does, and waits for its answer. Every request must end as "answered" or "queue full" (HTTP 503):
none lost (no answer at all), none hung (no answer within --timeout), none failed with an error.
The app's RSS is sampled throughout and must stay within --max-rss-growth-mb of its warmed-up size.
Prints a summary; exits 1 when any of this does not hold. It measures correctness under load, not
speed (speed lives in bench/).

With --replicas N it starts `transformers serve` on the llama-hd64 test model (the one engine every
replica shares: text generation's default entry has an `endpoint:`), N app replicas and HAProxy in
front (scripts/replicas.py, sticky sessions), and sends every client through the balancer. Each
client keeps its cookies, as a browser does, so its upload, queue join and event stream reach one
replica. --stop-replica-after stops replica 1 that many seconds into the test: the clients of the
other replicas must be unaffected (answered or queue full), and those of the stopped one must get an
error or a closed stream, not hang. RSS is not measured in this mode.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Server, app_command  # noqa: E402 - needs ROOT on sys.path
from bench.inputs import write_tone  # noqa: E402
from scripts.replicas import COOKIE  # noqa: E402

FILEDATA_META = {"_type": "gradio.FileData"}


def load_test_catalog(models: Path, out: Path, queue_size: int) -> Path:
    """The test models' catalog with absolute paths and a small queue."""
    if not (models / "models.yaml").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_test_models.py"), str(models)], check=True)
    data = yaml.safe_load((models / "models.yaml").read_text())
    data["defaults"]["queue_size"] = queue_size
    for tab in data["tabs"].values():
        for entry in tab["models"]:
            if entry["id"].startswith("./"):
                entry["id"] = str((models / entry["id"][2:]).resolve())
    out.write_text(yaml.safe_dump(data, allow_unicode=True))
    return out


def sample_files(folder: Path) -> dict[str, Path]:
    from PIL import Image

    image = folder / "shapes.png"
    Image.new("RGB", (64, 64), (30, 120, 200)).save(image)
    return {"image": image, "audio": write_tone(folder / "tone.wav")}


class App:
    """The launched app seen through its HTTP API. Each client is an httpx.Client: it keeps the
    balancer's cookie, so all its requests reach the same replica."""

    def __init__(self, url: str, files: dict[str, Path]):
        self.url = url
        self.files = files
        info = httpx.get(f"{url}gradio_api/info", timeout=30).json()["named_endpoints"]
        self.params = {name: [p["parameter_name"] for p in e["parameters"]] for name, e in info.items()}
        self.defaults = {name: [p.get("parameter_default") for p in e["parameters"]] for name, e in info.items()}

    def upload(self, session: httpx.Client, path: Path) -> dict[str, Any]:
        with path.open("rb") as handle:
            response = session.post(f"{self.url}gradio_api/upload", files=[("files", (path.name, handle))], timeout=60)
        response.raise_for_status()
        return {"path": response.json()[0], "orig_name": path.name, "meta": FILEDATA_META}

    def data(self, api: str, values: dict[str, Any]) -> list[Any]:
        """Every parameter in order: the given ones, the endpoint's defaults for the rest."""
        return [values.get(name, default) for name, default in zip(self.params[api], self.defaults[api])]

    def call(self, session: httpx.Client, api: str, values: dict[str, Any], timeout: float) -> str:
        """One request; returns answered | queue_full | error: ... | lost | hung."""
        deadline = time.monotonic() + timeout
        try:
            response = session.post(
                f"{self.url}gradio_api/call{api}", json={"data": self.data(api, values)}, timeout=timeout
            )
            if response.status_code == 503 and "Queue is full" in response.text:
                return "queue_full"
            response.raise_for_status()
            event_id = response.json()["event_id"]
            last_event = None
            remaining = max(deadline - time.monotonic(), 1.0)
            with session.stream("GET", f"{self.url}gradio_api/call{api}/{event_id}", timeout=remaining) as stream:
                for line in stream.iter_lines():
                    if line.startswith("event: "):
                        last_event = line[len("event: ") :]
                    elif line.startswith("data: ") and last_event == "error":
                        message = line[len("data: ") :]
                        return "queue_full" if "Queue is full" in message else f"error: {message[:200]}"
                    if time.monotonic() > deadline:
                        return "hung"
            return "answered" if last_event == "complete" else "lost"
        except httpx.TimeoutException:
            return "hung"
        except httpx.HTTPError as exc:
            return f"error: {type(exc).__name__}: {exc}"[:200]

    def requests(self) -> list[tuple[str, Callable[[httpx.Client], dict[str, Any]]]]:
        """One request of each kind this app serves (endpoint, its parameter values for a client)."""
        kinds: list[tuple[str, Callable[[httpx.Client], dict[str, Any]]]] = [
            ("/fill_mask", lambda s: {"text": "Paris is the [MASK] of France.", "top_k": 3}),
            ("/compare_bias", lambda s: {"templates": "The {group} is [MASK].", "groups": "he, she", "top_k": 3}),
            ("/zero_shot_text", lambda s: {"text": "I loved it.", "labels": "good, bad"}),
            ("/zero_shot_image", lambda s: {"image": self.upload(s, self.files["image"]), "labels": "sky, grass"}),
            ("/classify_image", lambda s: {"image": self.upload(s, self.files["image"]), "top_k": 3}),
            ("/transcribe", lambda s: {"audio": self.upload(s, self.files["audio"]), "timestamps": "off"}),
            ("/generate", lambda s: {"prompt": "Hello", "max_new_tokens": 8, "do_sample": False}),
            ("/loaded_models", lambda s: {}),
        ]
        return [(api, values) for api, values in kinds if api in self.params]


class RssSampler(threading.Thread):
    def __init__(self, pid: int | None):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid) if pid else None
        self.peak = 0
        self.running = True

    def rss(self) -> int:
        if self.process is None:
            return 0
        return sum(p.memory_info().rss for p in [self.process, *self.process.children(recursive=True)])

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.2)


def run(
    app: App,
    pid: int | None,
    clients: int,
    timeout: float,
    warm_urls: list[str] | None = None,
    stop_replica: Callable[[], None] | None = None,
    stop_after: float | None = None,
) -> dict[str, Any]:
    kinds = app.requests()
    # Warm up: load every model once (on every replica), so the baseline RSS includes them.
    for url in warm_urls or [app.url]:
        target = App(url, app.files)
        with httpx.Client() as session:
            for api, values in kinds:
                outcome = target.call(session, api, values(session), timeout)
                if outcome != "answered":
                    raise SystemExit(f"warm-up request to {api} on {url} did not succeed: {outcome}")
    sampler = RssSampler(pid)
    baseline = sampler.rss()
    sampler.start()
    plan = [kinds[i % len(kinds)] for i in range(clients)]
    barrier = threading.Barrier(clients + (1 if stop_replica else 0))

    def client(kind: tuple[str, Callable[[httpx.Client], dict[str, Any]]]) -> tuple[str, str, str]:
        api, values = kind
        with httpx.Client() as session:
            prepared = values(session)  # uploads happen before the barrier so all requests hit the queue together
            barrier.wait()
            outcome = app.call(session, api, prepared, timeout)
            return api, outcome, session.cookies.get(COOKIE) or "-"

    def stopper() -> None:
        barrier.wait()
        time.sleep(stop_after or 0)
        stop_replica()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients + 1) as pool:
        stopping = pool.submit(stopper) if stop_replica else None
        results = list(pool.map(client, plan))
        if stopping is not None:
            stopping.result()
    elapsed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    outcomes = Counter(outcome if not outcome.startswith("error") else "error" for _, outcome, _ in results)
    per_endpoint: dict[str, Counter] = {}
    per_replica: dict[str, Counter] = {}
    for api, outcome, replica in results:
        per_endpoint.setdefault(api, Counter())[outcome.split(":")[0]] += 1
        per_replica.setdefault(replica, Counter())[outcome.split(":")[0]] += 1
    return {
        "clients": clients,
        "answered": outcomes["answered"],
        "queue_full": outcomes["queue_full"],
        "error": outcomes["error"],
        "lost": outcomes["lost"],
        "hung": outcomes["hung"],
        "errors": sorted({o for _, o, _ in results if o.startswith("error")})[:5],
        "per_endpoint": {api: dict(c) for api, c in sorted(per_endpoint.items())},
        "per_replica": {replica: dict(c) for replica, c in sorted(per_replica.items())},
        "seconds": round(elapsed, 1),
        "rss_baseline_mb": round(baseline / 2**20),
        "rss_peak_mb": round(max(sampler.peak, baseline) / 2**20),
        "rss_after_mb": round(sampler.rss() / 2**20),
    }


def replica_catalog(models: Path, out: Path, queue_size: int, engine_url: str, engine_model: str) -> Path:
    """The load-test catalog with text generation served by the shared engine (its default entry)."""
    load_test_catalog(models, out, queue_size)
    data = yaml.safe_load(out.read_text())
    data["tabs"]["text_generation"] = {
        "task": "text-generation",
        "models": [
            {
                "id": engine_model,
                "label": "Llama (shared engine)",
                "default": True,
                "concurrency": 8,
                "endpoint": {"url": engine_url},
            },
        ],
    }
    out.write_text(yaml.safe_dump(data, allow_unicode=True))
    return out


def replica_verdict(summary: dict[str, Any], stopped: str | None) -> bool:
    """Through the balancer: every client of a running replica answered or told the queue is full;
    the clients of the stopped replica got an answer, a refusal or an error, and none hung."""
    for replica, counts in summary["per_replica"].items():
        if replica == stopped:
            if counts.get("hung"):
                return False
        elif set(counts) - {"answered", "queue_full"}:
            return False
    return not summary["hung"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--queue-size", type=int, default=8, help="the app's queue_size (when this script launches it)")
    parser.add_argument("--models", type=Path, default=ROOT / ".cache" / "test-models", help="test models folder")
    parser.add_argument("--url", help="an app already running (then RSS is not measured)")
    parser.add_argument("--replicas", type=int, help="launch this many replicas behind HAProxy, sharing one engine")
    parser.add_argument(
        "--stop-replica-after",
        type=float,
        help="with --replicas: after a round with every replica up, a second round on the same "
        "replicas that stops replica 1 this many seconds in",
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a request counts as hung")
    parser.add_argument("--max-rss-growth-mb", type=float, default=512)
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args(argv)
    if args.stop_replica_after is not None and not args.replicas:
        parser.error("--stop-replica-after needs --replicas")

    with tempfile.TemporaryDirectory(prefix="load-test-") as work:
        work_dir = Path(work)
        server = engine = replicas = None
        url = args.url
        warm_urls = None
        stop_replica = None
        try:
            if args.replicas:
                from bench.engines import start_transformers_serve
                from scripts.replicas import Replicas

                models = args.models.resolve()
                load_test_catalog(models, work_dir / "models.yaml", args.queue_size)  # builds the models if needed
                engine = start_transformers_serve(models / "llama-hd64", work_dir)
                catalog = replica_catalog(models, work_dir / "models.yaml", args.queue_size, engine.url, engine.model)
                replicas = Replicas(catalog, args.replicas, work_dir)
                url, warm_urls = replicas.url, [r.url for r in replicas.replicas]
                if args.stop_replica_after is not None:
                    stop_replica = lambda: replicas.stop_replica(1)  # noqa: E731
            elif not url:
                catalog = load_test_catalog(args.models.resolve(), work_dir / "models.yaml", args.queue_size)
                server = Server(app_command(catalog), work_dir, "app", timeout=180)
                url = server.url
            app = App(url, sample_files(work_dir))
            before_stop = None
            if stop_replica is not None:  # first every replica up, then one stopped: one deployment for both
                before_stop = run(app, None, args.clients, args.timeout, warm_urls)
                before_stop["replicas_alive"] = [r.process.poll() is None for r in replicas.replicas]
            summary = run(
                app,
                server.pid if server else None,
                args.clients,
                args.timeout,
                warm_urls,
                stop_replica,
                args.stop_replica_after,
            )
            if before_stop is not None:
                summary["before_stop"] = before_stop
            summary["app_alive"] = server is None or server.process.poll() is None
            if replicas is not None:
                summary["replicas_alive"] = [r.process.poll() is None for r in replicas.replicas]
                summary["engine_alive"] = engine.alive()
        finally:
            for running in (server, replicas, engine):
                if running is not None:
                    running.stop()

    growth = summary["rss_peak_mb"] - summary["rss_baseline_mb"]
    if args.replicas:
        stopped = "replica1" if args.stop_replica_after is not None else None
        complete = summary.get("before_stop", summary)
        summary["ok"] = (
            replica_verdict(summary, stopped)
            and replica_verdict(complete, None)
            and summary["engine_alive"]
            and complete["answered"] + complete["queue_full"] == args.clients
        )
    else:
        summary["ok"] = (
            summary["answered"] + summary["queue_full"] == args.clients
            and not summary["error"]
            and not summary["lost"]
            and not summary["hung"]
            and summary["app_alive"]
            and growth <= args.max_rss_growth_mb
        )
    print(
        f"clients {summary['clients']}: answered {summary['answered']}, queue full {summary['queue_full']}, "
        f"errors {summary['error']}, lost {summary['lost']}, hung {summary['hung']} in {summary['seconds']} s"
    )
    for api, counts in summary["per_endpoint"].items():
        print(f"  {api:<18} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if args.replicas:
        for replica, counts in summary["per_replica"].items():
            print(f"  {replica:<18} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if summary["errors"]:
        print("  errors: " + "; ".join(summary["errors"]))
    if server is not None:
        print(
            f"app RSS: {summary['rss_baseline_mb']} MB warmed up, peak {summary['rss_peak_mb']} MB "
            f"(+{growth} MB, limit +{args.max_rss_growth_mb:g}), {summary['rss_after_mb']} MB after"
        )
    print("OK" if summary["ok"] else "FAILED")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
