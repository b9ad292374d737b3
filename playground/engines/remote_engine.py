"""Models served by another machine's engine, through the OpenAI-compatible HTTP API.

vLLM, TGI, SGLang, `transformers serve`, Hugging Face Inference Endpoints and Inference Providers all
speak it. A catalog entry with an `endpoint:` block (playground.config.catalog.Endpoint) is served from here
instead of being loaded by the model manager:

- `RemoteEngine` (playground.engines.generation's interface) streams a completion (`/v1/completions`) or a
  chat answer (`/v1/chat/completions`) with the request's options, the top alternatives per token
  where the server returns logprobs, and the stats (time to first token, tokens/s, the server's token
  counts; the endpoint and model in `describe()`). Abort (Stop) closes the HTTP stream, which makes
  the engine abort the request.
- `audio_request` maps the speech tab's options onto `/v1/audio/transcriptions` or `/translations`
  (and names those the API has no field for); `RemoteTranscriber.transcribe` sends it and returns the
  answer in the ASR pipeline's terms (`text`, `chunks` with timestamps), so the speech tab treats both
  alike.
- Both engines report their activity (requests running, answered, the last failure) and keep what
  they learned about their endpoint (EndpointMemory: the client, the fields it refuses); the one
  registry of engines in use is playground.engines.generation_engines.Engines, on the app.
- `endpoint_health` / `remote_health` ask `/v1/models` whether each remote model is served.

Every failure becomes a RemoteError whose message says what happened and what to do, in every UI
language. The client is the `openai` package; keys are read from the environment variable the
catalog names and appear nowhere else (not in messages, logs, stats or snippets).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.config.catalog import Catalog, Endpoint, ModelEntry
from playground.core.texts import DEFAULT_LANGUAGE, SHARED_LOCALES, LocalizedError, Texts, UserError
from playground.engines.generation import (
    ALTERNATIVES,
    EngineActivity,
    EngineGone,
    GenerationDelta,
    GenerationEngine,
    GenerationRequest,
    GenerationStats,
    GenerationStream,
    Message,
    StopCut,
)

# The key the client sends when the catalog names no key variable: the client needs one, and servers
# that check no key ignore it (vLLM's documentation uses the same word).
NO_KEY = "EMPTY"
HEALTH_TIMEOUT_S = 5.0
# Options that some servers refuse (`transformers serve` rejects top_k and repetition_penalty with a
# 422). A request refused because of them is sent once more without them (it never ran, so that is
# safe), and the endpoint is remembered as not accepting them.
OPTIONAL_FIELDS = ("top_k", "repetition_penalty", "logprobs", "top_logprobs", "stream_options", "seed")
AUDIO_OPTIONAL_FIELDS = ("timestamp_granularities", "language", "response_format")
# How servers say a prompt does not fit (vLLM, TGI, OpenAI, SGLang).
_CONTEXT_MARKERS = (
    "context length",
    "context_length",
    "maximum context",
    "max_model_len",
    "too long",
    "too many tokens",
    "input validation error",
    "exceeds the model",
)

TEXTS = Texts.load("remote", SHARED_LOCALES)


class RemoteError(UserError):
    """A request to an endpoint that failed; `reason` is a stable code (unreachable, timeout, auth, …)."""

    def __init__(self, reason: str, key: str, **params: Any):
        super().__init__(TEXTS.render(key, **params))
        self.reason = reason


# ---- clients ------------------------------------------------------------------------------------


def api_key(entry: ModelEntry) -> str:
    """The key for the entry's endpoint, from the variable the catalog names (NO_KEY when it names none)."""
    endpoint = _endpoint(entry)
    if endpoint.api_key_env is None:
        return NO_KEY
    key = os.environ.get(endpoint.api_key_env, "").strip()
    if not key:
        raise RemoteError("key_not_set", "key_not_set", model=entry.label, url=endpoint.url, env=endpoint.api_key_env)
    return key


