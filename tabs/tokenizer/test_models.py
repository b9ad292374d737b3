"""The tokenizer tab's test catalog block: other tabs' random-weight models, listed for their tokenizers
(WordPiece, byte-level BPE, a chat template, Whisper's and CLIP's); it builds no model of its own.

A recipe `scripts/make_test_models.py` finds by the tab's key: `BUILDERS` (model name -> builder) and
`CATALOG` (the tab's block of the test catalog; an entry may name another tab's model).
"""

from __future__ import annotations

from scripts.make_test_models import Builder, CatalogEntry

BUILDERS: dict[str, Builder] = {}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "bert-mlm", "BERT tokenizer (test)", "tokenizer", "WordPiece, lower-cased, [CLS] and [SEP].", default=True
    ),
    CatalogEntry("roberta-mlm", "RoBERTa tokenizer (test)", "tokenizer", "Byte-level BPE with <s> and </s>."),
    CatalogEntry("gpt2", "GPT-2 tokenizer (test)", "tokenizer", "Byte-level BPE, no special tokens, no padding."),
    CatalogEntry("qwen2-chat", "Qwen2 chat tokenizer (test)", "tokenizer", "Byte-level BPE with a chat template."),
    CatalogEntry("whisper", "Whisper tokenizer (test)", "tokenizer", "Whisper's byte-level BPE with task tokens."),
    CatalogEntry("clip", "CLIP tokenizer (test)", "tokenizer", "CLIP's text tokenizer (77 tokens)."),
)
