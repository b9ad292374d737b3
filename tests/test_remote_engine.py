"""Remote models (catalog `endpoint:`) against real engines started here: `transformers serve` in
`make test`, vLLM's CPU build in `make test-vllm` (PLAYGROUND_TEST_ENGINE=vllm), HAProxy where a
gateway's answer is needed (401, 429, 503), a port that never answers (timeout)."""

from __future__ import annotations

import ast
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engines import (
    CONTEXT_TOKENS,
    ENGINE,
    KEY,
    KEY_ENV,
    Engine,
    SilentServer,
    down_backend_proxy,
    haproxy_available,
    key_checking_proxy,
    rate_limiting_proxy,
    start_transformers_serve,
)

from bench.common import free_port
from playground.config.catalog import Endpoint, ModelEntry, parse_catalog
from playground.engines import remote_engine
from playground.engines.generation import (
    GenerationDelta,
    GenerationRequest,
    GenerationStats,
    GenerationStream,
    checked_request,
    pick,
)
from playground.engines.remote_engine import RemoteEngine, RemoteError

GREEDY = dict(max_new_tokens=16, do_sample=False, top_k=0)
LONG_ANSWER = 256
needs_haproxy = pytest.mark.skipif(
    not haproxy_available(), reason="haproxy is not installed (scripts/setup.sh installs it when root)"
)


@dataclass
class Answer:
    """A finished generation as the tab sees it: the deltas and what they add up to."""

    deltas: list[GenerationDelta]

    @property
    def text(self) -> str:
        return "".join(d.text for d in self.deltas)

    @property
    def rows(self) -> list[tuple[Any, ...]]:
        return [row for d in self.deltas for row in d.alternatives]

    @property
    def notes(self) -> list[str]:
        return [pick(note, "en") for d in self.deltas for note in d.notes]

    @property
    def stats(self) -> GenerationStats:
        return self.deltas[-1].stats


@pytest.fixture(autouse=True)
def engine_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def remote_entry(url: str, model: str, task: str = "text-generation", **endpoint: Any) -> ModelEntry:
    return ModelEntry(id=model, label=f"{model} (remote)", task=task, endpoint=Endpoint(url=url, **endpoint))


def served(engine: Engine, **endpoint: Any) -> ModelEntry:
    """The entry for the engine's model, with the key variable when the engine checks a key."""
    if engine.api_key:
        endpoint.setdefault("api_key_env", KEY_ENV)
    return remote_entry(engine.url, engine.model, **endpoint)


def request(
    prompt: str | None = "hello world", messages: list[dict[str, str]] | None = None, **options: Any
) -> GenerationRequest:
    return checked_request(None if messages else prompt, messages, **{**GREEDY, **options})


def start(entry: ModelEntry, **kwargs: Any) -> GenerationStream:
    return RemoteEngine(entry).start(request(**kwargs))


def run(entry: ModelEntry, **kwargs: Any) -> Answer:
    return Answer(list(start(entry, **kwargs)))


def failure(entry: ModelEntry, **kwargs: Any) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        run(entry, **kwargs)
    return caught.value


def test_completion_streams_text_and_stats(engine: Engine) -> None:
    # Long enough to outlast the pacing's tenth of a second: the tiny model writes 16 tokens in a burst.
    answer = run(served(engine), record_alternatives=True, max_new_tokens=LONG_ANSWER)
    final = answer.deltas[-1]
    assert final.done and not any(d.done for d in answer.deltas[:-1])
    assert sum(1 for delta in answer.deltas if delta.text) >= 2, "the text arrives in pieces"
    assert answer.text
    stats = answer.stats
    assert 0 < stats.tokens_out <= LONG_ANSWER and stats.tokens_in > 0, "the server's own counts"
    assert not any("no token counts" in note for note in answer.notes)
    assert stats.ttft_s is not None and 0 < stats.ttft_s <= stats.elapsed_s and stats.tokens_per_s > 0
    described = pick(RemoteEngine(served(engine)).describe(), "en")
    assert engine.url in described and engine.model in described
    if engine.gives_logprobs:
        assert len(answer.rows) == stats.tokens_out
        step, token, probability, shown = answer.rows[0]
        assert step == 1 and 0 < probability <= 1 and shown.count(" · ") == remote_engine.ALTERNATIVES - 1
    else:
        assert answer.rows == []
        assert any("no per-token probabilities" in note for note in answer.notes)


