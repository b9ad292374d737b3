"""Sequence-to-sequence generation: summarization and translation with `AutoModelForSeq2SeqLM`.

transformers 5 removed the `summarization`, `translation` and `text2text-generation` pipelines;
`Seq2SeqGenerator` (the loaded model and its tokenizer) and `Seq2SeqEngine` (the generation engine
that runs it, as text generation's engines run theirs) do their job with `generate()`, streaming the
text as it is written. Long
inputs: a summary reads the first `input_limit` tokens (the caller says so); a translation is cut
into pieces of whole sentences that fit, translated one after the other and joined.

Translation models are either one-pair models (Marian, `Helsinki-NLP/opus-mt-fr-en`: the pair is in
the name) or many-to-many models (NLLB-200) that are told the languages with codes such as
`fra_Latn`; `resolve_language` maps ISO 639-1 codes or English names to those codes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts
from playground.engines.generation import EngineGone, GenerationStream
from playground.engines.generation_settings import TEXTS as SETTINGS_TEXTS
from playground.engines.generation_settings import EffectiveSettings, bounded_new_tokens, effective_settings
from playground.engines.local_generation import (
    EngineJob,
    GenerateStreamer,
    RequestProgress,
    ThreadedEngine,
    halting_criteria,
)

MAX_INPUT_CHARS = 20_000
MAX_NEW_TOKENS = 1024
MAX_BEAMS = 8
# Inputs longer than this many tokens are cut, even if the model's positions allow more.
INPUT_TOKEN_CAP = 1024


@dataclass(frozen=True)
class Language:
    iso: str  # ISO 639-1: what the API takes
    name: str  # English name (also accepted by the API)
    nllb: str  # NLLB-200's code: ISO 639-3 + script


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "eng_Latn"),
    Language("fr", "French", "fra_Latn"),
    Language("ko", "Korean", "kor_Hang"),
    Language("de", "German", "deu_Latn"),
    Language("es", "Spanish", "spa_Latn"),
    Language("it", "Italian", "ita_Latn"),
    Language("pt", "Portuguese", "por_Latn"),
    Language("nl", "Dutch", "nld_Latn"),
    Language("sv", "Swedish", "swe_Latn"),
    Language("fi", "Finnish", "fin_Latn"),
    Language("pl", "Polish", "pol_Latn"),
    Language("cs", "Czech", "ces_Latn"),
    Language("el", "Greek", "ell_Grek"),
    Language("ru", "Russian", "rus_Cyrl"),
    Language("uk", "Ukrainian", "ukr_Cyrl"),
    Language("tr", "Turkish", "tur_Latn"),
    Language("ar", "Arabic", "arb_Arab"),
    Language("he", "Hebrew", "heb_Hebr"),
    Language("hi", "Hindi", "hin_Deva"),
    Language("bn", "Bengali", "ben_Beng"),
    Language("zh", "Chinese", "zho_Hans"),
    Language("ja", "Japanese", "jpn_Jpan"),
    Language("vi", "Vietnamese", "vie_Latn"),
    Language("th", "Thai", "tha_Thai"),
    Language("id", "Indonesian", "ind_Latn"),
)
BY_ISO = {language.iso: language for language in LANGUAGES}
# Marian model names end in -<source>-<target> (Helsinki-NLP/opus-mt-fr-en).
MARIAN_PAIR = re.compile(r"-([a-z]{2,3})-([a-z]{2,3})/?$")
SENTENCE_END = re.compile(r"(?<=[.!?。？！])\s+")

TEXTS = Texts.load("task_seq2seq", SHARED_LOCALES)


def check_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise TEXTS.error("empty_text")
    if len(text) > MAX_INPUT_CHARS:
        raise TEXTS.error("long_text", length=len(text), limit=MAX_INPUT_CHARS)
    return text


def marian_pair(model_id: str) -> tuple[str, str] | None:
    """(source, target) ISO codes of a one-pair model, read from its name; None for other models."""
    match = MARIAN_PAIR.search(model_id.lower())
    return (match.group(1), match.group(2)) if match else None


def resolve_language(value: str | None, model_codes: set[str]) -> str:
    """The model's code for a language given as an ISO 639-1 code, an English name or the model's own code."""
    text = (value or "").strip()
    language = BY_ISO.get(text.lower()) or next((lang for lang in LANGUAGES if lang.name.lower() == text.lower()), None)
    if language is not None and language.nllb in model_codes:
        return language.nllb
    if text in model_codes:
        return text
    examples = ", ".join(f"{lang.iso} ({lang.name})" for lang in LANGUAGES[:3])
    raise TEXTS.error("unknown_language", value=value, examples=examples)


def language_name(code: str) -> str:
    """English name of a model code or ISO code, else the code itself."""
    language = BY_ISO.get(code) or next((lang for lang in LANGUAGES if lang.nllb == code), None)
    return language.name if language else code


class Seq2SeqGenerator:
    """An encoder-decoder model and its tokenizer (what the removed pipelines wrapped)."""

    def __init__(self, model: Any, tokenizer: Any):
        self.model = model
        self.tokenizer = tokenizer
        # A many-to-many tokenizer keeps the source language as state: set and use it under one lock.
        self._encoding = threading.Lock()

    @property
    def input_limit(self) -> int:
        """Input tokens the model reads at most (specials included)."""
        limits = [INPUT_TOKEN_CAP, int(self.tokenizer.model_max_length)]
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if positions:
            limits.append(int(positions))
        return min(limits)

    def settings(
        self, task: str, catalog: dict[str, Any], request: dict[str, Any], label: str, lang: str
    ) -> tuple[EffectiveSettings, list[str]]:
        """The settings generate() runs with for `task` ("summarization", or T5's
        "translation_en_to_de"): the model's generation config and task-specific params, then the
        catalog entry's, then the request's (None: the model's own); and the notes that say what was
        used: each setting with its source, beams chosen by the model (no streaming), a length
        lowered to what the decoder can write."""
        settings = effective_settings(self.model, catalog, request, task=task)
        notes = []
        asked = settings.get("max_new_tokens")
        if asked:
            # The decoder's first position holds its start token.
            kept, lowered = bounded_new_tokens(self.model, label, int(asked), prompt_tokens=1)
            if lowered:
                settings.values["max_new_tokens"] = settings.options["max_new_tokens"] = kept
                notes.append(lowered[lang])
        notes.insert(0, settings.describe()[lang])
        if settings.beams > 1 and settings.sources.get("num_beams") != "request":
            notes.append(SETTINGS_TEXTS.get("beams_no_stream", lang, beams=settings.beams))
        return settings, notes

    def prefix(self, task: str) -> str:
        """The task prefix the model was trained with (T5: "summarize: "), from its config."""
        params = getattr(self.model.config, "task_specific_params", None) or {}
        return (params.get(task) or {}).get("prefix", "")

    def language_codes(self) -> set[str]:
        """The language codes of a many-to-many model's tokenizer (empty for one-pair models)."""
        known = {language.nllb for language in LANGUAGES}
        tokens = set(getattr(self.tokenizer, "extra_special_tokens", None) or []) | set(
            self.tokenizer.all_special_tokens
        )
        return {str(token) for token in tokens if re.fullmatch(r"[a-z]{3}_[A-Z][a-z]{3}", str(token))} | (
            known & set(self.tokenizer.get_vocab())
        )

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text)["input_ids"])

    def pieces(self, text: str) -> list[list[str]]:
        """`text` as lines, each cut into pieces of whole sentences that fit the input limit."""
        budget = self.input_limit
        lines: list[list[str]] = []
        for line in text.splitlines():
            pieces: list[str] = []
            current = ""
            for sentence in SENTENCE_END.split(line.strip()) if line.strip() else []:
                for part in self._fit(sentence, budget):
                    candidate = f"{current} {part}".strip()
                    if current and self.count_tokens(candidate) > budget:
                        pieces.append(current)
                        current = part
                    else:
                        current = candidate
            lines.append([*pieces, current] if current else pieces)
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def _fit(self, sentence: str, budget: int) -> list[str]:
        """A sentence longer than the budget, cut between words."""
        if self.count_tokens(sentence) <= budget:
            return [sentence]
        parts, current = [], ""
        for word in sentence.split():
            candidate = f"{current} {word}".strip()
            if current and self.count_tokens(candidate) > budget:
                parts.append(current)
                current = word
            else:
                current = candidate
        return [*parts, current] if current else parts

    def encode(self, text: str, source_code: str | None = None) -> dict[str, Any]:
        with self._encoding:
            if source_code:
                self.tokenizer.src_lang = source_code
            inputs = self.tokenizer(text, return_tensors="pt", truncation=True, max_length=self.input_limit)
        return {k: v.to(self.model.device) for k, v in inputs.items()}


