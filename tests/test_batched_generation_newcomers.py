"""The batching scheduler in process (tiny test Llama, the real engine): a request that arrives while a
decoding step is in flight is prefilled between that step's decoder layers, so its first token does not
wait for the step, and then shares the batch's steps; in the line, another user's first request goes
before a user's queued ones; every request's tokens equal its request alone. Ordering and structure,
not timings."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from playground.engines.generation import GenerationStream, checked_request

# A bound for a step that waits on the newcomer's first token: the old scheduler never gives it
# within the step, so the test fails after this long instead of hanging.
FIRST_TOKEN_WAIT_S = 20


@pytest.fixture(scope="module")
def loaded_llama(test_models):  # noqa: ANN001, ANN201
    from playground.config.catalog import parse_catalog
    from playground.loading.model_manager import ModelManager

    catalog = parse_catalog(
        {
            "defaults": {"device": "cpu"},
            "tabs": {
                "text_generation": {
                    "models": [{"id": str(test_models / "llama-chat"), "label": "Llama", "max_batch_size": 4}]
                }
            },
        }
    )
    return ModelManager(catalog).get("text_generation")


def text_of(stream: GenerationStream) -> str:
    return "".join(delta.text for delta in stream)


def test_a_newcomer_gets_its_first_token_within_the_step_in_flight(loaded_llama) -> None:  # noqa: ANN001
    from playground.engines.batched_generation import BatchedEngine, decoder_layers

    engine = BatchedEngine(loaded_llama, max_batch_size=4, kv_budget_bytes=64 * 2**20)
    running_request = checked_request("the cat", max_new_tokens=30, do_sample=False)
    newcomer_request = checked_request("Once upon a time in a land far away", max_new_tokens=12, do_sample=False)
    running_alone = text_of(engine.start(running_request))
    newcomer_alone = text_of(engine.start(newcomer_request))
    steps_alone = engine.step_batch_sizes.get(1, 0)

    model = loaded_llama.model.model
    layers = decoder_layers(model)
    assert len(layers) == model.config.num_hidden_layers
    newcomer: dict[str, Any] = {}
    first_token = threading.Event()
    within_step: list[bool] = []

    def read_newcomer(stream: GenerationStream) -> None:
        deltas = []
        for delta in stream:
            deltas.append(delta)
            if delta.stats is not None and delta.stats.tokens_out >= 1:
                first_token.set()
        newcomer["text"] = "".join(delta.text for delta in deltas)
        newcomer["batch_size"] = deltas[-1].stats.batch_size

    def arrive_during_a_step(module: Any, args: Any) -> None:
        """At the first layer of the running request's second decoding step, the newcomer arrives."""
        decoding = args[0].shape[1] == 1
        if decoding and "reader" not in newcomer and engine.step_batch_sizes.get(1, 0) >= steps_alone + 2:
            newcomer["reader"] = threading.Thread(target=read_newcomer, args=(engine.start(newcomer_request),))
            newcomer["reader"].start()

    def end_of_that_step(module: Any, args: Any) -> None:
        """At the final norm of that same step (the nested prefill's norm sees the whole prompt)."""
        if args[0].shape[1] == 1 and "reader" in newcomer and not within_step:
            within_step.append(first_token.wait(FIRST_TOKEN_WAIT_S))

    hooks = [
        layers[0].register_forward_pre_hook(arrive_during_a_step),
        model.model.norm.register_forward_pre_hook(end_of_that_step),
    ]
    try:
        running_text = text_of(engine.start(running_request))
        newcomer["reader"].join(timeout=60)
    finally:
        for hook in hooks:
            hook.remove()

    assert within_step == [True], "the newcomer's first token came before the step in flight ended"
    assert newcomer["batch_size"] == 2, "then it shared the running request's steps"
    assert engine.step_batch_sizes.get(2, 0) >= 1
    assert running_text == running_alone and newcomer["text"] == newcomer_alone


def test_another_users_first_request_joins_before_a_users_queued_ones(loaded_llama) -> None:  # noqa: ANN001
    from playground.engines.batched_generation import BatchedEngine

    engine = BatchedEngine(loaded_llama, max_batch_size=1, kv_budget_bytes=64 * 2**20)

    def ask(user: str, prompt: str, max_new_tokens: int) -> GenerationStream:
        request = checked_request(prompt, max_new_tokens=max_new_tokens, do_sample=False)
        return engine.start(replace(request, user=user))

    prompts = {"flood 2": "Hello", "flood 3": "Hi", "second": "Once upon"}
    alone = {name: text_of(ask(name, prompt, 6)) for name, prompt in prompts.items()}
    running = ask("flood", "the cat", 2000)
    running_reader = iter(running)  # (a reader that is dropped aborts its request: keep it)
    assert next(running_reader).waiting is None  # the flood's first request is generating
    streams = {name: ask(name.split()[0], prompt, 6) for name, prompt in prompts.items()}
    readers = {name: iter(stream) for name, stream in streams.items()}
    firsts = {name: next(reader) for name, reader in readers.items()}
    assert firsts["second"].waiting == 1, "the second user's first request is first in line"
    running.abort()
    list(running_reader)
    deltas = {name: [firsts[name], *reader] for name, reader in readers.items()}

    places = {name: [d.waiting for d in ds if d.waiting is not None] for name, ds in deltas.items()}
    # A place is announced when it changes at the scheduler's next look, so the flood's requests may not
    # see theirs move back before the second user's request starts: the second user is never behind.
    assert places["second"] == [1], places
    assert all(place >= 1 for name in ("flood 2", "flood 3") for place in places[name]), places
    started_at = {name: streams[name].started + ds[-1].stats.ttft_s for name, ds in deltas.items()}
    assert started_at["second"] < started_at["flood 2"] < started_at["flood 3"]
    assert {name: "".join(d.text for d in ds) for name, ds in deltas.items()} == alone
