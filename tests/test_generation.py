"""The generation interface without Gradio: request checks, the stop-string cut, the stream, and the
in-process engine on the tiny test Llama (queueing, Stop, unloading)."""

from __future__ import annotations

import threading
import time

import pytest

from playground.core.texts import UserError
from playground.engines.generation import (
    GenerationDelta,
    GenerationStats,
    GenerationStream,
    StopCut,
    checked_request,
    parse_stop_strings,
)


def cut_stream(pieces: list[str], stops: list[str]) -> tuple[list[str], bool]:
    cut = StopCut(stops)
    shown = [cut.feed(piece) for piece in pieces]
    shown.append(cut.flush())
    return shown, cut.stopped


def test_stop_cut_never_shows_text_a_stop_string_claims() -> None:
    shown, stopped = cut_stream(["Hello wo", "rld. Bye", " now"], ["world"])
    assert "".join(shown) == "Hello " and stopped
    # The "wo" that could have begun "world" was held back, never shown then taken away.
    assert shown[0] == "Hello "
    shown, stopped = cut_stream(["a wo", "nder"], ["world"])
    assert "".join(shown) == "a wonder" and not stopped
    assert shown[0] == "a " and shown[1] == "wonder"


def test_stop_cut_ends_at_the_first_completed_stop() -> None:
    # "xyz" starts earlier but is completed later than "bc": the text ends before "bc".
    shown, stopped = cut_stream(["a xy", "bc", "z"], ["xyzq", "bc"])
    assert "".join(shown) == "a xy" and stopped
    assert parse_stop_strings("one\\ntwo\nthree\n\n") == ("one\ntwo", "three")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(prompt=" "), "enter a prompt"),
        (dict(prompt="x", max_new_tokens=0), "between 1 and 4096"),
        (dict(prompt="x", max_new_tokens=2.5), "between 1 and 4096"),
        (dict(prompt="x", temperature=float("nan")), "0 or more"),
        (dict(prompt="x", temperature=0, do_sample=True), "turn sampling off"),
        (dict(prompt="x", do_sample="yes"), "do_sample must be"),
        (dict(prompt="x", top_p=1.5), "between 0 and 1"),
        (dict(prompt="x", top_k=-1), "whole number between 0"),
        (dict(prompt="x", top_k="many"), "whole number between 0"),
        (dict(prompt="x", repetition_penalty=0), "above 0"),
        (dict(prompt="x", seed=2**40), "seed must be"),
    ],
)
def test_bad_requests_are_refused_in_every_language(kwargs, message) -> None:  # noqa: ANN001
    with pytest.raises(UserError, match=message) as caught:
        checked_request(**kwargs)
    assert caught.value.in_language("ko") != str(caught.value)


def test_options_left_out_are_the_models_own_and_greedy_drops_sampling_options(test_models) -> None:  # noqa: ANN001
    from playground.engines.generation_settings import effective_settings, read_shipped

    asked = checked_request("x", top_k=3).asked()
    assert asked == {
        "max_new_tokens": 64,
        "do_sample": None,
        "temperature": None,
        "top_p": None,
        "top_k": 3,
        "repetition_penalty": None,
    }
    greedy = checked_request("x", do_sample=False, temperature=0, stop="END")
    assert greedy.stop == ("END",)
    settings = effective_settings(read_shipped(str(test_models / "llama-chat")), {}, greedy.asked())
    assert settings.options == {"max_new_tokens": 64, "do_sample": False} and not settings.sampling
    # A chat model summarizing or translating decodes greedily with its own repetition penalty.
    from playground.engines.seq2seq import chat_request

    assert chat_request("Summarize: x", 8).asked() == {
        "max_new_tokens": 8,
        "do_sample": False,
        "temperature": None,
        "top_p": None,
        "top_k": None,
        "repetition_penalty": None,
    }


def test_a_slow_reader_gets_the_piled_up_deltas_merged() -> None:
    stream = GenerationStream()
    for word in ("a", "b", "c"):
        stream.push(GenerationDelta(text=word, alternatives=((word,),), stats=GenerationStats(tokens_out=1)))
    stream.finish(GenerationStats(tokens_out=3))
    deltas = list(stream)
    assert len(deltas) == 1 and deltas[0].done
    assert deltas[0].text == "abc" and deltas[0].alternatives == (("a",), ("b",), ("c",))
    assert deltas[0].stats.tokens_out == 3


