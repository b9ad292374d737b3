"""Many users at once: N concurrent streaming `/generate` (or `/transcribe`) clients, run in a process
of their own so they do not take the server's CPU unseen (the process reports the CPU it used).

    python -m bench.users URL --clients 16 --requests 16 --new-tokens 64 --protocol browser
    python -m bench.users URL --clients 4 --requests 4 --endpoint transcribe --audio clip.wav

`--protocol browser` speaks what the page speaks: POST /gradio_api/queue/join, then the server-sent
events of /gradio_api/queue/data (httpx, one connection per user). `--protocol gradio_client` uses the
Python client API users have (which polls its queue every 50 ms). Prints one JSON object: per request
the seconds to the first streamed text and to the end, and the tokens the app reported generating.
`--endpoint transcribe` uploads `--audio` the way the page does (POST /gradio_api/upload, then the
returned server path in queue/join; gradio_client: `handle_file`), once per request, and times the
upload as part of the request; its text is the transcript, no tokens are counted.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import threading
import time
import uuid
from typing import Any, Callable, Sequence

from bench.inputs import PROMPT

GENERATE = "/generate"
TRANSCRIBE = "/transcribe"


def generate_inputs(new_tokens: int, model: str | None = None) -> list[Any]:
    """/generate's inputs in order: prompt, model (None: the default), greedy options, no stop strings."""
    return [PROMPT, model, new_tokens, 0.7, 0.95, 50, 1.0, False, 0, ""]


def transcribe_inputs(audio: Any) -> list[Any]:
    """/transcribe's inputs in order: the file, then the page's defaults (model, transcribe, auto
    language, segment timestamps, 42 characters per line, one cue per segment)."""
    return [audio, None, "transcribe", "auto", "segment", 42, 0]


def upload(http: Any, url: str, path: str) -> dict[str, Any]:
    """The file as the page sends it: uploaded first, then named by its server path (a FileData)."""
    with open(path, "rb") as handle:
        answer = http.post(f"{url}gradio_api/upload", params={"upload_id": uuid.uuid4().hex[:11]},
                           files=[("files", (path.rsplit("/", 1)[-1], handle, "audio/wav"))])
    answer.raise_for_status()
    return {"path": answer.json()[0], "orig_name": path.rsplit("/", 1)[-1], "meta": {"_type": "gradio.FileData"}}


def tokens_reported(stats: str) -> int:
    found = re.search(r"out (\d+)", stats or "")
    return int(found.group(1)) if found else 0


def fn_index(url: str, api_name: str) -> int:
    import httpx

    config = httpx.get(f"{url}config", timeout=30).json()
    name = api_name.lstrip("/")
    return next(dep["id"] for dep in config["dependencies"] if dep.get("api_name") == name)


def browser_request(url: str, index: int, inputs: list[Any], audio: str | None = None) -> dict[str, Any]:
    """One request the way the browser makes it: upload `audio` (if any, as the first input), join
    the queue, then read the event stream."""
    import httpx
    from gradio_client.utils import apply_diff

    session = uuid.uuid4().hex[:11]
    start = time.perf_counter()
    first: float | None = None
    outputs: list[Any] | None = None
    with httpx.Client(timeout=httpx.Timeout(600.0)) as http:
        if audio is not None:
            inputs = transcribe_inputs(upload(http, url, audio))
        joined = http.post(f"{url}gradio_api/queue/join", json={
            "data": inputs, "fn_index": index, "session_hash": session, "event_data": None, "trigger_id": None})
        joined.raise_for_status()
        with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                kind = message.get("msg")
                data = (message.get("output") or {}).get("data")
                if kind == "process_generating" and data is not None:
                    outputs = list(data) if outputs is None else [apply_diff(old, diff) for old, diff in zip(outputs, data)]
                elif kind == "process_completed":
                    if not message.get("success", True):
                        raise RuntimeError(f"the app answered an error: {message.get('output')}")
                    outputs = data if data is not None else outputs
                    break
                elif kind == "close_stream":
                    break
                if first is None and outputs and outputs[0]:
                    first = time.perf_counter() - start
    end = time.perf_counter() - start
    if audio is not None:
        return {"ttft_s": end, "end_s": end, "tokens": 0, "text": outputs[0] if outputs else None}
    return {"ttft_s": first if first is not None else end, "end_s": end, "tokens": tokens_reported(outputs[1] if outputs else "")}


def client_transcribe(client: Any, audio: str) -> dict[str, Any]:
    from gradio_client import handle_file

    start = time.perf_counter()
    text, *_ = client.predict(*transcribe_inputs(handle_file(audio)), api_name=TRANSCRIBE)
    end = time.perf_counter() - start
    return {"ttft_s": end, "end_s": end, "tokens": 0, "text": text}


def client_request(client: Any, inputs: list[Any]) -> dict[str, Any]:
    start = time.perf_counter()
    job = client.submit(*inputs, api_name=GENERATE)
    first: float | None = None
    for output in job:
        if first is None and output[0]:
            first = time.perf_counter() - start
    text, stats, *_ = job.result()
    end = time.perf_counter() - start
    return {"ttft_s": first if first is not None else end, "end_s": end, "tokens": tokens_reported(stats)}


def run_users(url: str, clients: int, requests: int, new_tokens: int, protocol: str,
              audio: str | None = None) -> dict[str, Any]:
    """`requests` in total from `clients` concurrent users, each one after another; all users start
    together. With `audio`, each request transcribes it through /transcribe instead of generating."""
    inputs = generate_inputs(new_tokens)
    if protocol == "browser":
        index = fn_index(url, TRANSCRIBE if audio else GENERATE)

        def make_caller() -> Callable[[], dict[str, Any]]:
            return lambda: browser_request(url, index, inputs, audio)
    else:
        from gradio_client import Client

        def make_caller() -> Callable[[], dict[str, Any]]:
            client = Client(url, verbose=False)
            return (lambda: client_transcribe(client, audio)) if audio else (lambda: client_request(client, inputs))

    callers = [make_caller() for _ in range(clients)]
    shares = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def user(call: Callable[[], dict[str, Any]], count: int) -> None:
        barrier.wait()
        for _ in range(count):
            try:
                result = call()
            except Exception as exc:  # reported, not raised: the other users' numbers still count
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")
                return
            with lock:
                results.append(result)

    threads = [threading.Thread(target=user, args=(call, count)) for call, count in zip(callers, shares)]
    for thread in threads:
        thread.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {"clients": clients, "protocol": protocol, "wall_s": wall, "client_cpu_s": cpu, "requests": results,
            "failures": failures}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.users", description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--new-tokens", type=int, default=0, help="tokens per /generate request")
    parser.add_argument("--protocol", choices=["browser", "gradio_client"], default="browser")
    parser.add_argument("--endpoint", choices=["generate", "transcribe"], default="generate")
    parser.add_argument("--audio", help="the file each /transcribe request uploads")
    args = parser.parse_args(argv)
    if (args.endpoint == "transcribe") != (args.audio is not None):
        parser.error("--endpoint transcribe needs --audio (and only it)")
    print(json.dumps(run_users(args.url, args.clients, args.requests, args.new_tokens, args.protocol, args.audio)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
