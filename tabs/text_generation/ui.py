"""Text generation tab: stream a completion or a chat reply token by token, with a Stop button that
really stops. The generation itself is the shared generation interface (playground.engines.generation);
this module holds the handlers, how results are shown, and `build()` (strings: `locales/`).

Endpoints:
- `/generate(prompt, model, max_new_tokens, temperature, top_p, top_k, repetition_penalty, do_sample,
  seed, stop)` -> streamed (text so far, stats markdown, code, teaching table).
- `/chat(message, history, model, system_prompt, ...same options)` -> streamed (history with the
  reply so far, the exact prompt after the chat template, stats markdown, code).
- `/stop_generation()` -> ends the caller's own running (or waiting) generation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from playground.core.texts import Texts, request_language
from playground.engines.generation import (
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_SEED,
    GenerationDelta,
    GenerationEngine,
    GenerationRequest,
    GenerationStats,
    GenerationStream,
    chat_messages,
    checked_request,
    normalize_history,
    pick,
)
from playground.engines.generation import (
    TEXTS as GENERATION_TEXTS,
)
from playground.engines.generation_engines import concurrent_requests
from playground.engines.generation_settings import LIBRARY_DEFAULTS, effective_settings, read_shipped
from playground.operations.fair_share import request_user
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, model_picker

TABLE_COLUMNS = ("col_step", "col_token", "col_prob", "col_alternatives")
COMPLETION_EXAMPLES = ["In this course, we will teach you how to"]
CHAT_EXAMPLES = [
    "What is a transformer model? Answer in two sentences.",
    "트랜스포머 모델이 무엇인지 두 문장으로 설명해 주세요.",
]
# The settings' defaults, shared by the widgets and the API (an endpoint needs only its text). The
# sampling options default to the model's own (None in the API; the page shows the picked model's).
DEFAULTS = dict(max_new_tokens=DEFAULT_MAX_NEW_TOKENS, seed=DEFAULT_SEED, stop="")
SAMPLING = ("temperature", "top_p", "top_k", "repetition_penalty", "do_sample")

TEXTS = Texts.load("text_generation", Path(__file__).with_name("locales"))


def stats_markdown(
    heading: str, notes: list[str], stats: GenerationStats | None, waiting: int | None, model_label: str, lang: str
) -> str:
    """The stats panel: which model, the notes (truncation, batching), then the live figures or the
    request's place in line."""
    if waiting is not None:
        line = GENERATION_TEXTS.get("waiting", lang, position=waiting, model=model_label)
    else:
        stats = stats or GenerationStats()
        line = TEXTS.get(
            "stats_line",
            lang,
            ttft=stats.ttft_s if stats.ttft_s is not None else stats.elapsed_s,
            rate=stats.tokens_per_s,
            tin=stats.tokens_in,
            tout=stats.tokens_out,
        )
        if stats.batch_size > 1:
            line += " · " + TEXTS.get("batch_line", lang, size=stats.batch_size)
    return "\n\n".join([heading, *notes, line])


def table_value(rows: list[tuple[Any, ...]], lang: str) -> dict[str, Any]:
    """The teaching table with its headers in the caller's language."""
    return {"headers": [TEXTS.get(key, lang) for key in TABLE_COLUMNS], "data": [list(row) for row in rows]}


class Shown:
    """What one request has produced so far, as the tab shows it (text, table rows, stats panel)."""

    def __init__(self, engine: GenerationEngine, model_label: str, lang: str):
        self.heading = pick(engine.describe(), lang)
        self.model_label = model_label
        self.lang = lang
        self.text = ""
        self.rows: list[tuple[Any, ...]] = []
        self.notes: list[str] = []
        self.stats: GenerationStats | None = None
        self.waiting: int | None = None

    def add(self, delta: GenerationDelta) -> None:
        self.text += delta.text
        self.rows += delta.alternatives
        self.notes += [pick(note, self.lang) for note in delta.notes]
        self.waiting = delta.waiting
        self.stats = delta.stats or self.stats

    @property
    def stats_text(self) -> str:
        return stats_markdown(self.heading, self.notes, self.stats, self.waiting, self.model_label, self.lang)