def test_greedy_is_repeatable_and_seed_fixes_sampling(engine: Engine) -> None:
    entry = served(engine)
    assert run(entry).text == run(entry).text
    sampled = dict(do_sample=True, temperature=1.5, top_p=1.0, max_new_tokens=24)
    first, again, other = (run(entry, seed=seed, **sampled).text for seed in (7, 7, 8))
    assert first == again
    assert first != other


def test_top_k_and_repetition_penalty_where_the_server_accepts_them(engine: Engine) -> None:
    answer = run(served(engine), do_sample=True, temperature=1.0, top_k=5, repetition_penalty=1.3, seed=1)
    assert answer.text
    dropped = [note for note in answer.notes if "does not accept" in note]
    if engine.accepts_top_k:
        assert not dropped
    else:  # `transformers serve` refuses them (422); the app resends without them and says so
        assert dropped and "top_k" in dropped[0] and "repetition_penalty" in dropped[0]


def test_stop_strings_end_the_text_where_they_start(engine: Engine) -> None:
    entry = served(engine)
    full = run(entry, max_new_tokens=24).text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    assert stop.strip(), f"no usable stop string in {full!r}"
    assert run(entry, max_new_tokens=24, stop=stop).text == full[: full.index(stop)]


def test_stop_closes_the_stream_and_the_engine_aborts(engine: Engine) -> None:
    entry = served(engine)
    long_run = CONTEXT_TOKENS - 64
    stream = start(entry, max_new_tokens=long_run)
    deltas = []
    for delta in stream:
        deltas.append(delta)
        if len(deltas) == 1:  # at the first text (the next comes a pacing interval later: vLLM may be done by then)
            stream.abort()
    answer = Answer(deltas)
    # Deltas that piled up while the loop ran arrive merged, so a few more may come after the abort.
    assert deltas[-1].done and answer.stats.tokens_out < long_run / 2
    assert any("Stopped" in note for note in answer.notes)
    # The engine gave up the request: a new one is answered at once (transformers serve runs one
    # generation at a time, so it would wait for the rest of the long one otherwise).
    rest_of_long_run = (long_run - answer.stats.tokens_out) / max(answer.stats.tokens_per_s, 1e-3)
    started = time.perf_counter()
    assert run(entry, max_new_tokens=4).deltas[-1].done
    assert time.perf_counter() - started < max(rest_of_long_run / 2, 1.0)


def test_chat_sends_the_conversation_to_the_server_template(engine: Engine) -> None:
    entry = served(engine)
    short = run(entry, messages=[{"role": "user", "content": "hello"}])
    history = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hello there"},
        {"role": "user", "content": "hello again"},
    ]
    longer = run(entry, messages=history)
    assert short.deltas[-1].done and longer.deltas[-1].done
    assert longer.stats.tokens_in > short.stats.tokens_in + 6, "earlier turns and the system prompt reached the server"


def test_closed_port_is_unreachable() -> None:
    entry = remote_entry(f"http://127.0.0.1:{free_port()}/v1", "any-model", max_retries=0)
    started = time.perf_counter()
    error = failure(entry)
    assert error.reason == "unreachable" and "Is the engine running" in str(error)
    assert "연결할 수 없습니다" in error.in_language("ko")
    assert time.perf_counter() - started < 5


def test_an_engine_that_never_answers_times_out() -> None:
    silent = SilentServer()
    try:
        started = time.perf_counter()
        error = failure(remote_entry(silent.url, "any-model", timeout=1, max_retries=0))
        elapsed = time.perf_counter() - started
    finally:
        silent.close()
    assert error.reason == "timeout" and "1 s" in str(error)
    assert 0.9 < elapsed < 6


def test_model_not_served(engine: Engine) -> None:
    entry = served(engine)
    error = failure(entry.model_copy(update={"id": "not-a-served-model"}))
    assert error.reason == "not_served" and "not-a-served-model" in str(error)


def test_prompt_longer_than_the_context(engine: Engine) -> None:
    if not engine.checks_context:
        pytest.skip(f"{engine.name} does not check the context length (it generates past it)")
    error = failure(served(engine), prompt="hello " * (CONTEXT_TOKENS + 100))
    assert error.reason == "context"


def key_checked(engine: Engine, log_dir: Path) -> tuple[str, Any]:
    """A URL that checks KEY in front of the engine: the engine itself (vLLM --api-key), else HAProxy."""
    if engine.api_key:
        return engine.url, None
    if not haproxy_available():
        pytest.skip("haproxy is not installed (scripts/setup.sh installs it when root)")
    proxy = key_checking_proxy(engine.url, KEY, log_dir)
    return proxy.url + "/v1", proxy