def client_for(entry: ModelEntry, timeout: float | None = None, max_retries: int | None = None) -> Any:
    """A new `openai.OpenAI` client for the entry's endpoint (engines keep theirs: EndpointMemory)."""
    import openai

    endpoint = _endpoint(entry)
    timeout = endpoint.timeout if timeout is None else timeout
    max_retries = endpoint.max_retries if max_retries is None else max_retries
    return openai.OpenAI(
        base_url=endpoint.url,
        api_key=api_key(entry),
        timeout=openai.Timeout(timeout, connect=min(timeout, 10.0)),
        max_retries=max_retries,
    )


class EndpointMemory:
    """What an engine learned about its endpoint and model: a kept client (its connections are reused
    between requests; a new one when the key in the environment changed) and, per route, the optional
    fields the server refused (not sent again). Each remote engine has its own."""

    def __init__(self, entry: ModelEntry):
        self.entry = entry
        self._lock = threading.Lock()
        self._client: tuple[str, Any] | None = None
        self._refused: dict[str, set[str]] = {}

    def client(self) -> Any:
        key = api_key(self.entry)
        with self._lock:
            if self._client is None or self._client[0] != key:
                self._client = (key, client_for(self.entry))
            return self._client[1]

    def refused(self, route: str) -> set[str]:
        with self._lock:
            return set(self._refused.get(route, set()))

    def remember_refused(self, route: str, fields: set[str]) -> None:
        with self._lock:
            self._refused.setdefault(route, set()).update(fields)


def _endpoint(entry: ModelEntry) -> Endpoint:
    if entry.endpoint is None:
        raise ValueError(f"{entry.id} has no endpoint")
    return entry.endpoint


# ---- failures -----------------------------------------------------------------------------------


def _server_detail(exc: Any) -> str:
    """The server's own words from an error body ({"detail"}, {"error": {"message"}}, {"message"}…)."""
    body = getattr(exc, "body", None)
    detail: Any = None
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("message") or body.get("error")
        if isinstance(detail, dict):
            detail = detail.get("message") or detail
    elif isinstance(body, str):
        detail = body
    text = str(detail if detail is not None else getattr(exc, "message", None) or exc).strip()
    return (text[:300] + "…") if len(text) > 300 else text


def explain(exc: BaseException, entry: ModelEntry, route: str) -> RemoteError:
    """The RemoteError for an exception the client raised on `route` (e.g. /v1/completions)."""
    import openai

    endpoint = _endpoint(entry)
    url, model = endpoint.url, entry.id
    if isinstance(exc, RemoteError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return RemoteError("timeout", "timeout", url=url, timeout=endpoint.timeout, model=entry.label)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return RemoteError("unreachable", "unreachable", url=url, detail=str(cause)[:200] or type(cause).__name__)
    if isinstance(exc, openai.APIStatusError):
        status, detail = exc.status_code, _server_detail(exc)
        lowered = detail.lower()
        if status == 401 or (status == 403 and endpoint.api_key_env is None):
            if endpoint.api_key_env:
                return RemoteError("auth", "auth_rejected", url=url, env=endpoint.api_key_env, status=status)
            return RemoteError("auth", "auth_required", url=url, status=status)
        if status == 403:
            return RemoteError("forbidden", "forbidden", url=url, model=model)
        if status == 404:
            if "model" in lowered:
                return RemoteError("not_served", "not_served", url=url, model=model, detail=detail)
            return RemoteError("no_route", "no_route", url=url, route=route)
        if status == 400 and "pinned" in lowered:  # `transformers serve MODEL` serves only MODEL
            return RemoteError("not_served", "not_served", url=url, model=model, detail=detail)
        if status in (400, 413, 422) and any(marker in lowered for marker in _CONTEXT_MARKERS):
            return RemoteError("context", "context", url=url, model=entry.label, detail=detail)
        if status in (429, 502, 503, 504):
            return RemoteError("busy", "busy", url=url, status=status, retries=endpoint.max_retries)
        if status >= 500:
            return RemoteError("server_error", "server_error", url=url, status=status, detail=detail)
        return RemoteError("rejected", "rejected", url=url, status=status, detail=detail)
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        return RemoteError("server_error", "server_error", url=url, status="-", detail=_server_detail(exc))
    raise exc


def _refused_fields(exc: BaseException, sent: set[str]) -> set[str]:
    """The optional fields a 400/422 names (the server refused them, not the request as such)."""
    import openai

    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422):
        return set()
    detail = _server_detail(exc)
    return {name for name in sent if name in detail}