@dataclass(frozen=True)
class Seq2SeqRequest:
    """One piece of text to write out: its effective settings and, for many-to-many models, the
    language codes."""

    text: str
    settings: EffectiveSettings
    source_code: str | None = None
    target_code: str | None = None
    # What the shared token stream (RequestProgress) reads of a request: no stop strings, no teaching table.
    stop: tuple[str, ...] = ()
    record_alternatives: bool = False


class Seq2SeqEngine(ThreadedEngine):
    """Sequence-to-sequence generation on a loaded model (a Seq2SeqGenerator): one `generate()` per
    piece, in a thread of its own, as many at once as the catalog entry's `concurrency`; the text
    streams token by token with one beam, and arrives whole with beam search. Stop (or a closed page)
    ends it at the next step; it shows in the Models view's activity table."""

    def start(self, request: Seq2SeqRequest) -> GenerationStream:
        inputs = self.loaded.model.encode(request.text, request.source_code)
        tokens_in = int(inputs["input_ids"].shape[1])
        return self.enqueue(EngineJob(request, self.new_stream(request.text), tokens_in, inputs))

    def snippet(self, request: Seq2SeqRequest) -> str:
        from playground.core.snippets import from_pretrained_kwargs

        kwargs, device = from_pretrained_kwargs(self.loaded)
        return seq2seq_snippet(
            self.loaded.source,
            kwargs,
            device,
            [[request.text]],
            request.settings.options,
            self.loaded.model.input_limit,
            request.source_code,
            request.target_code,
        )

    def run_job(self, job: EngineJob) -> None:
        import torch

        generator, request = self.loaded.model, job.request
        options = dict(request.settings.options)
        if request.target_code:
            options["forced_bos_token_id"] = generator.tokenizer.convert_tokens_to_ids(request.target_code)
        progress = RequestProgress(job.stream, generator.tokenizer, request, job.tokens_in)
        # Beam search keeps several candidates until the end: nothing to stream.
        streamer = GenerateStreamer(progress) if request.settings.beams == 1 else None
        with torch.inference_mode():
            output = generator.model.generate(
                **job.prompt,
                **options,
                streamer=streamer,
                stopping_criteria=halting_criteria(job.stream, closed=self.closed),
            )
        reason = self.closed()
        if reason is not None:
            raise EngineGone(reason)
        # The whole output decoded at once: exactly what `tokenizer.decode(generate(...)[0])` prints.
        job.stream.result = generator.tokenizer.decode(output[0], skip_special_tokens=True)
        progress.end()