def test_a_failure_reaches_the_reader_and_a_reader_that_leaves_aborts() -> None:
    stream = GenerationStream()
    stream.push(GenerationDelta(text="a"))
    stream.fail(MemoryError("out of memory"))
    with pytest.raises(MemoryError):
        list(stream)
    leaving = GenerationStream()
    leaving.push(GenerationDelta(text="a"))
    reader = iter(leaving)
    next(reader)
    reader.close()
    assert leaving.aborted


def test_a_fast_stream_reaches_the_reader_at_a_pace_a_browser_follows() -> None:
    """Gradio's browser works for every update in proportion to the page: 200 tokens in 0.4 s go out
    as a few updates, at least the interval apart, the first at once, with all the text."""
    from playground.engines.pacing import UPDATE_INTERVAL_S

    stream = GenerationStream()

    def write() -> None:
        for i in range(200):
            stream.push(GenerationDelta(text=f"{i} "))
            time.sleep(0.002)
        stream.finish(GenerationStats(tokens_out=200))

    started = time.monotonic()
    threading.Thread(target=write, daemon=True).start()
    received = [(time.monotonic(), delta) for delta in stream]
    elapsed = received[-1][0] - started
    assert "".join(delta.text for _, delta in received) == "".join(f"{i} " for i in range(200))
    assert received[0][1].text.startswith("0 ") and received[-1][1].done
    assert len(received) <= elapsed / UPDATE_INTERVAL_S + 2, (len(received), elapsed)
    gaps = [later - earlier for (earlier, _), (later, _) in zip(received, received[1:-1])]
    assert all(gap >= UPDATE_INTERVAL_S * 0.9 for gap in gaps), gaps


def test_a_pause_after_a_burst_does_not_hold_text_back() -> None:
    """What arrived goes out once the interval has passed, without waiting for the next token."""
    stream = GenerationStream()
    pushed_last = threading.Event()

    def write() -> None:
        stream.push(GenerationDelta(text="a"))
        stream.push(GenerationDelta(text="b"))
        time.sleep(0.01)
        stream.push(GenerationDelta(text="c"))
        time.sleep(3)  # a long pause, e.g. another request's prompt being read
        pushed_last.set()
        stream.push(GenerationDelta(text="d"))
        stream.finish(GenerationStats(tokens_out=4))

    threading.Thread(target=write, daemon=True).start()
    reader = iter(stream)
    first = next(reader)
    second = next(reader)
    assert not pushed_last.is_set(), "the text before the pause waited for the token after it"
    assert first.text + second.text == "abc"
    assert "".join(d.text for d in reader) == "d"


def test_text_before_a_failure_is_shown_before_its_message() -> None:
    stream = GenerationStream()
    stream.push(GenerationDelta(text="a"))
    stream.fail(MemoryError("out of memory"))
    reader = iter(stream)
    assert next(reader).text == "a"
    with pytest.raises(MemoryError):
        next(reader)


# ---- the in-process engine on the tiny test Llama -------------------------------------------------


@pytest.fixture(scope="module")
def loaded_llama(test_models):  # noqa: ANN001, ANN201
    from playground.config.catalog import parse_catalog
    from playground.loading.model_manager import ModelManager

    catalog = parse_catalog(
        {
            "defaults": {"device": "cpu"},
            "tabs": {
                "text_generation": {
                    "models": [{"id": str(test_models / "llama-chat"), "label": "Llama", "concurrency": 1}]
                }
            },
        }
    )
    manager = ModelManager(catalog)
    return manager, manager.get("text_generation")


def collect(stream: GenerationStream) -> tuple[str, list[GenerationDelta]]:
    deltas = list(stream)
    return "".join(d.text for d in deltas), deltas


def test_local_engine_streams_and_reproduces_generate(loaded_llama) -> None:  # noqa: ANN001
    import torch

    from playground.engines.local_generation import LocalEngine

    _, loaded = loaded_llama
    engine = LocalEngine(loaded)
    text, deltas = collect(
        engine.start(checked_request("the cat", max_new_tokens=12, do_sample=False, record_alternatives=True))
    )
    final = deltas[-1]
    assert final.done and final.stats.tokens_out == sum(len(d.alternatives) for d in deltas) > 0
    pipe = loaded.model
    ids = pipe.tokenizer("the cat", return_tensors="pt").input_ids
    expected = pipe.model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=12,
        do_sample=False,
        pad_token_id=pipe.tokenizer.pad_token_id,
    )
    assert text == pipe.tokenizer.decode(expected[0, ids.shape[1] :], skip_special_tokens=True)