# ---- text generation ----------------------------------------------------------------------------


def _route(request: GenerationRequest) -> str:
    return "/v1/chat/completions" if request.is_chat else "/v1/completions"


def request_arguments(
    entry: ModelEntry, request: GenerationRequest, skip: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, Any], set[str]]:
    """The client call's keyword arguments for a request, and which optional fields they hold.

    Greedy decoding is temperature 0 (the API has no do_sample); top-k and repetition penalty are not
    in the OpenAI API, so they go in the body's extra fields (vLLM, TGI and SGLang read them there).
    Per-token logprobs are asked for only when the teaching table is wanted."""
    arguments: dict[str, Any] = {"model": entry.id, "stream": True, "max_tokens": request.max_new_tokens}
    extra: dict[str, Any] = {}
    optional: dict[str, Any] = {}
    # An option the request leaves out (None) is not sent: the server then applies the model's own
    # generation config, as vLLM and TGI do by default.
    if request.do_sample is False:
        arguments["temperature"] = 0.0
    else:
        sampling = {"temperature": request.temperature, "top_p": request.top_p}
        arguments.update({name: value for name, value in sampling.items() if value is not None})
        if request.top_k:
            extra["top_k"] = request.top_k
    if request.repetition_penalty is not None:
        extra["repetition_penalty"] = request.repetition_penalty
    optional["seed"] = request.seed
    if request.stop:
        arguments["stop"] = list(request.stop)
    if request.record_alternatives:
        if request.is_chat:
            optional.update(logprobs=True, top_logprobs=ALTERNATIVES)
        else:
            optional["logprobs"] = ALTERNATIVES
    optional["stream_options"] = {"include_usage": True}
    sent = set()
    for name, value in optional.items():
        if name not in skip:
            arguments[name] = value
            sent.add(name)
    extra = {name: value for name, value in extra.items() if name not in skip}
    if extra:
        arguments["extra_body"] = extra
        sent |= set(extra)
    return arguments, sent


def _rows_from_completion_logprobs(logprobs: Any, start: int) -> list[tuple[Any, ...]]:
    rows = []
    tokens = getattr(logprobs, "tokens", None) or []
    chosen = getattr(logprobs, "token_logprobs", None) or []
    tops = getattr(logprobs, "top_logprobs", None) or []
    for index, token in enumerate(tokens):
        top = tops[index] if index < len(tops) and tops[index] else {}
        alternatives = sorted(top.items(), key=lambda item: -item[1])[:ALTERNATIVES]
        rows.append(_row(start + len(rows) + 1, token, chosen[index] if index < len(chosen) else None, alternatives))
    return rows


def _rows_from_chat_logprobs(logprobs: Any, start: int) -> list[tuple[Any, ...]]:
    rows = []
    for item in getattr(logprobs, "content", None) or []:
        alternatives = [(alt.token, alt.logprob) for alt in (item.top_logprobs or [])][:ALTERNATIVES]
        rows.append(_row(start + len(rows) + 1, item.token, item.logprob, alternatives))
    return rows


def _row(step: int, token: str, logprob: float | None, alternatives: list[tuple[str, float]]) -> tuple[Any, ...]:
    """A teaching-table row as the local engine writes it: step, chosen token, its probability, top alternatives."""
    probability = round(math.exp(logprob), 4) if logprob is not None else None
    shown = " · ".join(f"{alt!r} {math.exp(lp):.3f}" for alt, lp in alternatives)
    return (step, repr(token), probability, shown)