def stream_text(engine: Seq2SeqEngine, request: Seq2SeqRequest) -> Iterator[str]:
    """The output so far while the engine writes it; the whole output, decoded at once, last."""
    stream = engine.start(request)
    text = ""
    for delta in stream:
        if delta.text:
            text += delta.text
            yield text
    yield stream.result if stream.result is not None else text


def stream_lines(
    engine: Seq2SeqEngine,
    lines: list[list[str]],
    settings: EffectiveSettings,
    source_code: str | None = None,
    target_code: str | None = None,
) -> Iterator[str]:
    """Generate for every piece of every line in turn; yield the whole output so far (pieces joined
    with spaces, lines with newlines)."""
    finished: list[str] = []
    for pieces in lines:
        done: list[str] = []
        for piece in pieces:
            partial = ""
            for partial in stream_text(engine, Seq2SeqRequest(piece, settings, source_code, target_code)):
                yield "\n".join([*finished, " ".join([*done, partial])])
            done.append(partial)
        finished.append(" ".join(done))
    yield "\n".join(finished)


def seq2seq_snippet(
    source: str,
    load_kwargs: dict[str, Any],
    device: str | None,
    lines: list[list[str]],
    options: dict[str, Any],
    max_length: int,
    source_code: str | None = None,
    target_code: str | None = None,
) -> str:
    """AutoModelForSeq2SeqLM code that writes the same output as the app, piece by piece."""
    from playground.core.snippets import Raw, format_call, format_value

    tokenizer_kwargs = {"src_lang": source_code} if source_code else {}
    if target_code:
        options = {**options, "forced_bos_token_id": Raw(f"tokenizer.convert_tokens_to_ids({target_code!r})")}
    load = format_call("AutoModelForSeq2SeqLM.from_pretrained", [source], load_kwargs)
    generate = format_call("model.generate", [Raw("**inputs")], options)
    body = [
        "from transformers import AutoModelForSeq2SeqLM, AutoTokenizer",
        "",
        "tokenizer = " + format_call("AutoTokenizer.from_pretrained", [source], tokenizer_kwargs),
        "model = " + load + (f".to({device!r})" if device else ""),
        "",
        "# The text, line by line, each line in pieces that fit the model's input limit.",
        "lines = " + format_value(lines),
        "outputs = []",
        "for pieces in lines:",
        "    written = []",
        "    for piece in pieces:",
        f'        inputs = tokenizer(piece, return_tensors="pt", truncation=True, max_length={max_length}).to(model.device)',
        "        ids = " + generate.replace("\n", "\n        "),
        "        written.append(tokenizer.decode(ids[0], skip_special_tokens=True))",
        '    outputs.append(" ".join(written))',
        'print("\\n".join(outputs))',
    ]
    return "\n".join(body) + "\n"


