"""Token classification (named entities): the `token-classification` pipeline's entities, each with
its word, type, score and character span, and the text split into highlighted pieces.

The aggregation strategies (`none`, `simple`, `first`, `average`, `max`) decide how sub-word tokens
become entities; `playground` keeps the pipeline's own meaning of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playground.core.texts import Texts

AGGREGATIONS = ("none", "simple", "first", "average", "max")
MAX_TEXT_CHARS = 10_000

TEXTS = Texts.load("named_entities.task", Path(__file__).with_name("locales"))


def check_text(text: str | None) -> str:
    if not (text or "").strip():
        raise TEXTS.error("empty_text")
    if len(text) > MAX_TEXT_CHARS:
        raise TEXTS.error("long_text", length=len(text), limit=MAX_TEXT_CHARS)
    return text


def check_aggregation(aggregation: str | None) -> str:
    value = (aggregation or "simple").strip().lower()
    if value not in AGGREGATIONS:
        raise TEXTS.error("bad_aggregation", choices=", ".join(AGGREGATIONS), value=aggregation)
    return value


def entity_rows(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pipeline's entities as {"word", "entity", "score", "start", "end"} (one key for the type
    whatever the aggregation: the pipeline calls it "entity" without aggregation, else "entity_group")."""
    return [
        {
            "word": item["word"],
            "entity": item.get("entity_group") or item.get("entity"),
            "score": float(item["score"]),
            "start": item.get("start"),
            "end": item.get("end"),
        }
        for item in raw
    ]


def extract(
    pipe: Any, texts: Sequence[str], aggregation: str, label: str = "", batch_size: int = 8
) -> list[list[dict[str, Any]]]:
    """Entities for each text."""
    try:
        results = pipe(list(texts), aggregation_strategy=aggregation, batch_size=batch_size)
    except ValueError as exc:  # first/average/max need word ids (a fast, word-aware tokenizer)
        if "word" in str(exc).lower() or "subword" in str(exc).lower():
            raise TEXTS.error("needs_words", label=label, aggregation=aggregation) from None
        raise
    return [entity_rows(result) for result in results]


def highlighted(text: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    """gr.HighlightedText's value: the text and its entity spans (overlaps dropped, in order)."""
    spans, last_end = [], 0
    for entity in sorted((e for e in entities if e["start"] is not None), key=lambda e: (e["start"], -e["end"])):
        if entity["start"] >= last_end and entity["end"] > entity["start"]:
            spans.append({"entity": entity["entity"], "start": entity["start"], "end": entity["end"]})
            last_end = entity["end"]
    return {"text": text, "entities": spans}