def open_stream(
    entry: ModelEntry, request: GenerationRequest, memory: EndpointMemory
) -> tuple[Any, tuple[Message, ...]]:
    """Send the request; returns the client's open stream and notes (options the server refused).

    The client retries what the server refused before answering (connection refused, 429, 5xx:
    nothing ran). A 400/422 naming an optional field (e.g. `transformers serve` refusing top_k) is
    sent once more without it, and the endpoint is remembered as not taking it."""
    client = memory.client()
    route = _route(request)
    skip = memory.refused(route)
    for attempt in range(2):
        arguments, sent = request_arguments(entry, request, skip)
        try:
            if request.is_chat:
                stream = client.chat.completions.create(messages=[dict(m) for m in request.messages or ()], **arguments)
            else:
                stream = client.completions.create(prompt=request.prompt, **arguments)
            break
        except Exception as exc:  # every client failure is explained (explain re-raises any other)
            refused = _refused_fields(exc, sent)
            if attempt == 0 and refused:
                skip |= refused
                memory.remember_refused(route, refused)
                continue
            raise explain(exc, entry, route) from None
    dropped = sorted(skip & {"top_k", "repetition_penalty"} & _asked_for(request))
    notes = (TEXTS.render("dropped_options", fields=", ".join(dropped)),) if dropped else ()
    return stream, notes


def _asked_for(request: GenerationRequest) -> set[str]:
    """The extra sampling options this request really uses."""
    asked = set()
    if request.do_sample is not False and request.top_k:
        asked.add("top_k")
    if request.repetition_penalty is not None and request.repetition_penalty != 1.0:
        asked.add("repetition_penalty")
    return asked


class RemoteEngine(GenerationEngine):
    """A catalog entry served by an OpenAI-compatible engine: one streamed HTTP request per generation,
    read in a thread of its own. The server queues and batches; the app adds no line of its own (the
    tab's concurrency limit is the entry's `concurrency`). Abort closes the HTTP stream at once, which
    makes the engine abort the request."""

    def __init__(self, entry: ModelEntry):
        self.entry = entry
        self.memory = EndpointMemory(entry)
        self._lock = threading.Lock()
        self._running: set[GenerationStream] = set()
        self._closed: Message | None = None
        self._served = 0
        self._last_error: Message | None = None

    def start(self, request: GenerationRequest) -> GenerationStream:
        api_key(self.entry)  # a missing key is the caller's to fix, before any work
        with self._lock:
            if self._closed is not None:
                raise EngineGone(self._closed)
        sent = (
            json.dumps([dict(m) for m in request.messages], ensure_ascii=False, indent=1)
            if request.is_chat
            else request.prompt
        )
        stream = self.new_stream(sent)
        with self._lock:
            self._running.add(stream)
        threading.Thread(target=self._run, args=(request, stream), daemon=True, name="remote-generate").start()
        return stream

    def describe(self) -> Message:
        return TEXTS.render("endpoint_line", url=_endpoint(self.entry).url, model=self.entry.id)

    def snippet(self, request: GenerationRequest) -> str:
        return client_snippet(self.entry, request, self.memory.refused(_route(request)))

    def activity(self) -> EngineActivity:
        # Nothing waits here: the server queues and batches (the app cannot see its batches).
        with self._lock:
            return EngineActivity(
                model=self.entry.label,
                engine=TEXTS.render("engine_remote", url=_endpoint(self.entry).url),
                running=len(self._running),
                waiting=0,
                peak_batch_size=None,
                served=self._served,
                last_error=self._last_error,
            )

    def close(self, reason: Message | None = None) -> None:
        with self._lock:
            self._closed = reason or TEXTS.render("engine_closed", url=_endpoint(self.entry).url)
            running = list(self._running)
        for stream in running:
            stream.abort()

    def _run(self, request: GenerationRequest, stream: GenerationStream) -> None:
        # The request leaves the activity before its stream ends, so a caller that has its answer
        # never sees it running.
        try:
            stats, notes = read_stream(self.entry, request, stream, self.memory)
        except BaseException as exc:  # the caller re-raises it as a message
            with self._lock:
                self._running.discard(stream)
                self._last_error = failure_message(exc)
            stream.fail(exc)
            return
        with self._lock:
            self._running.discard(stream)
            self._served += 1
        stream.finish(stats, notes)