class SessionStreams:
    """The generation each browser session (or API client) has running, so Stop ends only the caller's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[str, GenerationStream] = {}

    @staticmethod
    def session(request: Any) -> str:
        return getattr(request, "session_hash", None) or ""

    def follow(self, request: Any, stream: GenerationStream) -> Iterator[GenerationDelta]:
        """The stream's deltas, with the stream registered as the session's while it runs."""
        session = self.session(request)
        with self._lock:
            self._streams[session] = stream
        try:
            yield from stream
        finally:
            with self._lock:
                if self._streams.get(session) is stream:
                    del self._streams[session]

    def stop(self, request: Any) -> None:
        with self._lock:
            stream = self._streams.get(self.session(request))
        if stream is not None:
            stream.abort()


def last_user_turn(history: list[dict[str, Any]] | None) -> tuple[str, list[dict[str, str]]]:
    """For Retry: the last user message, and the history before it."""
    turns = normalize_history(history)
    for index in range(len(turns) - 1, -1, -1):
        if turns[index]["role"] == "user":
            return turns[index]["content"], turns[:index]
    raise TEXTS.error("nothing_to_retry")


def page_settings(ctx: TabContext, model: str | None, task: str, lang: str | None = None) -> dict[str, Any]:
    """The sampling settings the page shows for a model: the model's own generation config (read
    without loading it, from its folder or the Hub cache) under the catalog entry's generate_kwargs,
    else transformers' defaults; and a line saying which it is (`lang` None: the page's own string)."""
    entry = ctx.entry(model, task)
    shipped = None
    if not entry.is_remote:
        try:
            shipped = read_shipped(ctx.catalog.resolve_path(entry), entry.revision)
        except Exception:  # unreadable here: the first request loads the model and says what it used
            shipped = None
    layered = effective_settings(shipped, entry.generate_kwargs, {}) if shipped else None
    values = {key: (layered.get(key) if layered else LIBRARY_DEFAULTS[key]) for key in SAMPLING}
    key = "settings_model" if shipped else "settings_library"
    values["source"] = TEXTS.get(key, lang) if lang else TEXTS.ui(key)
    return values


def shown_settings(ctx: TabContext, model: str | None, task: str, request: Any = None) -> list[Any]:
    """page_settings as updates for the boxes, in the page's language."""
    values = page_settings(ctx, model, task, request_language(request))
    return [values[key] for key in SAMPLING] + [values["source"]]


def sessions(ctx: TabContext) -> SessionStreams:
    """The tab's running generations by browser session (one registry per app, kept on its context)."""
    return ctx.state.setdefault("sessions", SessionStreams())


def started(
    ctx: TabContext, request: GenerationRequest, model: str | None, progress: Any, http_request: Any
) -> tuple[Any, GenerationStream, Shown]:
    entry = ctx.entry(model, ctx.tasks[0])
    engine = ctx.generation_engine(entry.id, ctx.tasks[0], progress)
    stream = engine.start(replace(request, user=request_user(http_request)))
    return engine, stream, Shown(engine, entry.label, request_language(http_request))


