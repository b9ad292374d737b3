"""Batched text generation through the launched app (tiny test Llama): concurrent requests share
forward passes, each stream stays its own and equals the same request alone, Stop frees a slot,
requests beyond max_batch_size wait with their place shown, a request that cannot share the batch
runs alone and says so, one request's error leaves the others running, unloading fails the
model's requests with a message. Not timed: structure and plumbing only."""

from __future__ import annotations

import re
import time

import pytest
from gradio_client.exceptions import AppError

GREEDY = dict(temperature=0.7, top_p=0.95, top_k=50, repetition_penalty=1.0, do_sample=False, seed=0, stop="")
PROMPTS = ["the cat", "Hello there my friend, how are", "a", "Once upon a time in a land far away there lived"]


@pytest.fixture(scope="module")
def batching_app(test_catalog, test_models, tmp_path_factory):  # noqa: ANN001, ANN201
    from conftest import catalog_variant, launch_app
    from hostile_models import copy_model, long_context_eager

    root = tmp_path_factory.mktemp("batching")

    def copy(label: str, folder: str, **settings: object) -> dict:
        return {"id": str(copy_model(test_models, "llama-chat", root / folder)), "label": label, **settings}

    entries = [
        {"id": str(test_models / "llama-chat"), "label": "Batch of 4", "default": True, "max_batch_size": 4},
        copy("Batch of 2", "batch-2", max_batch_size=2),
        {
            "id": str(long_context_eager(test_models, root / "long-context")),
            "label": "Long context",
            "max_batch_size": 4,
        },
        # 0.1 MB of KV cache holds ~400 tokens of this model: a long request cannot share it.
        copy("Small KV", "small-kv", kv_cache_mb=0.1),
        copy("Unload me", "unload-me", max_batch_size=4),
    ]
    catalog = catalog_variant(
        test_catalog, root / "models.yaml", models={"text_generation": entries}, max_loaded_models=8
    )
    running = launch_app(catalog, root, "--tabs", "text_generation")
    yield running
    running.stop()


def tokens_out(stats: str) -> int:
    return int(re.search(r"out (\d+)", stats).group(1))


def shared_with(stats: str) -> int:
    """The batch size a request's stats report (1 when it ran alone)."""
    found = re.search(r"shared forward passes with up to (\d+) requests", stats)
    return int(found.group(1)) if found else 1