def read_stream(
    entry: ModelEntry, request: GenerationRequest, stream: GenerationStream, memory: EndpointMemory
) -> tuple[GenerationStats, tuple[Message, ...]]:
    """Send `request` to the entry's endpoint and feed `stream` with its deltas; returns the final
    stats and notes, which the caller finishes the stream with.

    Stats: time to first token, and the server's own token counts (stream pieces when it sends none).
    A stream cut after some text ends normally with the text so far and a note; before any text it
    fails with a RemoteError."""
    url = _endpoint(entry).url
    route = _route(request)
    response, notes = open_stream(entry, request, memory)
    closing = threading.Lock()

    def close_response() -> None:
        with closing:
            response.close()

    stream.on_abort(close_response)
    if stream.aborted:  # aborted while the request was being sent
        close_response()
    cut = StopCut(request.stop)  # servers such as `transformers serve` still send the stop string
    shown, pieces, first, usage, rows_seen = 0, 0, None, None, 0
    logprobs_seen = False
    ending: list[Message] = []

    def stats() -> GenerationStats:
        elapsed = time.perf_counter() - stream.started
        tokens_out = usage.completion_tokens if usage is not None and usage.completion_tokens is not None else pieces
        tokens_in = usage.prompt_tokens if usage is not None and usage.prompt_tokens is not None else 0
        return GenerationStats(tokens_in=tokens_in, tokens_out=tokens_out, ttft_s=first, elapsed_s=elapsed)

    if notes:
        stream.push(GenerationDelta(notes=notes))
    try:
        for chunk in response:
            if getattr(chunk, "usage", None) is not None:
                usage = chunk.usage
            piece, rows = "", []
            for choice in chunk.choices or []:
                piece += (getattr(choice.delta, "content", None) or "") if request.is_chat else (choice.text or "")
                logprobs = getattr(choice, "logprobs", None)
                if logprobs is not None and request.record_alternatives:
                    reader = _rows_from_chat_logprobs if request.is_chat else _rows_from_completion_logprobs
                    rows += reader(logprobs, rows_seen + len(rows))
            if rows:
                logprobs_seen = True
                rows_seen += len(rows)
            if piece:
                first = first if first is not None else time.perf_counter() - stream.started
                pieces += 1
            visible = cut.feed(piece)
            shown += len(visible)
            if visible or rows:
                stream.push(GenerationDelta(text=visible, alternatives=tuple(rows), stats=stats()))
            if cut.stopped:
                break
    except Exception as exc:  # a failure mid-stream: keep the text when there is some
        if stream.aborted:
            pass  # our own close (Stop): the engine sees the connection go and aborts
        elif shown or cut.text:
            ending.append(TEXTS.render("stream_cut", url=url, chars=len(cut.text), detail=_cut_detail(exc)))
        else:
            try:
                error = explain(exc, entry, route)
            except Exception:  # not the client's: say what the connection did
                error = RemoteError("server_error", "server_error", url=url, status="-", detail=_cut_detail(exc))
            raise error from None
    finally:
        close_response()
    rest = cut.flush()
    if rest:
        stream.push(GenerationDelta(text=rest))
    if stream.aborted:
        ending.append(TEXTS.render("stopped"))
    if usage is None and pieces:
        ending.append(TEXTS.render("no_usage"))
    if request.record_alternatives and not logprobs_seen:
        ending.append(TEXTS.render("no_logprobs"))
    return stats(), tuple(ending)


