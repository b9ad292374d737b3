"""Text generation tab: stream a completion token by token, with a Stop button that really stops.

Endpoints:
- `/generate(prompt, model, max_new_tokens, temperature, top_p, top_k, repetition_penalty, do_sample,
  seed, stop)` -> streamed (text so far, stats markdown, code).
- `/chat(message, history, model, system_prompt, ...same options)` -> streamed (history with the
  reply so far, the exact prompt after the chat template, stats markdown, code).
- `/stop_generation()` -> sets the stop flag checked between tokens.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Iterator

from playground.errors import guarded
from playground.snippets import Raw, format_value, pipeline_snippet
from playground.texts import Texts
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker

TASK = "text-generation"
MAX_NEW_TOKENS = 4096

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
        "empty_prompt": "Please enter a prompt.",
        "bad_max_new_tokens": "Max new tokens must be between 1 and {limit}.",
        "bad_temperature": "Temperature must be a number of 0 or more.",
        "zero_temperature": "Temperature 0 with sampling on is not allowed: turn sampling off to use greedy decoding.",
        "stats_line": "First token after {ttft:.2f} s · {rate:.1f} tokens/s · tokens in {tin} / out {tout}",
        "model_line": "Model: {label} · {dtype} · {placement}",
        "placement_device": "on {device}",
        "placement_map": "device map: {parts} (accelerate)",
        "truncated": "⚠️ The prompt was too long: only its last {kept} tokens were kept.",
        "no_room": "{model} reads at most {context} tokens, prompt included: ask for fewer than {context} new tokens.",
        "chat_title": "Chat",
        "completion_title": "Completion",
        "message": "Message",
        "send": "Send",
        "retry": "Retry",
        "clear": "Clear",
        "system_prompt": "System prompt (optional)",
        "chatbot": "Conversation",
        "prompt_preview": "Exact prompt after the chat template (read-only)",
        "empty_message": "Please type a message.",
        "no_chat_template": "{model} has no chat template, so it cannot chat. Use the Completion view, or pick an instruct/chat model.",
        "bad_history": "The chat history is malformed: {detail}. Send a list of {{\"role\": \"user\"|\"assistant\", \"content\": \"text\"}} messages.",
        "nothing_to_retry": "There is no user message to retry yet.",
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
        "empty_prompt": "프롬프트를 입력해 주세요.",
        "bad_max_new_tokens": "최대 새 토큰 수는 1에서 {limit} 사이여야 합니다.",
        "bad_temperature": "온도는 0 이상의 숫자여야 합니다.",
        "zero_temperature": "샘플링을 켠 채 온도 0은 쓸 수 없습니다. greedy 디코딩을 쓰려면 샘플링을 끄세요.",
        "stats_line": "첫 토큰까지 {ttft:.2f}초 · 초당 {rate:.1f} 토큰 · 입력 {tin} / 출력 {tout} 토큰",
        "model_line": "모델: {label} · {dtype} · {placement}",
        "placement_device": "{device}에서 실행",
        "placement_map": "장치 배치: {parts} (accelerate)",
        "truncated": "⚠️ 프롬프트가 너무 길어 마지막 {kept}개 토큰만 사용했습니다.",
        "no_room": "{model}은(는) 프롬프트를 포함해 최대 {context}개 토큰을 읽습니다. 새 토큰을 {context}개보다 적게 요청하세요.",
        "chat_title": "채팅",
        "completion_title": "이어 쓰기",
        "message": "메시지",
        "send": "보내기",
        "retry": "다시 생성",
        "clear": "지우기",
        "system_prompt": "시스템 프롬프트 (선택)",
        "chatbot": "대화",
        "prompt_preview": "채팅 템플릿을 적용한 실제 프롬프트 (읽기 전용)",
        "empty_message": "메시지를 입력해 주세요.",
        "no_chat_template": "{model}에는 채팅 템플릿이 없어 대화할 수 없습니다. 이어 쓰기 보기를 쓰거나 instruct/chat 모델을 고르세요.",
        "bad_history": "채팅 기록 형식이 잘못되었습니다: {detail}. {{\"role\": \"user\"|\"assistant\", \"content\": \"텍스트\"}} 메시지 목록을 보내세요.",
        "nothing_to_retry": "다시 생성할 사용자 메시지가 아직 없습니다.",
        "about": (
            "`text-generation` 파이프라인의 모델은 한 번에 토큰 하나를 예측하며, 고른 토큰을 바로 "
            "보여 줍니다. greedy는 가장 가능성 높은 토큰을, 샘플링은 온도·top-k·top-p로 조정한 분포에서 "
            "뽑습니다. 같은 시드와 설정이면 같은 텍스트가 나옵니다."
        ),
    },
}
TEXTS = Texts("text_generation", STRINGS)


def check_options(prompt: str, max_new_tokens: int, temperature: float, do_sample: bool) -> None:
    """Refuse inputs generate() would reject with an obscure message (or silently misuse)."""
    if not (prompt or "").strip():
        raise TEXTS.error("empty_prompt")
    if not 1 <= int(max_new_tokens) <= MAX_NEW_TOKENS:
        raise TEXTS.error("bad_max_new_tokens", limit=MAX_NEW_TOKENS)
    if temperature is None or math.isnan(float(temperature)) or float(temperature) < 0:
        raise TEXTS.error("bad_temperature")
    if do_sample and float(temperature) == 0:
        raise TEXTS.error("zero_temperature")


def parse_stop_strings(stop: str | None) -> list[str]:
    """One stop string per line; a literal \\n stands for a line break."""
    return [line.replace("\\n", "\n") for line in (stop or "").splitlines() if line]


def first_stop(text: str, stops: list[str]) -> int | None:
    """Where the earliest stop string starts in `text`, if any does."""
    found = [text.index(stop) for stop in stops if stop in text]
    return min(found) if found else None


def model_line(loaded: Any) -> str:
    """Which model answered, in which dtype, and where its layers live (the device map when split)."""
    if loaded.device_map:
        counts: dict[str, int] = {}
        for place in loaded.device_map.values():
            counts[str(place)] = counts.get(str(place), 0) + 1
        parts = ", ".join(f"{place} × {count}" for place, count in counts.items())
        placement = TEXTS.get("placement_map", parts=parts)
    else:
        placement = TEXTS.get("placement_device", device=loaded.device)
    return TEXTS.get("model_line", label=loaded.entry.label, dtype=loaded.dtype, placement=placement)


def model_context(model: Any) -> int | None:
    """How many tokens (prompt and answer together) the model reads, if its config says."""
    return getattr(model.config, "max_position_embeddings", None)


def check_room(loaded: Any, max_new_tokens: int) -> None:
    """Refuse a request whose new tokens alone fill the model's context (no room for any prompt)."""
    context = model_context(loaded.model.model)
    if context and int(max_new_tokens) >= context:
        raise TEXTS.error("no_room", model=loaded.entry.label, context=context)