def wait_for(condition, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def activity(client, model: str) -> dict:  # noqa: ANN001
    table = client.predict(api_name="/generation_activity")
    rows = [dict(zip(["model", "engine", "running", "waiting", "peak"], row)) for row in table["data"]]
    return next((row for row in rows if row["model"] == model), {"running": 0, "waiting": 0, "peak": 0})


@pytest.mark.parametrize(
    "sampling",
    # greedy rows share one argmax; sampled rows with equal settings share their warpers (each draws
    # with its own generator); a repetition penalty reads the row's tokens, so its row is processed alone
    [dict(do_sample=False), dict(do_sample=True, seed=5), dict(do_sample=True, seed=11, repetition_penalty=1.3)],
)
def test_concurrent_requests_share_a_batch_and_each_equals_its_request_alone(batching_app, sampling) -> None:  # noqa: ANN001
    client = batching_app.client()
    options = {**GREEDY, **sampling, "max_new_tokens": 24}
    alone = [client.predict(prompt, "Batch of 4", **options, api_name="/generate") for prompt in PROMPTS[1:]]
    assert all(shared_with(stats) == 1 for _, stats, _, _ in alone)
    assert len({text for text, *_ in alone}) == len(alone), "different prompts give different texts"

    # A long request keeps the batch running, so the others join it at the next step.
    anchor_client = batching_app.client()
    anchor = anchor_client.submit(PROMPTS[0], "Batch of 4", **{**GREEDY, "max_new_tokens": 2000}, api_name="/generate")
    wait_for(lambda: len(anchor.outputs()) >= 2)
    clients = [batching_app.client() for _ in PROMPTS[1:]]
    jobs = [c.submit(prompt, "Batch of 4", **options, api_name="/generate") for c, prompt in zip(clients, PROMPTS[1:])]
    together = [job.result(timeout=120) for job in jobs]
    anchor_client.predict(api_name="/stop_generation")
    anchor.result(timeout=60)

    for (text, stats, _, table), (alone_text, _, _, alone_table) in zip(together, alone):
        assert shared_with(stats) >= 2, stats
        assert text == alone_text  # streams do not mix, and batching does not change the tokens
        assert table["data"] == alone_table["data"]  # each request keeps its own teaching table
    assert activity(client, "Batch of 4")["peak"] >= 2


def test_beyond_max_batch_size_requests_wait_and_stop_frees_a_slot(batching_app) -> None:  # noqa: ANN001
    long = {**GREEDY, "max_new_tokens": 2000}
    first_client, second_client, third_client = (batching_app.client() for _ in range(3))
    first = first_client.submit("Hello", "Batch of 2", **long, api_name="/generate")
    second = second_client.submit("Hi", "Batch of 2", **long, api_name="/generate")
    wait_for(lambda: len(first.outputs()) >= 2 and len(second.outputs()) >= 2)
    third = third_client.submit("Hey", "Batch of 2", **{**GREEDY, "max_new_tokens": 4}, api_name="/generate")
    wait_for(lambda: any("number 1 in line" in out[1] for out in third.outputs()))
    state = activity(first_client, "Batch of 2")
    assert state["running"] == 2 and state["waiting"] == 1 and state["peak"] == 2, state

    first_client.predict(api_name="/stop_generation")  # ends only the first client's request
    text, stats, *_ = third.result(timeout=60)
    assert tokens_out(stats) >= 1 and "in line" not in stats
    assert tokens_out(first.result(timeout=30)[1]) < 2000
    assert not second.done(), "Stop ended the caller's request only"
    second_client.predict(api_name="/stop_generation")
    assert tokens_out(second.result(timeout=60)[1]) < 2000


def test_a_request_that_cannot_share_the_batch_runs_alone_and_says_so(batching_app) -> None:  # noqa: ANN001
    client = batching_app.client()
    text, stats, *_ = client.predict("the cat", "Small KV", **{**GREEDY, "max_new_tokens": 1000}, api_name="/generate")
    assert "Ran alone" in stats and "kv_cache_mb" in stats
    short_text, short_stats, *_ = client.predict(
        "the cat", "Small KV", **{**GREEDY, "max_new_tokens": 8}, api_name="/generate"
    )
    assert "Ran alone" not in short_stats and text.startswith(short_text)


def test_an_error_in_one_request_leaves_the_others_running(batching_app) -> None:  # noqa: ANN001
    running_client, failing_client = batching_app.client(), batching_app.client()
    running = running_client.submit(
        "the weather", "Long context", **{**GREEDY, "max_new_tokens": 4000}, api_name="/generate"
    )
    wait_for(lambda: len(running.outputs()) >= 2)
    with pytest.raises(AppError, match=r"Out of memory while running the model"):
        failing_client.predict(
            "hello " * 300_000, "Long context", **{**GREEDY, "max_new_tokens": 4}, api_name="/generate"
        )
    assert not running.done(), "the running request goes on"
    produced = len(running.outputs())
    wait_for(lambda: len(running.outputs()) > produced)  # and keeps streaming
    running_client.predict(api_name="/stop_generation")
    text, stats, *_ = running.result(timeout=120)
    assert tokens_out(stats) > 1 and text


def test_unloading_the_model_fails_its_requests_with_a_message(batching_app) -> None:  # noqa: ANN001
    user, teacher = batching_app.client(), batching_app.client()
    job = user.submit("Hello", "Unload me", **{**GREEDY, "max_new_tokens": 2000}, api_name="/generate")
    wait_for(lambda: len(job.outputs()) >= 2)
    message, _ = teacher.predict("Unload me", api_name="/unload_model")
    assert "Unload me" in message
    with pytest.raises(AppError, match="Unload me was unloaded while this request was running"):
        job.result(timeout=60)
    text, stats, *_ = user.predict("Hello", "Unload me", **{**GREEDY, "max_new_tokens": 4}, api_name="/generate")
    assert tokens_out(stats) >= 1, "the next request loads the model again"