def _cut_detail(exc: BaseException) -> str:
    detail = str(exc).strip() or type(exc).__name__
    return detail[:160]


# ---- speech to text -----------------------------------------------------------------------------

TRANSCRIPTIONS, TRANSLATIONS = "/v1/audio/transcriptions", "/v1/audio/translations"


@dataclass(frozen=True)
class AudioRequest:
    """The speech tab's options mapped onto the OpenAI audio API.

    `arguments` are the client call's keyword arguments besides the file (exactly what is sent);
    `timestamps` is the granularity asked for ("off", "segment" or "word"); `unmapped` names the
    options the route has no field for, which the server therefore never sees ("language": the
    translation route takes none; "word_timestamps": it gives segments only); `refused` the fields the
    server refused, dropped from `arguments` (e.g. `transformers serve` refuses timestamp_granularities)."""

    route: str
    arguments: dict[str, Any]
    timestamps: str
    unmapped: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    @property
    def translate(self) -> bool:
        return self.route == TRANSLATIONS


def audio_request(
    entry: ModelEntry,
    task: str = "transcribe",
    language: str | None = None,
    timestamps: str = "segment",
    refused: set[str] | frozenset[str] = frozenset(),
) -> AudioRequest:
    """The audio API call for the tab's task, language (a code, None for auto-detect) and timestamps.

    The answer is always asked for as `verbose_json`: it carries the segments and the language the
    server heard; word timestamps need `timestamp_granularities` (transcription route only). The
    fields the endpoint refused before (`refused`, a RemoteTranscriber's memory) are left out (and
    named in the request's `refused`)."""
    translate = task == "translate"
    route = TRANSLATIONS if translate else TRANSCRIPTIONS
    unmapped: list[str] = []
    if translate and language:
        unmapped.append("language")
    if translate and timestamps == "word":
        unmapped.append("word_timestamps")
        timestamps = "segment"
    arguments: dict[str, Any] = {"model": entry.id, "response_format": "verbose_json"}
    if language and not translate:
        arguments["language"] = language
    if timestamps != "off" and not translate:
        arguments["timestamp_granularities"] = ["word", "segment"] if timestamps == "word" else ["segment"]
    refused = set(refused) & set(arguments)
    for name in refused:
        del arguments[name]
    return AudioRequest(route, arguments, timestamps, tuple(unmapped), tuple(sorted(refused)))


@dataclass(frozen=True)
class RemoteTranscript:
    """What the endpoint answered, in the ASR pipeline's terms, and the request that got the answer."""

    text: str
    chunks: list[dict[str, Any]]  # [{"timestamp": (start, end), "text"}], words or segments
    language: str | None  # the language the server says it heard (verbose_json only)
    timestamps_given: bool
    word_rows: bool  # the chunks are single words (word timestamps), which subtitles group into cues
    request: AudioRequest  # as finally sent (after any refused field was dropped)

    def result(self) -> dict[str, Any]:
        """The ASR pipeline's result shape, so the tab treats local and remote answers alike."""
        return {"text": self.text, "chunks": self.chunks}