def message_text(content: Any) -> str:
    """A chat message's text: a plain string, or Gradio's list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    if isinstance(content, list):
        parts = [message_text(part) for part in content]
        return "".join(parts)
    raise TEXTS.error("bad_history", detail=f"unsupported content {type(content).__name__}")


def normalize_history(history: Any) -> list[dict[str, str]]:
    """Validate a chat history from the browser or the API into [{role, content}] with str content."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise TEXTS.error("bad_history", detail=f"expected a list, got {type(history).__name__}")
    messages = []
    for index, item in enumerate(history):
        if not isinstance(item, dict) or "role" not in item or "content" not in item:
            raise TEXTS.error("bad_history", detail=f"item {index} is not a {{role, content}} message")
        if item["role"] not in ("user", "assistant"):
            raise TEXTS.error("bad_history", detail=f"item {index} has role {item['role']!r}")
        messages.append({"role": item["role"], "content": message_text(item["content"])})
    return messages


def chat_messages(system_prompt: str, history: list[dict[str, str]], message: str) -> list[dict[str, str]]:
    """The conversation handed to the chat template: system prompt, earlier turns, the new message."""
    system = [{"role": "system", "content": system_prompt.strip()}] if (system_prompt or "").strip() else []
    return [*system, *history, {"role": "user", "content": message}]


def render_chat_prompt(tokenizer: Any, messages: list[dict[str, str]], model_label: str) -> str:
    """The exact text the model sees: the model's own chat template applied to the conversation."""
    if not getattr(tokenizer, "chat_template", None):
        raise TEXTS.error("no_chat_template", model=model_label)
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


ALTERNATIVES = 5


