"""The fine-tune tab's test catalog block: base models to train, all shared with other tabs (the fill-mask
tab's random-weight DistilBERT and BERT encoders, and GPT-2, a decoder the tab must refuse).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from playground.config.registry import FINE_TUNE_TASK
from scripts.make_test_models import Builder, CatalogEntry

BUILDERS: dict[str, Builder] = {}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "distilbert-mlm", "DistilBERT (test)", FINE_TUNE_TASK, "Random-weight DistilBERT encoder.", default=True
    ),
    CatalogEntry("bert-mlm", "BERT (test)", FINE_TUNE_TASK, "Random-weight BERT encoder."),
    CatalogEntry("gpt2", "GPT-2 (test, not an encoder)", FINE_TUNE_TASK, "Random-weight GPT-2: a decoder, refused."),
)
