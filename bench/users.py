"""Many users at once: N concurrent streaming `/generate` (or `/transcribe`) clients, run in a process
of their own so they do not take the server's CPU unseen (the process reports the CPU it used).

    python -m bench.users URL --clients 16 --requests 16 --new-tokens 64 --protocol browser
    python -m bench.users URL --clients 4 --requests 4 --endpoint transcribe --audio clip.wav
    OPENAI_API_KEY=... python -m bench.users ENGINE_V1_URL --clients 16 --requests 16 --new-tokens 64 \
        --protocol openai --model MODEL

`--protocol browser` speaks what the page speaks: POST /gradio_api/queue/join, then the server-sent
events of /gradio_api/queue/data (httpx, one connection per user). `--protocol gradio_client` uses the
Python client API users have (which polls its queue every 50 ms). `--protocol openai` skips the app:
each user streams `/v1/completions` from an OpenAI-compatible engine with its own client (`openai`,
the key from OPENAI_API_KEY), exactly `--new-tokens` tokens (vLLM's `min_tokens` + `ignore_eos`). Prints one JSON object: per request
the seconds to the first streamed text and to the end, and the tokens the app reported generating.
`--endpoint transcribe` uploads `--audio` the way the page does (POST /gradio_api/upload, then the
returned server path in queue/join; gradio_client: `handle_file`), once per request, and times the
upload as part of the request; its text is the transcript, no tokens are counted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.browser import BrowserSession, run_concurrently
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


def tokens_reported(stats: str) -> int:
    found = re.search(r"out (\d+)", stats or "")
    return int(found.group(1)) if found else 0


def browser_request(session: BrowserSession, inputs: list[Any], audio: str | None = None) -> dict[str, Any]:
    """One request the way the page makes it: upload `audio` (if any: a /transcribe request, timed
    with its upload), join the queue, then read the event stream."""
    start = time.perf_counter()
    if audio is not None:
        done = session.call(TRANSCRIBE, transcribe_inputs(session.upload(audio)))
        end = time.perf_counter() - start
        return {"ttft_s": end, "end_s": end, "tokens": 0, "text": (done["outputs"] or [None])[0]}
    done = session.call(GENERATE, inputs)
    outputs = done["outputs"] or []
    return {
        "ttft_s": done["first_s"],
        "end_s": done["end_s"],
        "tokens": tokens_reported(outputs[1] if len(outputs) > 1 else ""),
    }


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


def engine_request(client: Any, model: str, new_tokens: int) -> dict[str, Any]:
    """One streamed completion straight from the engine: greedy, exactly `new_tokens` tokens; the
    tokens are the engine's own count (its usage chunk), else the streamed pieces."""
    start = time.perf_counter()
    stream = client.completions.create(
        model=model,
        prompt=PROMPT,
        max_tokens=new_tokens,
        temperature=0.0,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"min_tokens": new_tokens, "ignore_eos": True},
    )
    first: float | None = None
    pieces = counted = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].text:
            pieces += 1
            if first is None:
                first = time.perf_counter() - start
        if chunk.usage is not None:
            counted = chunk.usage.completion_tokens
    end = time.perf_counter() - start
    return {"ttft_s": first if first is not None else end, "end_s": end, "tokens": counted or pieces}


def run_users(
    url: str,
    clients: int,
    requests: int,
    new_tokens: int,
    protocol: str,
    audio: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """`requests` in total from `clients` concurrent users, each one after another; all users start
    together. With `audio`, each request transcribes it through /transcribe instead of generating;
    with the openai protocol, `url` is the engine's /v1 base and `model` the name it serves."""
    inputs = generate_inputs(new_tokens)
    if protocol == "openai":
        import openai

        def make_caller() -> Callable[[], dict[str, Any]]:
            client = openai.OpenAI(base_url=url, max_retries=0, timeout=600)  # one connection pool per user
            return lambda: engine_request(client, model or "", new_tokens)
    elif protocol == "browser":

        def make_caller() -> Callable[[], dict[str, Any]]:
            session = BrowserSession(url)  # one page per user: its own connection, kept alive
            return lambda: browser_request(session, inputs, audio)
    else:
        from gradio_client import Client

        def make_caller() -> Callable[[], dict[str, Any]]:
            client = Client(url, verbose=False)
            return (lambda: client_transcribe(client, audio)) if audio else (lambda: client_request(client, inputs))

    done = run_concurrently([make_caller() for _ in range(clients)], requests)
    return {
        "clients": clients,
        "protocol": protocol,
        "wall_s": done["wall_s"],
        "client_cpu_s": done["client_cpu_s"],
        "requests": done["calls"],
        "failures": done["failures"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.users", description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--new-tokens", type=int, default=0, help="tokens per /generate request")
    parser.add_argument("--protocol", choices=["browser", "gradio_client", "openai"], default="browser")
    parser.add_argument("--model", help="openai protocol: the model name the engine serves")
    parser.add_argument("--endpoint", choices=["generate", "transcribe"], default="generate")
    parser.add_argument("--audio", help="the file each /transcribe request uploads")
    args = parser.parse_args(argv)
    if (args.endpoint == "transcribe") != (args.audio is not None):
        parser.error("--endpoint transcribe needs --audio (and only it)")
    if (args.protocol == "openai") != (args.model is not None) or (args.protocol == "openai" and args.audio):
        parser.error("--protocol openai needs --model (and only it), and generates")
    done = run_users(args.url, args.clients, args.requests, args.new_tokens, args.protocol, args.audio, args.model)
    print(json.dumps(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
