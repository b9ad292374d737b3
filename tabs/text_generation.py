"""Text generation tab: stream a completion or a chat reply token by token, with a Stop button that
really stops. The generation itself is the shared generation interface (playground.generation);
this module holds the tab's strings, how results are shown, and `build()`.

Endpoints:
- `/generate(prompt, model, max_new_tokens, temperature, top_p, top_k, repetition_penalty, do_sample,
  seed, stop)` -> streamed (text so far, stats markdown, code, teaching table).
- `/chat(message, history, model, system_prompt, ...same options)` -> streamed (history with the
  reply so far, the exact prompt after the chat template, stats markdown, code).
- `/stop_generation()` -> ends the caller's own running (or waiting) generation.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

from playground.errors import guarded
from playground.generation import (
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_SEED,
    TEXTS as GENERATION_TEXTS,
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
from playground.generation_engines import concurrent_requests
from playground.generation_settings import LIBRARY_DEFAULTS, effective_settings, read_shipped
from playground.texts import Texts, request_language
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker

TABLE_COLUMNS = ("col_step", "col_token", "col_prob", "col_alternatives")
COMPLETION_EXAMPLES = ["In this course, we will teach you how to"]
CHAT_EXAMPLES = ["What is a transformer model? Answer in two sentences.", "트랜스포머 모델이 무엇인지 두 문장으로 설명해 주세요."]
# The settings' defaults, shared by the widgets and the API (an endpoint needs only its text). The
# sampling options default to the model's own (None in the API; the page shows the picked model's).
DEFAULTS = dict(max_new_tokens=DEFAULT_MAX_NEW_TOKENS, seed=DEFAULT_SEED, stop="")
SAMPLING = ("temperature", "top_p", "top_k", "repetition_penalty", "do_sample")

STRINGS = {
    "en": {
        "title": "Text generation",
        "prompt": "Prompt",
        "output": "Generated text",
        "stats": "Stats",
        "stop": "Stop",
        "max_new_tokens": "Max new tokens",
        "temperature": "Temperature",
        "top_p": "Top-p",
        "top_k": "Top-k",
        "repetition_penalty": "Repetition penalty",
        "do_sample": "Sample (off = greedy)",
        "seed": "Seed",
        "stop_strings": "Stop strings (optional, one per line; \\n means a line break)",
        "alternatives": "Teaching view: the top alternatives at each generated token",
        "col_step": "step",
        "col_token": "chosen token",
        "col_prob": "its probability",
        "col_alternatives": "top alternatives (token probability)",
        "stats_line": "First token after {ttft:.2f} s · {rate:.1f} tokens/s · tokens in {tin} / out {tout}",
        "batch_line": "shared forward passes with up to {size} requests",
        "chat_title": "Chat",
        "completion_title": "Completion",
        "message": "Message",
        "send": "Send",
        "retry": "Retry",
        "clear": "Clear",
        "system_prompt": "System prompt (optional)",
        "chatbot": "Conversation",
        "prompt_preview": "Exact prompt after the chat template (read-only)",
        "examples": "Examples: click one to run it",
        "nothing_to_retry": "There is no user message to retry yet.",
        "settings_model": "The sampling settings above are the model's own (its generation config); change them to override.",
        "settings_library": "The model's own settings cannot be read before it is downloaded: these are transformers' defaults.",
        "about": (
            "The `text-generation` pipeline's model predicts one token at a time; each new token is "
            "shown as soon as it is chosen. Greedy decoding picks the most likely token; sampling draws "
            "from the distribution shaped by temperature, top-k and top-p. The same seed and settings "
            "give the same text."
        ),
    },
    "ko": {
        "title": "텍스트 생성",
        "prompt": "프롬프트",
        "output": "생성된 텍스트",
        "stats": "통계",
        "stop": "중지",
        "max_new_tokens": "최대 새 토큰 수",
        "temperature": "온도",
        "top_p": "Top-p",
        "top_k": "Top-k",
        "repetition_penalty": "반복 페널티",
        "do_sample": "샘플링 (끄면 greedy)",
        "seed": "시드",
        "stop_strings": "중지 문자열 (선택, 한 줄에 하나; \\n은 줄바꿈)",
        "alternatives": "학습용 보기: 생성한 토큰마다 가능성이 높았던 후보들",
        "col_step": "단계",
        "col_token": "고른 토큰",
        "col_prob": "그 확률",
        "col_alternatives": "상위 후보 (토큰 확률)",
        "stats_line": "첫 토큰까지 {ttft:.2f}초 · 초당 {rate:.1f} 토큰 · 입력 {tin} / 출력 {tout} 토큰",
        "batch_line": "최대 {size}개 요청과 순전파를 함께 했습니다",
        "chat_title": "채팅",
        "completion_title": "이어 쓰기",
        "message": "메시지",
        "send": "보내기",
        "retry": "다시 생성",
        "clear": "지우기",
        "system_prompt": "시스템 프롬프트 (선택)",
        "chatbot": "대화",
        "prompt_preview": "채팅 템플릿을 적용한 실제 프롬프트 (읽기 전용)",
        "examples": "예시: 누르면 바로 실행합니다",
        "nothing_to_retry": "다시 생성할 사용자 메시지가 아직 없습니다.",
        "settings_model": "위 샘플링 설정은 모델 자체의 설정(생성 설정)입니다. 바꾸면 그 값이 우선합니다.",
        "settings_library": "모델의 자체 설정은 내려받기 전에는 읽을 수 없어, transformers 기본값을 보여 줍니다.",
        "about": (
            "`text-generation` 파이프라인의 모델은 한 번에 토큰 하나를 예측하며, 고른 토큰을 바로 "
            "보여 줍니다. greedy는 가장 가능성 높은 토큰을, 샘플링은 온도·top-k·top-p로 조정한 분포에서 "
            "뽑습니다. 같은 시드와 설정이면 같은 텍스트가 나옵니다."
        ),
    },
}
TEXTS = Texts("text_generation", STRINGS)


def stats_markdown(heading: str, notes: list[str], stats: GenerationStats | None, waiting: int | None,
                   model_label: str, lang: str) -> str:
    """The stats panel: which model, the notes (truncation, batching), then the live figures or the
    request's place in line."""
    if waiting is not None:
        line = GENERATION_TEXTS.get("waiting", lang, position=waiting, model=model_label)
    else:
        stats = stats or GenerationStats()
        line = TEXTS.get("stats_line", lang, ttft=stats.ttft_s if stats.ttft_s is not None else stats.elapsed_s,
                         rate=stats.tokens_per_s, tin=stats.tokens_in, tout=stats.tokens_out)
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


