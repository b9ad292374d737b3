"""The tab registry: display order, tab key, module and the tasks each tab serves.

Adding a tab = one module in this package + one entry here + one block in models.yaml. This module
imports nothing heavy so the catalog can be validated before Gradio or torch are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TabSpec:
    key: str
    module: str
    tasks: tuple[str, ...]


TAB_SPECS: tuple[TabSpec, ...] = (
    TabSpec("speech_to_text", "tabs.speech_to_text", ("automatic-speech-recognition",)),
    TabSpec("image_classification", "tabs.image_classification", ("image-classification",)),
    TabSpec("fill_mask", "tabs.fill_mask", ("fill-mask",)),
    TabSpec(
        "zero_shot",
        "tabs.zero_shot",
        ("zero-shot-classification", "sentence-similarity", "zero-shot-image-classification"),
    ),
    TabSpec(
        "visual_qa",
        "tabs.visual_qa",
        ("vqa-classifier", "image-text-to-text", "document-question-answering", "question-answering"),
    ),
    TabSpec("text_generation", "tabs.text_generation", ("text-generation",)),
    # The rest of the course (issue 19); extractive QA is the visual_qa tab's "Text" sub-tab (tabs/text_qa.py).
    TabSpec("text_classification", "tabs.text_classification", ("text-classification",)),
    TabSpec("named_entities", "tabs.named_entities", ("token-classification",)),
    # A chat model (text-generation) can summarize and translate too, driven by a fixed prompt.
    TabSpec("summarization", "tabs.summarization", ("summarization", "text-generation")),
    TabSpec("translation", "tabs.translation", ("translation", "text-generation")),
)

TAB_TASKS: dict[str, tuple[str, ...]] = {spec.key: spec.tasks for spec in TAB_SPECS}