def generate(
    ctx: TabContext,
    prompt: str,
    model: str | None = None,
    max_new_tokens: int = DEFAULTS["max_new_tokens"],
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    repetition_penalty: float | None = None,
    do_sample: bool | None = None,
    seed: int = DEFAULTS["seed"],
    stop: str = DEFAULTS["stop"],
    progress: Any = None,
    request: Any = None,
) -> Iterator[tuple[str, str, str, Any]]:
    """Continue a prompt with a text-generation model, streaming the text as it is generated.

    Args:
        prompt: The text to continue.
        model: A catalog model id or label (default: the tab's default model).
        max_new_tokens: How many tokens to generate at most (1 to 4096).
        temperature: Sampling temperature (above 0 when sampling; higher = more varied); empty: the model's own.
        top_p: Nucleus sampling: sample from the smallest set of tokens whose probability reaches top_p (0 to 1); empty: the model's own.
        top_k: Sample only from the k most likely tokens (0 = no top-k filter); empty: the model's own.
        repetition_penalty: Above 1 discourages repeating tokens already in the text; empty: the model's own.
        do_sample: Sample (true) or always pick the most likely token (false, greedy); empty: the model's own.
        seed: Random seed: the same seed and settings give the same text.
        stop: Stop strings, one per line (a literal \\n is a line break); the text ends before the first one.
    """
    wanted = checked_request(
        prompt,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        repetition_penalty=repetition_penalty,
        do_sample=do_sample,
        seed=seed,
        stop=stop,
        record_alternatives=True,
    )
    engine, stream, shown = started(ctx, wanted, model, progress, request)
    snippet = engine.snippet(wanted)
    # While tokens stream, only the text and stats change: the code goes out unchanged and the teaching
    # table empty until the end (re-sending a growing table with every token costs the stream its speed).
    # Gradio streams only what changed; an unchanged value costs less per token than gr.skip(), which
    # rebuilds the component's config (1.5 against 2.9 ms of CPU per update, measured).
    empty_table = table_value([], shown.lang)
    for delta in sessions(ctx).follow(request, stream):
        shown.add(delta)
        if not delta.done:
            yield shown.text, shown.stats_text, snippet, empty_table
    yield shown.text, shown.stats_text, snippet, table_value(shown.rows, shown.lang)


def chat(
    ctx: TabContext,
    message: str,
    history: list[dict[str, Any]] | None = None,
    model: str | None = None,
    system_prompt: str = "",
    max_new_tokens: int = DEFAULTS["max_new_tokens"],
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    repetition_penalty: float | None = None,
    do_sample: bool | None = None,
    seed: int = DEFAULTS["seed"],
    stop: str = DEFAULTS["stop"],
    progress: Any = None,
    request: Any = None,
) -> Iterator[tuple[list[dict[str, str]], Any, str, Any]]:
    """Send a chat message to an instruct/chat model and stream its reply; the model's chat template
    turns the conversation into its prompt.

    Args:
        message: The new user message.
        history: The conversation so far: a list of {"role": "user"|"assistant", "content": "text"} messages.
        model: A catalog model id or label (default: the tab's default model).
        system_prompt: Optional instructions placed before the conversation.
        max_new_tokens: How many tokens the reply may have at most (1 to 4096).
        temperature: Sampling temperature (above 0 when sampling; higher = more varied); empty: the model's own.
        top_p: Nucleus sampling: sample from the smallest set of tokens whose probability reaches top_p (0 to 1); empty: the model's own.
        top_k: Sample only from the k most likely tokens (0 = no top-k filter); empty: the model's own.
        repetition_penalty: Above 1 discourages repeating tokens already in the text; empty: the model's own.
        do_sample: Sample (true) or always pick the most likely token (false, greedy); empty: the model's own.
        seed: Random seed: the same seed and settings give the same reply.
        stop: Stop strings, one per line (a literal \\n is a line break); the reply ends before the first one.
    """
    turns = normalize_history(history)
    messages = chat_messages(system_prompt, turns, message)
    wanted = checked_request(
        messages=messages,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        repetition_penalty=repetition_penalty,
        do_sample=do_sample,
        seed=seed,
        stop=stop,
    )
    engine, stream, shown = started(ctx, wanted, model, progress, request)
    snippet = engine.snippet(wanted)
    conversation = [*turns, {"role": "user", "content": message}]
    # The prompt preview and the code go out unchanged with every update (cheaper than gr.skip(); above).
    for delta in sessions(ctx).follow(request, stream):
        shown.add(delta)
        reply = [*conversation, {"role": "assistant", "content": shown.text}]
        if not delta.done:
            yield reply, stream.prompt, shown.stats_text, snippet
    yield [*conversation, {"role": "assistant", "content": shown.text}], stream.prompt, shown.stats_text, snippet


def stop_generation(ctx: TabContext, request: Any = None) -> None:
    """Stop the caller's own running or waiting generation (other users' generations go on)."""
    sessions(ctx).stop(request)


