"""Calling a Gradio app the way its page does, for the latency figures judged on the browser's path:
files go up through POST /gradio_api/upload, the call joins the queue (POST /gradio_api/queue/join)
and its answer comes as server-sent events of /gradio_api/queue/data. One keep-alive connection
per session, as a browser holds; no polling, so none of gradio_client's 50 ms poll period is in the
figures.

A session is one page: one session hash for all its calls, and the page's load events run when it
opens, as the page runs them. Gradio builds a session's state (a copy of every component's config)
at its first event; a page pays that once, on load, not on every click.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


class BrowserSession:
    """One page's connection to the app at `url` (ending in "/")."""

    def __init__(self, url: str, timeout: float = 600.0):
        import httpx

        self.url = url
        self.http = httpx.Client(timeout=httpx.Timeout(timeout))
        config = self.http.get(f"{url}config").json()
        values = {c["id"]: (c.get("props") or {}).get("value") for c in config["components"]}
        named = [dep for dep in config["dependencies"] if dep.get("api_name")]
        self._indexes = {dep["api_name"]: dep["id"] for dep in named}
        # What the page sends for inputs a call leaves out: the widgets' values as the page starts.
        self._defaults = {dep["api_name"]: [values.get(i) for i in dep["inputs"]] for dep in named}
        self.session_hash = uuid.uuid4().hex[:11]
        for dep in config["dependencies"]:
            # Browser-side functions (no backend_fn) run in the page alone, never reach the server.
            if dep.get("backend_fn") and any(trigger == "load" for _, trigger in dep.get("targets", [])):
                self._run(dep["id"], [values.get(i) for i in dep["inputs"]], queued=dep.get("queue") is not False)

    def _run(self, fn_index: int, data: list[Any], queued: bool) -> None:
        """An event the page fires by itself (on load): unqueued ones answer the POST directly."""
        if queued:
            self._events(fn_index, data)
            return
        answer = self.http.post(
            f"{self.url}gradio_api/run/predict",
            json={
                "data": data,
                "fn_index": fn_index,
                "session_hash": self.session_hash,
                "event_data": None,
                "trigger_id": None,
            },
        )
        answer.raise_for_status()

    def close(self) -> None:
        self.http.close()

    def upload(self, path: str | Path) -> dict[str, Any]:
        """The file's FileData for an input, after uploading it as the page's upload button does."""
        path = Path(path)
        with path.open("rb") as handle:
            answer = self.http.post(f"{self.url}gradio_api/upload", files=[("files", (path.name, handle))])
        answer.raise_for_status()
        return {"path": answer.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}

    def call(self, api_name: str, data: list[Any]) -> dict[str, Any]:
        """Run one event (inputs left out at the end take the widgets' starting values); returns seconds to the first output that has a non-empty first value
        (`first_s`; the end when it never streams), seconds to the end (`end_s`) and the outputs."""
        name = api_name.lstrip("/")
        start = time.perf_counter()
        first, outputs = self._events(self._indexes[name], [*data, *self._defaults[name][len(data) :]], start)
        end = time.perf_counter() - start
        return {"first_s": first if first is not None else end, "end_s": end, "outputs": outputs}

    def _events(self, fn_index: int, data: list[Any], start: float = 0.0) -> tuple[float | None, list[Any] | None]:
        """Join the queue and follow the event's messages to its end: (seconds from `start` to the first
        output with a non-empty first value, or None; the outputs)."""
        from gradio_client.utils import apply_diff

        first: float | None = None
        outputs: list[Any] | None = None
        joined = self.http.post(
            f"{self.url}gradio_api/queue/join",
            json={
                "data": data,
                "fn_index": fn_index,
                "session_hash": self.session_hash,
                "event_data": None,
                "trigger_id": None,
            },
        )
        joined.raise_for_status()
        with self.http.stream(
            "GET", f"{self.url}gradio_api/queue/data", params={"session_hash": self.session_hash}
        ) as events:
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                kind = message.get("msg")
                payload = (message.get("output") or {}).get("data")
                if kind == "process_generating" and payload is not None:
                    outputs = (
                        list(payload)
                        if outputs is None
                        else [apply_diff(old, diff) for old, diff in zip(outputs, payload)]
                    )
                elif kind == "process_completed":
                    if not message.get("success", True):
                        raise RuntimeError(f"the app answered an error: {message.get('output')}")
                    outputs = payload if payload is not None else outputs
                    break
                elif kind == "close_stream":
                    break
                if first is None and outputs and outputs[0]:
                    first = time.perf_counter() - start
        return first, outputs


def run_concurrently(callers: list[Callable[[], dict[str, Any]]], requests: int) -> dict[str, Any]:
    """`requests` calls in total from the callers (concurrent users), each user one call after another,
    all starting together. Returns the wall time, this process's CPU seconds over it (the clients'),
    each call's result and the failures (reported, not raised: the other users' figures still count)."""
    import resource
    import threading

    shares = [requests // len(callers) + (1 if i < requests % len(callers) else 0) for i in range(len(callers))]
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(callers) + 1)

    def user(call: Callable[[], dict[str, Any]], count: int) -> None:
        barrier.wait()
        for _ in range(count):
            try:
                result = call()
            except Exception as exc:
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")
                return
            with lock:
                results.append(result)

    threads = [threading.Thread(target=user, args=pair) for pair in zip(callers, shares)]
    for thread in threads:
        thread.start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "client_cpu_s": cpu, "calls": results, "failures": failures}


def run_sessions(
    url: str, api_name: str, data: list[Any], file: str | None, clients: int, requests: int
) -> dict[str, Any]:
    """run_concurrently over `clients` page sessions calling `api_name` (`file`, when given, is
    uploaded for every call, timed with it, and takes the first input)."""
    sessions = [BrowserSession(url) for _ in range(clients)]

    def caller(session: BrowserSession) -> Callable[[], dict[str, Any]]:
        def call() -> dict[str, Any]:
            start = time.perf_counter()
            done = session.call(api_name, [session.upload(file), *data] if file else list(data))
            return {"first_s": done["first_s"], "end_s": time.perf_counter() - start}

        return call

    try:
        return run_concurrently([caller(session) for session in sessions], requests)
    finally:
        for session in sessions:
            session.close()


def main(argv: list[str] | None = None) -> int:
    """python -m bench.browser URL API_NAME --clients N --requests M [--file F] [--data JSON]: prints
    run_sessions' JSON, so the clients run in a process of their own and their CPU is counted apart."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m bench.browser")
    parser.add_argument("url")
    parser.add_argument("api_name")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--file")
    parser.add_argument("--data", default="[]", help="the other inputs, as a JSON list")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    print(
        json.dumps(run_sessions(args.url, args.api_name, json.loads(args.data), args.file, args.clients, args.requests))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