# ---- An instruction-tuned chat model as a summarizer or translator --------------------------------
# A text-generation chat model from the catalog follows a fixed prompt (shown to the user) through
# the generation interface (playground.engines.generation), greedy so the same text gives the same answer.

CHAT_PROMPTS = {
    "summarization": "Summarize the following text in a few sentences. Answer with the summary only.\n\n{text}",
    "translation": "Translate the following text from {source} to {target}. Answer with the translation only.\n\n{text}",
}


def chat_request(prompt: str, max_new_tokens: int) -> Any:
    """The generation request for a fixed prompt: one user message, greedy decoding (the model's
    other settings, such as its repetition penalty, are its own)."""
    from playground.engines.generation import checked_request

    return checked_request(
        messages=[{"role": "user", "content": prompt}], max_new_tokens=max_new_tokens, do_sample=False
    )


def ask_chat_model(engine: Any, prompt: str, max_new_tokens: int) -> tuple[str, Iterator[str]]:
    """A chat model asked `prompt` (greedy, see chat_request) through the generation engine that serves
    it: the snippet that does the same, and its answer so far as it grows (at least once, the whole
    answer last)."""
    request = chat_request(prompt, max_new_tokens)

    def answers() -> Iterator[str]:
        text = ""
        for delta in engine.start(request):
            text += delta.text
            yield text
        yield text

    return engine.snippet(request), answers()
