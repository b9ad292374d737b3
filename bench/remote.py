"""Text generation served by an engine: `transformers serve` on the ~0.5B Llama, reached two ways in
the same run: the engine's own client (`openai`, streamed `/v1/completions`) and this app's
`/generate` on a catalog entry with that endpoint, streamed through the browser's protocol (the
target's path) and through gradio_client. Greedy, exactly
`new_tokens` tokens every time (bench/models.py pins min_new_tokens, which the server's generation
config inherits), so both do the same work. The app runs with the text-generation tab only.

tokens/s = new tokens / (request sent -> last token received). The client floor (a gradio_client
round trip to `/loaded_models`) is timed between runs, as for the local path (bench/generation.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from bench.browser import BrowserSession
from bench.common import Server, Settings, app_command, say, timed
from bench.engines import Engine, start_transformers_serve
from bench.generation import app_run, browser_run, compare
from bench.inputs import PROMPT

LABEL = "llama-chat (served)"


def engine_run(client: Any, engine: Engine, new_tokens: int) -> tuple[float, float]:
    """(seconds to the first streamed text, seconds to the end) with the engine's own client."""
    start = time.perf_counter()
    stream = client.completions.create(
        model=engine.model, prompt=PROMPT, max_tokens=new_tokens, temperature=0.0, stream=True
    )
    first = None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].text and first is None:
            first = time.perf_counter() - start
    end = time.perf_counter() - start
    return first if first is not None else end, end


def remote_catalog(engine: Engine, out: Path) -> Path:
    catalog = {
        "defaults": {"device": "cpu"},
        "tabs": {
            "text_generation": {
                "models": [
                    {
                        "id": engine.model,
                        "label": LABEL,
                        "task": "text-generation",
                        "default": True,
                        "endpoint": {"url": engine.url},
                    },
                ]
            }
        },
    }
    out.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return out


def measure(models: Path, settings: Settings, work: Path) -> dict[str, Any]:
    import openai

    say("remote generation (transformers serve) …")
    engine = start_transformers_serve(models / "llama-chat", work, "bench-serve")
    try:
        with Server(
            app_command(remote_catalog(engine, work / "remote.yaml"), "--tabs", "text_generation"), work, "remote-app"
        ) as app:
            direct = openai.OpenAI(base_url=engine.url, api_key="EMPTY", max_retries=0, timeout=600)
            client = app.client()
            page = BrowserSession(app.url)
            n = settings.new_tokens
            engine_run(direct, engine, n)
            app_run(client, n, LABEL)  # warm-ups: the first request of each pays for connections and caches
            browser_run(page, n, LABEL)
            runs: dict[str, list[tuple[float, float]]] = {"engine_client": [], "app": [], "app_gradio_client": []}
            floor: list[float] = []
            for _ in range(settings.generation_runs):
                runs["engine_client"].append(engine_run(direct, engine, n))
                runs["app"].append(browser_run(page, n, LABEL))
                runs["app_gradio_client"].append(app_run(client, n, LABEL))
                floor += [timed(lambda: client.predict(api_name="/loaded_models")) for _ in range(3)]
    finally:
        engine.stop()
    return {**compare(runs, "engine_client", n, floor), "engine": "transformers serve"}
