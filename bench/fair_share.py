"""A fair share for each user: one client sends 32 `/generate` requests at once, then a second user
sends one; that user's time to first token against the same request on the idle app.

The flood comes from one gradio_client (one session: one user); the second user is a page (browser
protocol, bench/browser.py) that sends its request once every admitted request of the flood streams (none
is still in its prompt processing), in ROUNDS_FLOODED rounds (the median counts). Two apps: the catalog's `max_requests_per_user` set (the flood gets that
many in and is told the rest are over its share; the queue serves users in turn) and unset (every one
of the 32 waits in the queue, which still serves users in turn, but the batch's slots stay full).
Target: the second user's first token within 1.5× of the request alone, with the limit set.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from bench.browser import BrowserSession
from bench.common import Server, Settings, app_command, ratio, say
from bench.users import generate_inputs

FLOOD = 32
PER_USER = 4
TARGET_RATIO = 1.5
ROUNDS_ALONE = 3
ROUNDS_FLOODED = 3


def variant_catalog(catalog: Path, out: Path, per_user: int | None) -> Path:
    """The bench catalog's text generation tab alone, with `max_requests_per_user` (None: unset)."""
    data = yaml.safe_load(catalog.read_text())
    model = dict(data["tabs"]["text_generation"]["models"][0])
    model["id"] = str(catalog.parent / model["id"][2:]) if model["id"].startswith("./") else model["id"]
    data["tabs"] = {"text_generation": {"models": [model]}}
    data["defaults"]["queue_size"] = max(data["defaults"].get("queue_size", 64), FLOOD + 8)
    if per_user is not None:
        data["defaults"]["max_requests_per_user"] = per_user
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def first_token_s(url: str, new_tokens: int) -> float:
    page = BrowserSession(url)
    try:
        return page.call("/generate", generate_inputs(new_tokens))["first_s"]
    finally:
        page.close()


def flooded_first_token(url: str, new_tokens: int) -> dict[str, Any]:
    """The flood joins; once every one of its requests is in or refused, the second user's first token."""
    from gradio_client import Client
    from gradio_client.utils import Status

    flood = Client(url, verbose=False)
    jobs = [flood.submit(*generate_inputs(new_tokens), api_name="/generate") for _ in range(FLOOD)]
    joined = (Status.IN_QUEUE, Status.PROCESSING, Status.ITERATING, Status.PROGRESS, Status.FINISHED)
    deadline = time.monotonic() + 300

    def flood_served() -> bool:
        """Every flood request in the queue or refused, and the admitted ones streaming: the second user
        arrives at a busy app, not in the middle of the flood's own prompt processing."""
        states = [job.status().code for job in jobs]
        return all(state in joined or job.done() for state, job in zip(states, jobs)) and (
            (Status.ITERATING in states and Status.PROCESSING not in states) or all(job.done() for job in jobs)
        )

    while not flood_served() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = first_token_s(url, new_tokens)
    answered = refused = 0
    for job in jobs:
        try:
            job.result(timeout=1200)
            answered += 1
        except Exception:  # the requests over the user's share are refused with a message
            refused += 1
    flood.close()
    return {"second_user_ttft_s": second, "flood_answered": answered, "flood_refused": refused}


def measure(models: Path, catalog: Path, settings: Settings, work: Path) -> dict[str, Any]:  # noqa: ARG001 - sections' common signature
    new_tokens = settings.user_new_tokens
    results: dict[str, Any] = {
        "flood": FLOOD,
        "per_user": PER_USER,
        "new_tokens": new_tokens,
        "target_ratio": TARGET_RATIO,
    }
    for variant, per_user in (("limit", PER_USER), ("no_limit", None)):
        path = variant_catalog(catalog, work / f"fair-share-{variant}.yaml", per_user)
        with Server(app_command(path, "--tabs", "text_generation"), work, f"fair-share-{variant}") as app:
            first_token_s(app.url, new_tokens)  # loads the model and warms the engine
            say(f"fair share ({variant}): the request alone …")
            alone = statistics.median(first_token_s(app.url, new_tokens) for _ in range(ROUNDS_ALONE))
            say(
                f"fair share ({variant}): one client sends {FLOOD}, a second user sends one ({ROUNDS_FLOODED} rounds) …"
            )
            rounds = [flooded_first_token(app.url, new_tokens) for _ in range(ROUNDS_FLOODED)]
        second = statistics.median(r["second_user_ttft_s"] for r in rounds)
        results[variant] = {
            "alone_ttft_s": alone,
            "second_user_ttft_s": second,
            "second_user_ttft_rounds_s": [r["second_user_ttft_s"] for r in rounds],
            "flood_answered": rounds[-1]["flood_answered"],
            "flood_refused": rounds[-1]["flood_refused"],
            "ratio": ratio(second, alone),
        }
    results["met"] = results["limit"]["ratio"] <= TARGET_RATIO
    return results
