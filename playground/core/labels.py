"""Candidate labels a user types for a zero-shot model (text, image or audio): one parser, one set of messages."""

from __future__ import annotations

import re

from playground.core.texts import SHARED_LOCALES, Texts

MAX_LABELS = 100

TEXTS = Texts.load("labels", SHARED_LOCALES)


def parse_labels(labels: str | list[str] | None, limit: int = MAX_LABELS) -> list[str]:
    """Labels from a comma/newline separated string (or a list); blanks dropped, duplicates refused."""
    parts = labels if isinstance(labels, list) else re.split(r"[,\n]", labels or "")
    cleaned = [p.strip() for p in parts if p and p.strip()]
    if not cleaned:
        raise TEXTS.error("no_labels")
    seen: set[str] = set()
    duplicates = [x for x in cleaned if x.casefold() in seen or seen.add(x.casefold())]
    if duplicates:
        raise TEXTS.error("duplicate_labels", labels=", ".join(dict.fromkeys(duplicates)))
    if len(cleaned) > limit:
        raise TEXTS.error("too_many_labels", count=len(cleaned), limit=limit)
    return cleaned