def test_wrong_key_is_refused_and_never_shown(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, proxy = key_checked(engine, tmp_path)
    try:
        entry = remote_entry(url, engine.model, api_key_env=KEY_ENV)
        answered = run(entry)
        assert answered.text and not any(KEY in note for note in answered.notes)
        monkeypatch.setenv(KEY_ENV, "wrong-key-1234")
        error = failure(entry)
        assert error.reason == "auth" and KEY_ENV in str(error)
        assert "wrong-key-1234" not in str(error) and "wrong-key-1234" not in error.in_language("ko")
        assert (
            remote_engine.remote_health(
                parse_catalog({"tabs": {"text_generation": {"models": [entry.model_dump(exclude_defaults=True)]}}})
            )[0].healthy
            is False
        )
    finally:
        if proxy is not None:
            proxy.stop()


def test_unset_key_variable_is_named_before_any_request() -> None:
    entry = remote_entry(f"http://127.0.0.1:{free_port()}/v1", "m", api_key_env="PLAYGROUND_TEST_UNSET_KEY")
    os.environ.pop("PLAYGROUND_TEST_UNSET_KEY", None)
    error = failure(entry)
    assert error.reason == "key_not_set" and "PLAYGROUND_TEST_UNSET_KEY" in str(error)


@needs_haproxy
def test_engine_down_behind_the_balancer_is_busy_503(tmp_path: Path) -> None:
    proxy = down_backend_proxy(tmp_path)
    try:
        error = failure(remote_entry(proxy.url + "/v1", "m", max_retries=1))
    finally:
        proxy.stop()
    assert error.reason == "busy" and "503" in str(error) and "1 retries" in str(error)


@needs_haproxy
def test_rate_limited_is_busy_429(tmp_path: Path) -> None:
    proxy = rate_limiting_proxy(tmp_path)
    try:
        error = failure(remote_entry(proxy.url + "/v1", "m", max_retries=0))
    finally:
        proxy.stop()
    assert error.reason == "busy" and "429" in str(error)
    assert "바쁩니다" in error.in_language("ko")


def test_health_lists_served_missing_and_unreachable_models(engine: Engine) -> None:
    entry = served(engine)
    catalog = parse_catalog(
        {
            "tabs": {
                "text_generation": {
                    "models": [
                        entry.model_dump(exclude_defaults=True),
                        {**entry.model_dump(exclude_defaults=True), "id": "not-served", "label": "Not served"},
                        {"id": "gone", "label": "Gone", "endpoint": {"url": f"http://127.0.0.1:{free_port()}/v1"}},
                    ]
                }
            }
        }
    )
    health = {h.label: h for h in remote_engine.remote_health(catalog)}
    assert health[entry.label].healthy and engine.model in health[entry.label].served
    assert not health["Not served"].healthy and "not in the server's /v1/models" in health["Not served"].status
    assert not health["Gone"].healthy and health["Gone"].status.startswith("unreachable")
    assert all(KEY not in str(h) for h in health.values())


def test_snippet_makes_the_same_request_and_reads_the_key_from_the_environment(engine: Engine) -> None:
    entry = remote_entry(engine.url, engine.model, api_key_env=KEY_ENV)
    wanted = request("hello", do_sample=True, temperature=0.8, top_k=0, seed=3, stop="\\n", record_alternatives=True)
    snippet = RemoteEngine(entry).snippet(wanted)
    assert KEY not in snippet and f'os.environ["{KEY_ENV}"]' in snippet
    tree = ast.parse(snippet)
    call = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "client.completions.create"
    )
    shown = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    sent, _ = remote_engine.request_arguments(entry, wanted)
    sent.pop("stream_options")
    assert shown == {"prompt": "hello", **sent}
    assert shown["stop"] == ["\n"] and shown["seed"] == 3 and shown["temperature"] == 0.8


