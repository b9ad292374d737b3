"""The text generation tab through the running app: streaming, seed, stop, truncation, bad input."""

from __future__ import annotations

import time

import pytest
from gradio_client.exceptions import AppError

CHAT = "Llama chat (test)"


def _run(client, prompt="Hello", **kw):
    args = dict(max_new_tokens=16, temperature=0.7, top_p=0.95, top_k=50, repetition_penalty=1.0,
                do_sample=True, seed=0, stop="")
    args.update(kw)
    job = client.submit(prompt, CHAT, *args.values(), api_name="/generate")
    result = job.result()
    return job, result


def test_streams_and_seed_reproduces(client) -> None:
    job, (text, stats, code) = _run(client, seed=3)
    assert len(job.outputs()) > 1
    assert "tokens/s" in stats
    assert "text-generation" in code
    _, (again, _, _) = _run(client, seed=3)
    assert again == text


def test_stop_ends_early(client) -> None:
    job = client.submit("Hello", CHAT, 2000, 0.7, 0.95, 50, 1.0, True, 0, "", api_name="/generate")
    time.sleep(3)
    client.predict(api_name="/stop_generation")
    start = time.time()
    while not job.done() and time.time() - start < 30:
        time.sleep(0.2)
    assert job.done()


def test_truncation_warning(client) -> None:
    _, (_, stats, _) = _run(client, prompt="word " * 3000, max_new_tokens=4)
    assert "too long" in stats


@pytest.mark.parametrize("prompt,kw,message", [
    ("", {}, "enter a prompt"),
    ("Hi", {"max_new_tokens": 0}, "between 1 and"),
    ("Hi", {"max_new_tokens": 5000}, "between 1 and"),
    ("Hi", {"temperature": 0}, "greedy"),
])
def test_bad_input(client, prompt, kw, message) -> None:
    with pytest.raises(AppError, match=message):
        _run(client, prompt=prompt, **kw)