class AlternativesRecorder:
    """Records, at each generated token, the model's top alternatives, as rows [step, chosen token, its
    probability, alternatives]. Probabilities are the model's own (after repetition penalty), before
    temperature/top-k/top-p reshape them for sampling."""

    def __init__(self, tokenizer: Any, k: int = ALTERNATIVES):
        self.tokenizer = tokenizer
        self.k = k
        self.rows: list[list[Any]] = []
        self._pending: tuple[Any, Any] | None = None  # (probabilities, top-k) of the step not yet resolved

    def observe(self, scores: Any) -> None:
        probs = scores[0].float().softmax(-1)
        self._pending = (probs, probs.topk(min(self.k, probs.numel())))

    def resolve(self, chosen_id: int) -> None:
        if self._pending is None:
            return
        probs, top = self._pending
        self._pending = None
        shown = " · ".join(f"{self.tokenizer.decode([i])!r} {p:.3f}" for p, i in zip(top.values.tolist(), top.indices.tolist()))
        self.rows.append([len(self.rows) + 1, repr(self.tokenizer.decode([chosen_id])), round(float(probs[chosen_id]), 4), shown])


def stream_generate(pipe: Any, prompt: str, options: dict[str, Any], stop_event: threading.Event,
                    stops: list[str] | None = None, add_special_tokens: bool = True,
                    recorder: AlternativesRecorder | None = None) -> Iterator[tuple[str, str]]:
    """Yield (text so far, stats) while a background thread runs model.generate.

    A chat prompt already carries the template's special tokens: pass add_special_tokens=False.
    With a recorder, the top alternatives at each step are collected in `recorder.rows` as it goes.
    """
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    class StopFlag(StoppingCriteria):
        # Checked after every token, so the Stop button ends generation within one step; it also
        # counts the tokens generated (re-tokenizing the text would not give the same number).
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            produced[0] = input_ids.shape[1] - ids.shape[1]
            return stop_event.is_set()

    class Record(LogitsProcessor):
        # generate() runs custom processors before its sampling warpers: these are the model's own
        # probabilities. The previous step's chosen token is the last of input_ids.
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if generated_steps[0]:
                recorder.resolve(int(input_ids[0, -1]))
            generated_steps[0] += 1
            recorder.observe(scores)
            return scores

    generated_steps = [0]
    produced = [0]
    processors = LogitsProcessorList([Record()]) if recorder is not None else None

    model, tokenizer = pipe.model, pipe.tokenizer
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=add_special_tokens).input_ids
    context = model_context(model)
    warning = ""
    if context and ids.shape[1] > context - options["max_new_tokens"]:
        kept = max(1, context - options["max_new_tokens"])
        ids = ids[:, -kept:]
        warning = TEXTS.get("truncated", kept=kept) + "\n\n"
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    torch.manual_seed(int(options.pop("seed")))
    if not options["do_sample"]:
        for key in ("temperature", "top_p", "top_k"):
            options.pop(key)
    if stops:
        # generate() checks stop strings token by token (the streamer lags behind, holding text until
        # a word ends), so generation ends right where a stop string is completed.
        options = {**options, "stop_strings": stops, "tokenizer": tokenizer}
    failure: list[BaseException] = []

    def run() -> None:
        try:
            output = model.generate(
                input_ids=ids.to(model.device), attention_mask=torch.ones_like(ids).to(model.device),
                streamer=streamer, stopping_criteria=StoppingCriteriaList([StopFlag()]), logits_processor=processors,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id, **options)
            if recorder is not None and output.shape[1] > ids.shape[1]:
                recorder.resolve(int(output[0, -1]))
        except BaseException as exc:  # re-raised in the handler so OOM reaches playground.errors
            failure.append(exc)
            streamer.end()

    start = time.perf_counter()
    first: float | None = None
    text = ""
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    for piece in streamer:
        first = first or time.perf_counter() - start
        text += piece
        cut = first_stop(text, stops or [])
        if cut is not None:
            text = text[:cut]
            stop_event.set()
        elapsed = time.perf_counter() - start
        yield text, warning + TEXTS.get("stats_line", ttft=first, rate=produced[0] / max(elapsed, 1e-6),
                                       tin=ids.shape[1], tout=produced[0])
        if cut is not None:
            break
    worker.join()
    if failure:
        raise failure[0]
    elapsed = time.perf_counter() - start
    yield text, warning + TEXTS.get("stats_line", ttft=first or elapsed, rate=produced[0] / max(elapsed, 1e-6),
                                   tin=ids.shape[1], tout=produced[0])


def sampling_options(max_new_tokens: int, temperature: float, top_p: float, top_k: int,
                     repetition_penalty: float, do_sample: bool, seed: int) -> dict[str, Any]:
    return dict(max_new_tokens=int(max_new_tokens), temperature=float(temperature), top_p=float(top_p),
                top_k=int(top_k), repetition_penalty=float(repetition_penalty), do_sample=bool(do_sample),
                seed=int(seed))