def test_stream_cut_halfway_keeps_the_text(test_models: Path, tmp_path: Path) -> None:
    """The engine dies mid-answer (its own process, started for this test)."""
    from engines import start_vllm

    doomed = (
        start_vllm(test_models / "llama-hd64", tmp_path, KEY)
        if ENGINE == "vllm"
        else start_transformers_serve(test_models / "llama-hd64", tmp_path, "doomed")
    )
    entry = served(doomed)
    deltas = []
    try:
        for delta in start(entry, max_new_tokens=CONTEXT_TOKENS - 64):
            deltas.append(delta)
            if len(deltas) == 1:  # at the first text: vLLM would otherwise finish within a second
                doomed.kill()
    finally:
        doomed.stop()
    answer = Answer(deltas)
    assert deltas[-1].done and deltas[0].text and answer.text.startswith(deltas[0].text)
    assert answer.stats.tokens_out < CONTEXT_TOKENS - 64, "the answer was cut before its end"
    assert any("was cut after" in note for note in answer.notes)
    assert (
        failure(entry.model_copy(update={"endpoint": entry.endpoint.model_copy(update={"max_retries": 0})})).reason
        == "unreachable"
    )


def test_speech_options_map_onto_the_audio_api() -> None:
    entry = remote_entry(f"http://127.0.0.1:{free_port()}/v1", "whisper", task="automatic-speech-recognition")
    transcribing = remote_engine.audio_request(entry, "transcribe", "ko", "word")
    assert transcribing.route == "/v1/audio/transcriptions" and transcribing.unmapped == ()
    assert transcribing.arguments == {
        "model": "whisper",
        "response_format": "verbose_json",
        "language": "ko",
        "timestamp_granularities": ["word", "segment"],
    }
    assert remote_engine.audio_request(entry, "transcribe", None, "off").arguments == {
        "model": "whisper",
        "response_format": "verbose_json",
    }
    # The translation route takes no language and gives segments only: both are named, neither is sent.
    translating = remote_engine.audio_request(entry, "translate", "ko", "word")
    assert translating.route == "/v1/audio/translations" and translating.timestamps == "segment"
    assert translating.unmapped == ("language", "word_timestamps")
    assert translating.arguments == {"model": "whisper", "response_format": "verbose_json"}


def snippet_call(snippet: str, callee: str) -> dict[str, Any]:
    """The keyword arguments of the `callee(...)` call in a snippet, as source text for the file and values otherwise."""
    call = next(
        node for node in ast.walk(ast.parse(snippet)) if isinstance(node, ast.Call) and ast.unparse(node.func) == callee
    )
    return {kw.arg: ast.unparse(kw.value) if kw.arg == "file" else ast.literal_eval(kw.value) for kw in call.keywords}


def test_transcription_sends_what_the_server_takes_and_the_snippet_sends_the_same(
    whisper_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench.inputs import write_tone

    audio = write_tone(tmp_path / "tone.wav")
    entry = remote_entry(whisper_engine.url, whisper_engine.model, task="automatic-speech-recognition")
    transcriber = remote_engine.RemoteTranscriber(entry)
    answer = transcriber.transcribe(audio, transcriber.request("transcribe", "ko", "word"))
    assert isinstance(answer.text, str)
    # transformers serve refuses timestamp_granularities (422): the request is sent again without it,
    # and the endpoint is remembered as refusing it. Its answer is text only (no verbose_json).
    assert answer.request.refused == ("timestamp_granularities",)
    assert answer.request.arguments == {
        "model": whisper_engine.model,
        "response_format": "verbose_json",
        "language": "ko",
    }
    assert answer.chunks == [] and answer.timestamps_given is False and answer.language is None
    assert transcriber.request("transcribe", "ko", "word").refused == ("timestamp_granularities",)
    activity = transcriber.activity()
    assert (activity.running, activity.served, activity.last_error) == (0, 1, None)
    assert whisper_engine.url in pick(activity.engine, "en")

    snippet = remote_engine.transcription_snippet(entry, "tone.wav", answer.request)
    shown = snippet_call(snippet, "client.audio.transcriptions.create")
    assert shown == {"file": "open('tone.wav', 'rb')", **answer.request.arguments}
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "snippet.py", "exec"), {})  # the shown call is accepted by the same server
    assert capsys.readouterr().out.strip() == answer.text


def test_translation_where_the_server_has_no_route(whisper_engine: Engine, tmp_path: Path) -> None:
    from bench.inputs import write_tone

    entry = remote_entry(whisper_engine.url, whisper_engine.model, task="automatic-speech-recognition")
    transcriber = remote_engine.RemoteTranscriber(entry)
    with pytest.raises(RemoteError) as caught:
        transcriber.transcribe(write_tone(tmp_path / "tone.wav"), transcriber.request("translate"))
    assert caught.value.reason == "no_route" and "/v1/audio/translations" in str(caught.value)
    activity = transcriber.activity()
    assert (
        activity.running == 0 and activity.served == 0 and "/v1/audio/translations" in pick(activity.last_error, "en")
    )