def build(ctx: TabContext) -> None:
    import gradio as gr

    task = ctx.tasks[0]
    sessions = SessionStreams()

    def started(request: GenerationRequest, model: str | None, progress: Any, http_request: Any) -> tuple[Any, GenerationStream, Shown]:
        entry = ctx.entry(model, task)
        engine = ctx.generation_engine(entry.id, task, progress)
        stream = engine.start(request)
        return engine, stream, Shown(engine, entry.label, request_language(http_request))

    shown_first = page_settings(ctx, ctx.default_model(task), task)
    with gr.Row():
        with gr.Column(scale=1):
            picker = model_picker(ctx, task)
            max_new = gr.Number(DEFAULTS["max_new_tokens"], precision=0, label=TEXTS.ui("max_new_tokens"))
            temperature_box = gr.Number(shown_first["temperature"], label=TEXTS.ui("temperature"))
            top_p_box = gr.Slider(0.0, 1.0, value=shown_first["top_p"], label=TEXTS.ui("top_p"))
            top_k_box = gr.Number(shown_first["top_k"], precision=0, minimum=0, label=TEXTS.ui("top_k"))
            rep_box = gr.Number(shown_first["repetition_penalty"], minimum=0.01, maximum=10, label=TEXTS.ui("repetition_penalty"))
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
                        alternatives = gr.Dataframe(label=TEXTS.ui("alternatives"), interactive=False, wrap=True, visible=False)
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

    @guarded(gpu=True)
    def generate(prompt: str, model: str | None = None, max_new_tokens: int = DEFAULTS["max_new_tokens"],
                 temperature: float | None = None, top_p: float | None = None, top_k: int | None = None,
                 repetition_penalty: float | None = None, do_sample: bool | None = None,
                 seed: int = DEFAULTS["seed"], stop: str = DEFAULTS["stop"],
                 progress: Any = gr.Progress(),
                 request: Any = None) -> Iterator[tuple[str, str, str, Any]]:
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
        wanted = checked_request(prompt, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                 top_k=top_k, repetition_penalty=repetition_penalty, do_sample=do_sample, seed=seed,
                                 stop=stop, record_alternatives=True)
        engine, stream, shown = started(wanted, model, progress, request)
        snippet = engine.snippet(wanted)
        # While tokens stream, only the text and stats change: the code goes out unchanged and the teaching
        # table empty until the end (re-sending a growing table with every token costs the stream its speed).
        # Gradio streams only what changed; an unchanged value costs less per token than gr.skip(), which
        # rebuilds the component's config (1.5 against 2.9 ms of CPU per update, measured).
        empty_table = table_value([], shown.lang)
        for delta in sessions.follow(request, stream):
            shown.add(delta)
            if not delta.done:
                yield shown.text, shown.stats_text, snippet, empty_table
        yield shown.text, shown.stats_text, snippet, table_value(shown.rows, shown.lang)

    @guarded(gpu=True)
    def chat(message: str, history: list[dict[str, Any]] | None = None, model: str | None = None,
             system_prompt: str = "", max_new_tokens: int = DEFAULTS["max_new_tokens"],
             temperature: float | None = None, top_p: float | None = None, top_k: int | None = None,
             repetition_penalty: float | None = None, do_sample: bool | None = None,
             seed: int = DEFAULTS["seed"], stop: str = DEFAULTS["stop"],
             progress: Any = gr.Progress(),
             request: Any = None) -> Iterator[tuple[list[dict[str, str]], Any, str, Any]]:
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
        wanted = checked_request(messages=messages, max_new_tokens=max_new_tokens, temperature=temperature,
                                 top_p=top_p, top_k=top_k, repetition_penalty=repetition_penalty, do_sample=do_sample,
                                 seed=seed, stop=stop)
        engine, stream, shown = started(wanted, model, progress, request)
        snippet = engine.snippet(wanted)
        conversation = [*turns, {"role": "user", "content": message}]
        # The prompt preview and the code go out unchanged with every update (cheaper than gr.skip(); above).
        for delta in sessions.follow(request, stream):
            shown.add(delta)
            reply = [*conversation, {"role": "assistant", "content": shown.text}]
            if not delta.done:
                yield reply, stream.prompt, shown.stats_text, snippet
        yield [*conversation, {"role": "assistant", "content": shown.text}], stream.prompt, shown.stats_text, snippet

    @guarded
    def stop_generation(request: Any = None) -> None:
        """Stop the caller's own running or waiting generation (other users' generations go on)."""
        sessions.stop(request)

    settings = [max_new, temperature_box, top_p_box, top_k_box, rep_box, sample_box, seed_box, stop_box]
    # Picking a model puts its own sampling settings in the boxes (the page starts from the default model's).
    @guarded
    def picked(model: str | None, request: Any = None) -> list[Any]:
        return shown_settings(ctx, model, task, request)

    picker.change(picked, picker, [temperature_box, top_p_box, top_k_box, rep_box, sample_box, settings_source],
                  api_visibility="private", queue=False)
    # One concurrency group per tab, as wide as the largest batch: more requests wait in the queue
    # (with their position shown) instead of competing for the same CPU/GPU.
    shared = dict(concurrency_limit=concurrent_requests(ctx.models(task), ctx.limits.device), concurrency_id="text_generation")
    completion_inputs = [prompt_box, picker, *settings]
    completion_outputs = [output, stats, code, alternatives]
    alternatives.change(lambda: gr.update(visible=True), None, alternatives, api_visibility="private", queue=False)
    # An API client that leaves a sampling option out gets the model's own (None): the public endpoints read
    # those options from hidden twins that hold no value (a widget's value would become the API's default).
    # Each is registered first so it owns its name.
    api_sampling = [gr.Number(None, visible=False), gr.Number(None, minimum=0, maximum=1, visible=False),
                    gr.Number(None, precision=0, minimum=0, visible=False), gr.Number(None, visible=False),
                    gr.JSON(None, visible=False)]  # a Checkbox cannot hold "nothing"
    api_settings = [max_new, *api_sampling, seed_box, stop_box]
    api_generate = gr.Button(visible=False).click(generate, [prompt_box, picker, *api_settings], completion_outputs,
                                                  api_name="generate", **shared)
    event = run.click(generate, completion_inputs, completion_outputs, api_visibility="private", **shared)
    chat_inputs = [message_box, chatbot, picker, system_box, *settings]
    chat_outputs = [chatbot, preview, chat_stats, code]
    # API clients send and get plain {role, content: str} messages (the Chatbot's own schema wants
    # content parts), so the public endpoint runs on hidden JSON twins of the chat widgets.
    api_history, api_reply = gr.JSON(visible=False), gr.JSON(visible=False)
    api_trigger = gr.Button(visible=False)
    api_chat = api_trigger.click(chat, [message_box, api_history, picker, system_box, *api_settings],
                                 [api_reply, *chat_outputs[1:]], api_name="chat", **shared)
    sent = send.click(chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    sent.success(lambda: "", None, message_box, api_visibility="private")
    submitted = message_box.submit(chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    submitted.success(lambda: "", None, message_box, api_visibility="private")
    retried = retry.click(guarded(last_user_turn), chatbot, [message_box, chatbot], api_visibility="private")
    retried_chat = retried.success(chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    retried_chat.success(lambda: "", None, message_box, api_visibility="private")
    clear.click(lambda: ([], "", ""), None, [chatbot, preview, chat_stats], api_visibility="private")
    # Examples fill the text and run at once (nothing is computed at start-up).
    with completion_examples:
        gr.Examples([[text] for text in COMPLETION_EXAMPLES], completion_inputs, completion_outputs, fn=generate,
                    run_on_click=True, cache_examples=False, label=TEXTS.ui("examples"), api_visibility="private")
    with chat_examples:
        gr.Examples([[text] for text in CHAT_EXAMPLES], chat_inputs, chat_outputs, fn=chat, run_on_click=True,
                    cache_examples=False, label=TEXTS.ui("examples"), api_visibility="private")
    # Stop skips the queue: it must work while the queue is full of other people's requests.
    stop_button.click(stop_generation, None, None, api_name="stop_generation", cancels=[event, api_generate], queue=False)
    chat_stop.click(stop_generation, None, None, api_visibility="private", cancels=[sent, submitted, retried_chat, api_chat],
                    queue=False)