def send_audio(
    entry: ModelEntry, audio_path: str | Path, request: AudioRequest, memory: EndpointMemory
) -> RemoteTranscript:
    """Send an audio file to the entry's endpoint as `request` says.

    A 400/422 naming one of the optional fields is sent once more without it (nothing ran), and the
    endpoint is remembered as refusing it. Servers that answer with text only (as `transformers serve`
    does) give no chunks and timestamps_given False."""
    client = memory.client()
    api = client.audio.translations if request.translate else client.audio.transcriptions
    for attempt in range(2):
        try:
            with open(audio_path, "rb") as audio:
                result = api.create(file=audio, **request.arguments)
            break
        except Exception as exc:  # explained, or re-raised when it is not the client's
            refused = _refused_fields(exc, set(request.arguments) & set(AUDIO_OPTIONAL_FIELDS))
            if attempt == 0 and refused:
                memory.remember_refused(request.route, refused)
                request = AudioRequest(
                    request.route,
                    {k: v for k, v in request.arguments.items() if k not in refused},
                    request.timestamps,
                    request.unmapped,
                    tuple(sorted({*request.refused, *refused})),
                )
                continue
            raise explain(exc, entry, request.route) from None
    text = getattr(result, "text", None)
    if text is None and isinstance(result, str):
        text = result
    if text is None:
        raise RemoteError("server_error", "empty_audio_answer", url=_endpoint(entry).url)
    words = (getattr(result, "words", None) or []) if request.timestamps == "word" else []
    source = (words or getattr(result, "segments", None) or []) if request.timestamps != "off" else []
    chunks = [
        {
            "timestamp": (float(_field(item, "start")), float(_field(item, "end"))),
            "text": str(_field(item, "word") or _field(item, "text") or ""),
        }
        for item in source
        if _field(item, "start") is not None and _field(item, "end") is not None
    ]
    return RemoteTranscript(
        text.strip(), chunks, getattr(result, "language", None), bool(chunks), bool(words) and bool(chunks), request
    )


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


class RemoteTranscriber:
    """Speech to text on an entry's endpoint, with its activity for the Models view (requests
    running, answered, the last failure). The server queues; nothing waits here."""

    def __init__(self, entry: ModelEntry):
        self.entry = entry
        self.memory = EndpointMemory(entry)
        self._lock = threading.Lock()
        self._running = 0
        self._served = 0
        self._last_error: Message | None = None

    def request(
        self, task: str = "transcribe", language: str | None = None, timestamps: str = "segment"
    ) -> AudioRequest:
        """The audio API call for these options, without the fields this endpoint refused before."""
        route = TRANSLATIONS if task == "translate" else TRANSCRIPTIONS
        return audio_request(self.entry, task, language, timestamps, self.memory.refused(route))

    def transcribe(self, audio_path: str | Path, request: AudioRequest) -> RemoteTranscript:
        with self._lock:
            self._running += 1
        try:
            answer = send_audio(self.entry, audio_path, request, self.memory)
        except BaseException as exc:
            with self._lock:
                self._running -= 1
                self._last_error = failure_message(exc)
            raise
        with self._lock:
            self._running -= 1
            self._served += 1
        return answer

    def activity(self) -> EngineActivity:
        with self._lock:
            return EngineActivity(
                model=self.entry.label,
                engine=TEXTS.render("engine_remote_transcription", url=_endpoint(self.entry).url),
                running=self._running,
                waiting=0,
                peak_batch_size=None,
                served=self._served,
                last_error=self._last_error,
            )


def failure_message(exc: BaseException) -> Message:
    """A failure in every language for the activity table (a RemoteError says it without any key)."""
    if isinstance(exc, LocalizedError):
        return dict(exc.messages)
    return {DEFAULT_LANGUAGE: (str(exc).strip() or type(exc).__name__)[:200]}


# ---- the Models tab -----------------------------------------------------------------------------


@dataclass
class EndpointHealth:
    """What `/v1/models` says about one remote entry (never a key)."""

    tab: str
    label: str
    model: str
    url: str
    healthy: bool
    status: str
    served: list[str] = field(default_factory=list)
    seconds: float | None = None


