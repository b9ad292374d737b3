"""Extractive question answering: the span of a context that answers a question.

transformers 5 has no `question-answering` pipeline any more, so `QuestionAnswerer` does what it did
with `AutoModelForQuestionAnswering`: the question and the context go in together, a long context is
cut into overlapping windows (`doc_stride` tokens shared between neighbours), the model scores every
token as the start and as the end of the answer, and the best (start, end) pairs inside the context
become answers whose character offsets point into the context. SQuAD 2.0 models can also say that
the context holds no answer (the score of the [CLS] token).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts

MAX_QUESTION_CHARS = 500
MAX_CONTEXT_CHARS = 100_000
MAX_ANSWER_TOKENS = 100
MAX_TOP_K = 20
WINDOW_TOKENS = 384
DOC_STRIDE = 128
# Tokens a window keeps for the context at least; a longer question is refused.
MIN_CONTEXT_TOKENS = 32

TEXTS = Texts.load("task_extractive_qa", SHARED_LOCALES)


@dataclass(frozen=True)
class Answer:
    """An answer: `context[start:end] == answer`; an empty answer means "no answer in the context"."""

    answer: str
    score: float
    start: int
    end: int
    window: int  # the window it was found in (0-based); -1 for "no answer"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Result:
    answers: list[Answer]
    windows: int  # how many windows the context was cut into
    window_tokens: int
    doc_stride: int


def check_inputs(question: str | None, context: str | None) -> tuple[str, str]:
    question = (question or "").strip()
    if not question:
        raise TEXTS.error("no_question")
    if len(question) > MAX_QUESTION_CHARS:
        raise TEXTS.error("long_question", length=len(question), limit=MAX_QUESTION_CHARS)
    if not (context or "").strip():
        raise TEXTS.error("no_context")
    if len(context) > MAX_CONTEXT_CHARS:
        raise TEXTS.error("long_context", length=len(context), limit=MAX_CONTEXT_CHARS)
    return question, context


def window_size(tokenizer: Any, config: Any) -> int:
    """Tokens in one window: 384 (the old pipeline's), less if the model takes fewer."""
    limits = [WINDOW_TOKENS, tokenizer.model_max_length]
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        # RoBERTa-style models keep two positions for the padding offset.
        limits.append(
            positions - 2 if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert") else positions
        )
    return int(min(limits))


def best_spans(
    start_logits: Any, end_logits: Any, context_mask: Any, top_k: int, max_answer_length: int
) -> tuple[list[tuple[int, int, float]], float]:
    """The top (start token, end token, score) spans of one window, and its "no answer" score.

    Scores are the old pipeline's: a softmax over the window's context tokens and [CLS] for the start
    and for the end, a span's score being P(start) * P(end), with end >= start and at most
    `max_answer_length` tokens; the "no answer" score is P(start=[CLS]) * P(end=[CLS]).
    """
    import torch

    keep = context_mask.clone()
    keep[0] = True  # [CLS] stays in the softmax: its score is the "no answer" score
    start = torch.where(keep, start_logits.float(), torch.tensor(-10_000.0)).softmax(-1)
    end = torch.where(keep, end_logits.float(), torch.tensor(-10_000.0)).softmax(-1)
    null_score = float(start[0] * end[0])
    start, end = start * context_mask, end * context_mask
    pairs = torch.triu(start[:, None] * end[None, :])
    pairs = pairs - torch.triu(pairs, diagonal=max_answer_length)  # at most max_answer_length tokens
    flat = pairs.flatten()
    count = min(top_k, int((flat > 0).sum()))
    scores, indices = flat.topk(count) if count else (flat[:0], flat[:0].long())
    width = pairs.shape[1]
    return [(int(i) // width, int(i) % width, float(s)) for s, i in zip(scores, indices)], null_score


class QuestionAnswerer:
    """`AutoModelForQuestionAnswering` + its tokenizer, called like the old pipeline."""

    def __init__(self, model: Any, tokenizer: Any):
        self.model = model
        self.tokenizer = tokenizer
        self.window_tokens = window_size(tokenizer, model.config)

    def question_tokens(self, question: str) -> int:
        return len(self.tokenizer(question, add_special_tokens=False)["input_ids"])

    def __call__(
        self,
        question: str,
        context: str,
        top_k: int = 1,
        max_answer_length: int = 30,
        allow_no_answer: bool = False,
        doc_stride: int = DOC_STRIDE,
    ) -> Result:
        import torch

        tokens = self.question_tokens(question)
        if tokens > self.window_tokens - MIN_CONTEXT_TOKENS - 4:
            raise TEXTS.error("long_question_tokens", tokens=tokens, window=self.window_tokens)
        stride = min(doc_stride, (self.window_tokens - tokens) // 2)
        encoded = self.tokenizer(
            question,
            context,
            truncation="only_second",
            max_length=self.window_tokens,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=True,
            return_tensors="pt",
        )
        offsets = encoded.pop("offset_mapping")
        encoded.pop("overflow_to_sample_mapping", None)
        inputs = {k: v.to(self.model.device) for k, v in encoded.items() if k in self.tokenizer.model_input_names}
        with torch.inference_mode():
            output = self.model(**inputs)
        candidates: dict[tuple[int, int], Answer] = {}
        null_score = 1.0
        for window in range(offsets.shape[0]):
            context_mask = torch.tensor([sid == 1 for sid in encoded.sequence_ids(window)])
            spans, window_null = best_spans(
                output.start_logits[window].cpu(),
                output.end_logits[window].cpu(),
                context_mask,
                top_k,
                max_answer_length,
            )
            null_score = min(null_score, window_null)
            for first, last, score in spans:
                start, end = int(offsets[window, first, 0]), int(offsets[window, last, 1])
                known = candidates.get((start, end))
                if known is None or known.score < score:
                    candidates[(start, end)] = Answer(context[start:end], score, start, end, window)
        answers = sorted(candidates.values(), key=lambda a: -a.score)
        if allow_no_answer:
            answers.append(Answer("", null_score, 0, 0, -1))
            answers.sort(key=lambda a: -a.score)
        return Result(answers[:top_k], int(offsets.shape[0]), self.window_tokens, stride)


def highlighted(context: str, answers: list[Answer]) -> dict[str, Any]:
    """gr.HighlightedText's value: the context with each answer span marked #1, #2, … (overlaps: the better one)."""
    spans: list[dict[str, Any]] = []
    for rank, answer in enumerate(answers, 1):
        if answer.end > answer.start and all(answer.end <= s["start"] or answer.start >= s["end"] for s in spans):
            spans.append({"entity": f"#{rank}", "start": answer.start, "end": answer.end})
    return {"text": context, "entities": sorted(spans, key=lambda s: s["start"])}
