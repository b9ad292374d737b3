"""The Attention tab's test catalog: models of other tabs' recipes, one of each kind the tab draws
(an encoder, a decoder, an encoder-decoder for cross-attention).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from scripts.make_test_models import Builder, CatalogEntry

BUILDERS: dict[str, Builder] = {}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "bert-emotions", "BERT encoder (test)", "attention", "Random-weight BERT (2 layers, 2 heads).", default=True
    ),
    CatalogEntry("gpt2", "GPT-2 (test)", "attention", "Random-weight GPT-2 decoder."),
    CatalogEntry(
        "opus-mt-fr-en", "Marian fr-en (test)", "attention", "Random-weight Marian encoder-decoder (cross-attention)."
    ),
)