def endpoint_health(tab: str, entry: ModelEntry, lang: str = DEFAULT_LANGUAGE) -> EndpointHealth:
    """Ask the entry's endpoint which models it serves; healthy when the entry's is among them."""
    endpoint = _endpoint(entry)
    started = time.perf_counter()
    try:
        served = [
            model.id
            for model in client_for(entry, timeout=min(endpoint.timeout, HEALTH_TIMEOUT_S), max_retries=0).models.list()
        ]
    except RemoteError as exc:
        return EndpointHealth(
            tab,
            entry.label,
            entry.id,
            endpoint.url,
            False,
            TEXTS.get("health_error", lang, detail=exc.in_language(lang)),
        )
    except Exception as exc:  # every failure is reported in the table, none stops the listing
        try:
            detail = explain(exc, entry, "/v1/models").in_language(lang)
        except Exception:
            detail = str(exc)[:200]
        key = "health_down" if type(exc).__name__ in ("APIConnectionError", "APITimeoutError") else "health_error"
        return EndpointHealth(tab, entry.label, entry.id, endpoint.url, False, TEXTS.get(key, lang, detail=detail))
    seconds = time.perf_counter() - started
    if entry.id in served:
        return EndpointHealth(
            tab, entry.label, entry.id, endpoint.url, True, TEXTS.get("health_ok", lang), served, seconds
        )
    return EndpointHealth(
        tab,
        entry.label,
        entry.id,
        endpoint.url,
        False,
        TEXTS.get("health_not_listed", lang, served=", ".join(served) or "-"),
        served,
        seconds,
    )


def remote_entries(catalog: Catalog) -> list[tuple[str, ModelEntry]]:
    """(tab, entry) for every catalog entry served by an endpoint."""
    return [(tab_key, entry) for tab_key, tab in catalog.tabs.items() for entry in tab.models if entry.is_remote]


def remote_health(catalog: Catalog, lang: str = DEFAULT_LANGUAGE) -> list[EndpointHealth]:
    """The health of every remote entry in the catalog (the endpoints are asked in parallel)."""
    from concurrent.futures import ThreadPoolExecutor

    entries = remote_entries(catalog)
    if not entries:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(entries))) as pool:
        return list(pool.map(lambda item: endpoint_health(item[0], item[1], lang), entries))


# ---- "show code" --------------------------------------------------------------------------------


def client_setup_lines(entry: ModelEntry) -> list[str]:
    """The lines that make the same client: the key from the same environment variable, never its value."""
    endpoint = _endpoint(entry)
    if endpoint.api_key_env:
        return [
            "import os",
            "",
            "from openai import OpenAI",
            "",
            f'client = OpenAI(base_url="{endpoint.url}", api_key=os.environ["{endpoint.api_key_env}"])',
        ]
    return [
        "from openai import OpenAI",
        "",
        "# This server checks no key (the client needs one all the same).",
        f'client = OpenAI(base_url="{endpoint.url}", api_key="{NO_KEY}")',
    ]


def client_snippet(entry: ModelEntry, request: GenerationRequest, refused: set[str]) -> str:
    """The client call that streams the same request the app sent (minus the usage option and the
    fields the server refused)."""
    from playground.core.snippets import format_call

    arguments, _ = request_arguments(entry, request, skip=refused)
    arguments.pop("stream_options", None)
    content = {"messages": [dict(m) for m in request.messages or ()]} if request.is_chat else {"prompt": request.prompt}
    arguments = {"model": arguments.pop("model"), **content, **arguments}
    call = format_call(
        "client.chat.completions.create" if request.is_chat else "client.completions.create", [], arguments
    )
    piece = "chunk.choices[0].delta.content or ''" if request.is_chat else "chunk.choices[0].text"
    lines = [
        *client_setup_lines(entry),
        "",
        "stream = " + call,
        "for chunk in stream:",
        "    if chunk.choices:",
        f"        print({piece}, end='', flush=True)",
    ]
    return "\n".join(lines) + "\n"


def transcription_snippet(entry: ModelEntry, filename: str, request: AudioRequest) -> str:
    """The client call that sends the same audio request the app sent (`request` as finally sent)."""
    from playground.core.snippets import Raw, format_call

    arguments = dict(request.arguments)
    arguments = {"model": arguments.pop("model"), "file": Raw(f'open({filename!r}, "rb")'), **arguments}
    callee = "client.audio.translations.create" if request.translate else "client.audio.transcriptions.create"
    lines = [*client_setup_lines(entry), "", "result = " + format_call(callee, [], arguments), "print(result.text)"]
    return "\n".join(lines) + "\n"