def test_the_engines_registry_tells_its_listeners_each_finished_generation(loaded_llama) -> None:  # noqa: ANN001
    from playground.engines.generation_engines import Engines

    _, loaded = loaded_llama
    engines = Engines()
    engine = engines.local(loaded)  # made before the listener joins: it is told too
    finished: list[GenerationStats] = []
    engines.on_finished(finished.append)
    _, deltas = collect(engine.start(checked_request("the cat", max_new_tokens=5, do_sample=False)))
    assert finished == [deltas[-1].stats] and finished[0].tokens_out > 0
    failing = engine.new_stream("x")
    failing.fail(MemoryError("out of memory"))
    assert len(finished) == 1, "a failed generation is not a finished one"
    other = Engines()
    collect(other.local(loaded).start(checked_request("the cat", max_new_tokens=2, do_sample=False)))
    assert len(finished) == 1, "another registry's listeners are its own"


def test_local_engine_samples_with_each_requests_own_seed(loaded_llama) -> None:  # noqa: ANN001
    """Four sampled requests at once, two seeds: each seed gives its text alone (no shared generator),
    which is also what generate() samples after torch.manual_seed(seed), as the snippet does."""
    from concurrent.futures import ThreadPoolExecutor

    import torch

    from playground.engines.local_generation import LocalEngine

    _, loaded = loaded_llama
    engine = LocalEngine(loaded, capacity=4)
    options = dict(max_new_tokens=24, do_sample=True, temperature=1.3, top_k=40, top_p=0.9)
    with ThreadPoolExecutor(4) as pool:
        texts = list(
            pool.map(
                lambda seed: collect(engine.start(checked_request("the cat", seed=seed, **options)))[0], [1, 2, 1, 2]
            )
        )
    assert texts[0] == texts[2] and texts[1] == texts[3] and texts[0] != texts[1]
    pipe = loaded.model
    ids = pipe.tokenizer("the cat", return_tensors="pt").input_ids
    torch.manual_seed(1)
    expected = pipe.model.generate(
        ids, attention_mask=torch.ones_like(ids), pad_token_id=pipe.tokenizer.pad_token_id, **options
    )
    assert texts[0] == pipe.tokenizer.decode(expected[0, ids.shape[1] :], skip_special_tokens=True)


def test_local_engine_queues_beyond_its_capacity_and_stop_leaves_the_line(loaded_llama) -> None:  # noqa: ANN001
    from playground.engines.local_generation import LocalEngine

    _, loaded = loaded_llama
    engine = LocalEngine(loaded, capacity=1)
    long = engine.start(checked_request("Hello", max_new_tokens=2000, do_sample=False))
    long_reader = iter(long)  # (a reader that is dropped aborts its request: keep it)
    assert next(long_reader).waiting is None  # the first request is generating
    waiting = engine.start(checked_request("Hi", max_new_tokens=4, do_sample=False))
    waiting_reader = iter(waiting)
    assert next(waiting_reader).waiting == 1 and engine.activity().waiting == 1
    waiting.abort()  # leaves the line at once, without running
    assert engine.activity().waiting == 0 and next(waiting_reader).done
    long.abort()
    rest = list(long_reader)
    assert rest[-1].done and rest[-1].stats.tokens_out < 2000


def test_local_engine_fails_its_requests_when_closed(loaded_llama) -> None:  # noqa: ANN001
    from playground.engines.generation import EngineGone, unloaded_message
    from playground.engines.local_generation import LocalEngine

    _, loaded = loaded_llama
    engine = LocalEngine(loaded, capacity=1)
    running = engine.start(checked_request("Hello", max_new_tokens=2000, do_sample=False))
    reader = iter(running)
    next(reader)
    waiting = engine.start(checked_request("Hi", max_new_tokens=4, do_sample=False))
    closer = threading.Timer(0.2, engine.close, args=(unloaded_message("Llama"),))
    closer.start()
    started = time.perf_counter()
    with pytest.raises(EngineGone, match="Llama was unloaded"):
        list(reader)
    with pytest.raises(EngineGone, match="Llama was unloaded"):
        list(waiting)
    assert time.perf_counter() - started < 30
    with pytest.raises(EngineGone):
        engine.start(checked_request("again", max_new_tokens=2))
