"""Text generation tab: stream a completion token by token, with a Stop button that really stops.

Endpoints:
- `/generate(prompt, model, max_new_tokens, temperature, top_p, top_k, repetition_penalty, do_sample,
  seed, stop)` -> streamed (text so far, stats markdown, code).
- `/stop_generation()` -> sets the stop flag checked between tokens.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Iterator

from playground.errors import guarded
from playground.snippets import pipeline_snippet
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
        "stop_strings": "Stop string (optional)",
        "empty_prompt": "Please enter a prompt.",
        "bad_max_new_tokens": "Max new tokens must be between 1 and {limit}.",
        "bad_temperature": "Temperature must be a number of 0 or more.",
        "zero_temperature": "Temperature 0 with sampling on is not allowed: turn sampling off to use greedy decoding.",
        "stats_line": "First token after {ttft:.2f} s · {rate:.1f} tokens/s · tokens in {tin} / out {tout}",
        "truncated": "⚠️ The prompt was too long: only its last {kept} tokens were kept.",
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
        "stop_strings": "중지 문자열 (선택)",
        "empty_prompt": "프롬프트를 입력해 주세요.",
        "bad_max_new_tokens": "최대 새 토큰 수는 1에서 {limit} 사이여야 합니다.",
        "bad_temperature": "온도는 0 이상의 숫자여야 합니다.",
        "zero_temperature": "샘플링을 켠 채 온도 0은 쓸 수 없습니다. greedy 디코딩을 쓰려면 샘플링을 끄세요.",
        "stats_line": "첫 토큰까지 {ttft:.2f}초 · 초당 {rate:.1f} 토큰 · 입력 {tin} / 출력 {tout} 토큰",
        "truncated": "⚠️ 프롬프트가 너무 길어 마지막 {kept}개 토큰만 사용했습니다.",
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


def stream_generate(pipe: Any, prompt: str, options: dict[str, Any], stop_event: threading.Event,
                    stop: str = "") -> Iterator[tuple[str, str]]:
    """Yield (text so far, stats) while a background thread runs model.generate."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    class StopFlag(StoppingCriteria):
        # Checked after every token, so the Stop button ends generation within one step.
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            return stop_event.is_set()

    model, tokenizer = pipe.model, pipe.tokenizer
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    context = getattr(model.config, "max_position_embeddings", None)
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
    failure: list[BaseException] = []

    def run() -> None:
        try:
            model.generate(input_ids=ids.to(model.device), attention_mask=torch.ones_like(ids).to(model.device),
                           streamer=streamer, stopping_criteria=StoppingCriteriaList([StopFlag()]),
                           pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id, **options)
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
        if stop and stop in text:
            text = text[: text.index(stop)]
            stop_event.set()
        tout = len(tokenizer(text, add_special_tokens=False).input_ids)
        elapsed = time.perf_counter() - start
        yield text, warning + TEXTS.get("stats_line", ttft=first, rate=tout / max(elapsed, 1e-6),
                                       tin=ids.shape[1], tout=tout)
        if stop and stop_event.is_set():
            break
    worker.join()
    if failure:
        raise failure[0]
    tout = len(tokenizer(text, add_special_tokens=False).input_ids)
    elapsed = time.perf_counter() - start
    yield text, warning + TEXTS.get("stats_line", ttft=first or elapsed, rate=tout / max(elapsed, 1e-6),
                                   tin=ids.shape[1], tout=tout)


def build(ctx: TabContext) -> None:
    import gradio as gr

    # One stop flag per browser session (or API client), so a Stop only ends the caller's own generation.
    stop_events: dict[str, threading.Event] = {}
    with gr.Row():
        with gr.Column():
            prompt_box = gr.Textbox(label=TEXTS.ui("prompt"), lines=4)
            picker = model_picker(ctx, TASK)
            max_new = gr.Number(64, precision=0, label=TEXTS.ui("max_new_tokens"))
            temperature_box = gr.Number(0.7, label=TEXTS.ui("temperature"))
            top_p_box = gr.Slider(0.0, 1.0, value=0.95, label=TEXTS.ui("top_p"))
            top_k_box = gr.Number(50, precision=0, minimum=0, label=TEXTS.ui("top_k"))
            rep_box = gr.Number(1.0, minimum=0.01, maximum=10, label=TEXTS.ui("repetition_penalty"))
            sample_box = gr.Checkbox(True, label=TEXTS.ui("do_sample"))
            seed_box = gr.Number(0, precision=0, minimum=0, maximum=2**32 - 1, label=TEXTS.ui("seed"))
            stop_box = gr.Textbox(label=TEXTS.ui("stop_strings"))
            with gr.Row():
                run = gr.Button(COMMON.ui("run"), variant="primary")
                stop_button = gr.Button(TEXTS.ui("stop"), variant="stop")
        with gr.Column():
            output = gr.Textbox(label=TEXTS.ui("output"), lines=12, interactive=False)
            stats = gr.Markdown(label=TEXTS.ui("stats"))
            code = code_panel()
    about_panel(TEXTS)

    @guarded
    def generate(prompt: str, model: str | None = None, max_new_tokens: int = 64, temperature: float = 0.7,
                 top_p: float = 0.95, top_k: int = 50, repetition_penalty: float = 1.0, do_sample: bool = True,
                 seed: int = 0, stop: str = "", progress: Any = gr.Progress(),
                 request: Any = None) -> Iterator[tuple[str, str, str]]:
        check_options(prompt, max_new_tokens, temperature, do_sample)
        loaded = ctx.load(model, TASK, progress)
        options = dict(max_new_tokens=int(max_new_tokens), temperature=float(temperature), top_p=float(top_p),
                       top_k=int(top_k), repetition_penalty=float(repetition_penalty), do_sample=bool(do_sample),
                       seed=int(seed))
        snippet = pipeline_snippet(TASK, loaded.entry.id, [prompt], {k: v for k, v in options.items() if k != "seed"})
        session = getattr(request, "session_hash", None) or ""
        stop_event = stop_events[session] = threading.Event()
        try:
            with loaded.slots:
                for text, line in stream_generate(loaded.model, prompt, options, stop_event, stop or ""):
                    yield text, line, snippet
        finally:
            if stop_events.get(session) is stop_event:
                del stop_events[session]

    @guarded
    def stop_generation(request: Any = None) -> None:
        event = stop_events.get(getattr(request, "session_hash", None) or "")
        if event is not None:
            event.set()

    event = run.click(generate, [prompt_box, picker, max_new, temperature_box, top_p_box, top_k_box, rep_box,
                                 sample_box, seed_box, stop_box], [output, stats, code], api_name="generate",
                      concurrency_limit=4)
    stop_button.click(stop_generation, None, None, api_name="stop_generation", cancels=[event])