def picked(ctx: TabContext, model: str | None, request: Any = None) -> list[Any]:
    return shown_settings(ctx, model, ctx.tasks[0], request)


def build(ctx: TabContext) -> None:
    import gradio as gr

    task = ctx.tasks[0]
    progress = gr.Progress()
    # One handler object per endpoint kind: the buttons, the API twins and the examples share it.
    run_generate = guarded(bind(generate, ctx, progress=progress), gpu=True)
    run_chat = guarded(bind(chat, ctx, progress=progress), gpu=True)
    run_stop = guarded(bind(stop_generation, ctx))

    shown_first = page_settings(ctx, ctx.default_model(task), task)
    with gr.Row():
        with gr.Column(scale=1):
            picker = model_picker(ctx, task)
            max_new = gr.Number(DEFAULTS["max_new_tokens"], precision=0, label=TEXTS.ui("max_new_tokens"))
            temperature_box = gr.Number(shown_first["temperature"], label=TEXTS.ui("temperature"))
            top_p_box = gr.Slider(0.0, 1.0, value=shown_first["top_p"], label=TEXTS.ui("top_p"))
            top_k_box = gr.Number(shown_first["top_k"], precision=0, minimum=0, label=TEXTS.ui("top_k"))
            rep_box = gr.Number(
                shown_first["repetition_penalty"], minimum=0.01, maximum=10, label=TEXTS.ui("repetition_penalty")
            )
            sample_box = gr.Checkbox(shown_first["do_sample"], label=TEXTS.ui("do_sample"))
            settings_source = gr.Markdown(shown_first["source"])
            seed_box = gr.Number(DEFAULTS["seed"], precision=0, minimum=0, maximum=2**32 - 1, label=TEXTS.ui("seed"))
            # An explicit empty value makes the parameter optional in the API (no value = required).
            stop_box = gr.Textbox(DEFAULTS["stop"], label=TEXTS.ui("stop_strings"), lines=2)
        with gr.Column(scale=2):
            with gr.Tabs():
                with gr.Tab(TEXTS.ui("completion_title")):
                    prompt_box = gr.Textbox(label=TEXTS.ui("prompt"), lines=4)
                    with gr.Row():
                        run = gr.Button(COMMON.ui("run"), variant="primary")
                        stop_button = gr.Button(TEXTS.ui("stop"), variant="stop")
                    output = gr.Textbox(label=TEXTS.ui("output"), lines=12, interactive=False)
                    stats = gr.Markdown(label=TEXTS.ui("stats"))
                    with gr.Accordion(TEXTS.ui("alternatives"), open=False):
                        # Hidden until the first answer: Gradio does not translate a table's headers in the
                        # browser, so the handler sends them in the request's language.
                        alternatives = gr.Dataframe(
                            label=TEXTS.ui("alternatives"), interactive=False, wrap=True, visible=False
                        )
                    completion_examples = gr.Column()
                with gr.Tab(TEXTS.ui("chat_title")):
                    system_box = gr.Textbox("", label=TEXTS.ui("system_prompt"), lines=2)
                    chatbot = gr.Chatbot(label=TEXTS.ui("chatbot"), height=360)
                    message_box = gr.Textbox(label=TEXTS.ui("message"), lines=2)
                    with gr.Row():
                        send = gr.Button(TEXTS.ui("send"), variant="primary")
                        retry = gr.Button(TEXTS.ui("retry"))
                        clear = gr.Button(TEXTS.ui("clear"))
                        chat_stop = gr.Button(TEXTS.ui("stop"), variant="stop")
                    chat_stats = gr.Markdown(label=TEXTS.ui("stats"))
                    with gr.Accordion(TEXTS.ui("prompt_preview"), open=False):
                        preview = gr.Code(label=TEXTS.ui("prompt_preview"), language=None, interactive=False)
                    chat_examples = gr.Column()
            code = code_panel()
    about_panel(TEXTS)

    settings = [max_new, temperature_box, top_p_box, top_k_box, rep_box, sample_box, seed_box, stop_box]
    # Picking a model puts its own sampling settings in the boxes (the page starts from the default model's).

    picker.change(
        guarded(bind(picked, ctx)),
        picker,
        [temperature_box, top_p_box, top_k_box, rep_box, sample_box, settings_source],
        api_visibility="private",
        queue=False,
    )
    # One concurrency group per tab, as wide as the largest batch: more requests wait in the queue
    # (with their position shown) instead of competing for the same CPU/GPU.
    shared = dict(
        concurrency_limit=concurrent_requests(ctx.models(task), ctx.limits.device), concurrency_id="text_generation"
    )
    completion_inputs = [prompt_box, picker, *settings]
    completion_outputs = [output, stats, code, alternatives]
    alternatives.change(lambda: gr.update(visible=True), None, alternatives, api_visibility="private", queue=False)
    # An API client that leaves a sampling option out gets the model's own (None): the public endpoints read
    # those options from hidden twins that hold no value (a widget's value would become the API's default).
    # Each is registered first so it owns its name.
    # Same bounds as the boxes (the app's input check answers first); do_sample's twin is JSON because a
    # Checkbox cannot hold "nothing" (the request check then says what it takes).
    api_sampling = [
        gr.Number(None, visible=False),
        gr.Number(None, minimum=0, maximum=1, visible=False),
        gr.Number(None, precision=0, minimum=0, visible=False),
        gr.Number(None, minimum=0.01, maximum=10, visible=False),
        gr.JSON(None, visible=False),
    ]
    api_settings = [max_new, *api_sampling, seed_box, stop_box]
    api_generate = gr.Button(visible=False).click(
        run_generate, [prompt_box, picker, *api_settings], completion_outputs, api_name="generate", **shared
    )
    event = run.click(run_generate, completion_inputs, completion_outputs, api_visibility="private", **shared)
    chat_inputs = [message_box, chatbot, picker, system_box, *settings]
    chat_outputs = [chatbot, preview, chat_stats, code]
    # API clients send and get plain {role, content: str} messages (the Chatbot's own schema wants
    # content parts), so the public endpoint runs on hidden JSON twins of the chat widgets.
    api_history, api_reply = gr.JSON(visible=False), gr.JSON(visible=False)
    api_trigger = gr.Button(visible=False)
    api_chat = api_trigger.click(
        run_chat,
        [message_box, api_history, picker, system_box, *api_settings],
        [api_reply, *chat_outputs[1:]],
        api_name="chat",
        **shared,
    )
    sent = send.click(run_chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    sent.success(lambda: "", None, message_box, api_visibility="private")
    submitted = message_box.submit(run_chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    submitted.success(lambda: "", None, message_box, api_visibility="private")
    retried = retry.click(guarded(last_user_turn), chatbot, [message_box, chatbot], api_visibility="private")
    retried_chat = retried.success(run_chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    retried_chat.success(lambda: "", None, message_box, api_visibility="private")
    clear.click(lambda: ([], "", ""), None, [chatbot, preview, chat_stats], api_visibility="private")
    # Examples fill the text and run at once (nothing is computed at start-up).
    with completion_examples:
        gr.Examples(
            [[text] for text in COMPLETION_EXAMPLES],
            completion_inputs,
            completion_outputs,
            fn=run_generate,
            run_on_click=True,
            cache_examples=False,
            label=TEXTS.ui("examples"),
            api_visibility="private",
        )
    with chat_examples:
        gr.Examples(
            [[text] for text in CHAT_EXAMPLES],
            chat_inputs,
            chat_outputs,
            fn=run_chat,
            run_on_click=True,
            cache_examples=False,
            label=TEXTS.ui("examples"),
            api_visibility="private",
        )
    # Stop skips the queue: it must work while the queue is full of other people's requests.
    stop_button.click(run_stop, None, None, api_name="stop_generation", cancels=[event, api_generate], queue=False)
    chat_stop.click(
        run_stop, None, None, api_visibility="private", cancels=[sent, submitted, retried_chat, api_chat], queue=False
    )