def generation_snippet(model_id: str, call_args: list[Any], options: dict[str, Any], setup: list[str] | None = None,
                       show: str = "print(result)", stops: list[str] | None = None) -> str:
    """The pipeline call with the same options; sampling also seeds the RNG as the app does."""
    call = {k: v for k, v in options.items() if k != "seed"}
    if stops:
        call["stop_sequence"] = stops  # the pipeline's text ends with the stop string; the app cuts it off
    if not options["do_sample"]:
        call = {k: v for k, v in call.items() if k not in ("temperature", "top_p", "top_k")}
    seeding = [f"set_seed({options['seed']})"] if options["do_sample"] else []
    return pipeline_snippet(TASK, model_id, call_args, call, setup=[*(setup or []), *seeding],
                            imports=["from transformers import set_seed"] if seeding else None, show=show)


def build(ctx: TabContext) -> None:
    import gradio as gr

    # One stop flag per browser session (or API client), so a Stop only ends the caller's own generation.
    stop_events: dict[str, threading.Event] = {}

    def streamed(loaded: Any, prompt: str, options: dict[str, Any], stop: str, request: Any,
                 add_special_tokens: bool = True, recorder: AlternativesRecorder | None = None) -> Iterator[tuple[str, str]]:
        stops = parse_stop_strings(stop)
        session = getattr(request, "session_hash", None) or ""
        stop_event = stop_events[session] = threading.Event()
        heading = model_line(loaded) + "\n\n"
        try:
            with loaded.slots:
                for text, line in stream_generate(loaded.model, prompt, options, stop_event, stops, add_special_tokens, recorder):
                    yield text, heading + line
        finally:
            if stop_events.get(session) is stop_event:
                del stop_events[session]

    with gr.Row():
        with gr.Column(scale=1):
            picker = model_picker(ctx, TASK)
            max_new = gr.Number(64, precision=0, label=TEXTS.ui("max_new_tokens"))
            temperature_box = gr.Number(0.7, label=TEXTS.ui("temperature"))
            top_p_box = gr.Slider(0.0, 1.0, value=0.95, label=TEXTS.ui("top_p"))
            top_k_box = gr.Number(50, precision=0, minimum=0, label=TEXTS.ui("top_k"))
            rep_box = gr.Number(1.0, minimum=0.01, maximum=10, label=TEXTS.ui("repetition_penalty"))
            sample_box = gr.Checkbox(True, label=TEXTS.ui("do_sample"))
            seed_box = gr.Number(0, precision=0, minimum=0, maximum=2**32 - 1, label=TEXTS.ui("seed"))
            stop_box = gr.Textbox(label=TEXTS.ui("stop_strings"), lines=2)
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
                        alternatives = gr.Dataframe(
                            headers=[TEXTS.get(k) for k in ("col_step", "col_token", "col_prob", "col_alternatives")],
                            label=TEXTS.ui("alternatives"), interactive=False, wrap=True)
                with gr.Tab(TEXTS.ui("chat_title")):
                    system_box = gr.Textbox(label=TEXTS.ui("system_prompt"), lines=2)
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
            code = code_panel()
    about_panel(TEXTS)

    @guarded(gpu=True)
    def generate(prompt: str, model: str | None = None, max_new_tokens: int = 64, temperature: float = 0.7,
                 top_p: float = 0.95, top_k: int = 50, repetition_penalty: float = 1.0, do_sample: bool = True,
                 seed: int = 0, stop: str = "", progress: Any = gr.Progress(),
                 request: Any = None) -> Iterator[tuple[str, str, str, list[list[Any]]]]:
        check_options(prompt, max_new_tokens, temperature, do_sample)
        loaded = ctx.load(model, TASK, progress)
        check_room(loaded, max_new_tokens)
        options = sampling_options(max_new_tokens, temperature, top_p, top_k, repetition_penalty, do_sample, seed)
        snippet = generation_snippet(loaded.entry.id, [prompt], options, stops=parse_stop_strings(stop))
        recorder = AlternativesRecorder(loaded.model.tokenizer)
        # While tokens stream, only the text and stats change: the code is sent once and the teaching
        # table at the end (re-sending a growing table with every token costs the stream its speed).
        text, line, unchanged = "", "", gr.skip()
        for count, (text, line) in enumerate(streamed(loaded, prompt, options, stop, request, recorder=recorder)):
            yield text, line, unchanged if count else snippet, unchanged
        yield text, line, snippet, list(recorder.rows)

    @guarded(gpu=True)
    def chat(message: str, history: list[dict[str, Any]] | None = None, model: str | None = None,
             system_prompt: str = "", max_new_tokens: int = 128, temperature: float = 0.7, top_p: float = 0.95,
             top_k: int = 50, repetition_penalty: float = 1.0, do_sample: bool = True, seed: int = 0,
             stop: str = "", progress: Any = gr.Progress(),
             request: Any = None) -> Iterator[tuple[list[dict[str, str]], str, str, str]]:
        if not (message or "").strip():
            raise TEXTS.error("empty_message")
        turns = normalize_history(history)
        check_options(message, max_new_tokens, temperature, do_sample)
        loaded = ctx.load(model, TASK, progress)
        check_room(loaded, max_new_tokens)
        messages = chat_messages(system_prompt, turns, message)
        prompt = render_chat_prompt(loaded.model.tokenizer, messages, loaded.entry.label)
        options = sampling_options(max_new_tokens, temperature, top_p, top_k, repetition_penalty, do_sample, seed)
        snippet = generation_snippet(loaded.entry.id, [Raw("messages")], options, stops=parse_stop_strings(stop),
                                     setup=["messages = " + format_value(messages)],
                                     show="print(result[0]['generated_text'][-1]['content'])")
        shown = [*turns, {"role": "user", "content": message}]
        # The prompt preview and the code are sent with the first token and the final answer only.
        text, line, unchanged = "", "", gr.skip()
        for count, (text, line) in enumerate(streamed(loaded, prompt, options, stop, request, add_special_tokens=False)):
            yield [*shown, {"role": "assistant", "content": text}], unchanged if count else prompt, line, unchanged if count else snippet
        yield [*shown, {"role": "assistant", "content": text}], prompt, line, snippet

    def last_user_turn(history: list[dict[str, Any]] | None) -> tuple[str, list[dict[str, str]]]:
        """For Retry: the last user message, and the history before it."""
        turns = normalize_history(history)
        for index in range(len(turns) - 1, -1, -1):
            if turns[index]["role"] == "user":
                return turns[index]["content"], turns[:index]
        raise TEXTS.error("nothing_to_retry")

    @guarded
    def stop_generation(request: Any = None) -> None:
        event = stop_events.get(getattr(request, "session_hash", None) or "")
        if event is not None:
            event.set()

    settings = [max_new, temperature_box, top_p_box, top_k_box, rep_box, sample_box, seed_box, stop_box]
    # One concurrency group per tab: generations queue (with their position shown) instead of
    # competing for the same CPU/GPU.
    shared = dict(concurrency_limit=max(m.concurrency for m in ctx.models(TASK)), concurrency_id="text_generation")
    event = run.click(generate, [prompt_box, picker, *settings], [output, stats, code, alternatives], api_name="generate", **shared)
    chat_inputs = [message_box, chatbot, picker, system_box, *settings]
    chat_outputs = [chatbot, preview, chat_stats, code]
    # API clients send and get plain {role, content: str} messages (the Chatbot's own schema wants
    # content parts), so the public endpoint runs on hidden JSON twins of the chat widgets. It is
    # registered first so it owns the name "chat".
    api_history, api_reply = gr.JSON(visible=False), gr.JSON(visible=False)
    api_trigger = gr.Button(visible=False)
    api_chat = api_trigger.click(chat, [message_box, api_history, *chat_inputs[2:]],
                                 [api_reply, *chat_outputs[1:]], api_name="chat", **shared)
    sent = send.click(chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    sent.success(lambda: "", None, message_box, api_visibility="private")
    submitted = message_box.submit(chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    submitted.success(lambda: "", None, message_box, api_visibility="private")
    retried = retry.click(guarded(last_user_turn), chatbot, [message_box, chatbot], api_visibility="private")
    retried_chat = retried.success(chat, chat_inputs, chat_outputs, api_visibility="private", **shared)
    retried_chat.success(lambda: "", None, message_box, api_visibility="private")
    clear.click(lambda: ([], "", ""), None, [chatbot, preview, chat_stats], api_visibility="private")
    # Stop skips the queue: it must work while the queue is full of other people's requests.
    stop_button.click(stop_generation, None, None, api_name="stop_generation", cancels=[event], queue=False)
    chat_stop.click(stop_generation, None, None, api_visibility="private", cancels=[sent, submitted, retried_chat, api_chat],
                    queue=False)
