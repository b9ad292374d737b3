"""The Model anatomy tab's test catalog: models of other tabs' recipes, one of each kind the tab explains
(a body-only checkpoint, a classifier, a decoder with tied weights, a vision backbone, a ViT).

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from scripts.make_test_models import Builder, CatalogEntry

BUILDERS: dict[str, Builder] = {}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("minilm", "MiniLM body (test)", "model-anatomy",
                 "all-MiniLM-L6-v2 from PyPI (a BertModel with no head).", default=True),
    CatalogEntry("bert-emotions", "BERT classifier (test)", "model-anatomy", "Random-weight BERT with a classification head."),
    CatalogEntry("gpt2", "GPT-2 (test)", "model-anatomy", "Random-weight GPT-2 (its LM head is tied to the embeddings)."),
    CatalogEntry("resnet", "ResNet (test)", "model-anatomy", "Random-weight ResNet image classifier (a backbone)."),
    CatalogEntry("vit", "ViT (test)", "model-anatomy", "Random-weight ViT image classifier."),
)
