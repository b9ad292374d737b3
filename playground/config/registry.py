"""The tab registry: display order, tab key, the tasks each tab serves and the group of the tab strip
it sits in; the tab contract.

The registry is data: one line a tab. Its key names everything of the tab: its folder `tabs/<key>/`
(page in `ui.py`), its catalog block and its strings' namespace. `playground.config.catalog`
validates a catalog against it before Gradio or torch are loaded, `app.py` imports each tab's page
and checks it keeps the contract (`contract_problems`).
A tab with no tasks (the Models view) has no catalog block and is always shown. The shared package
never imports the tab modules themselves; `tabs/__init__.py` re-exports this registry.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import ModuleType

from playground.core.texts import DEFAULT_LANGUAGE, Texts

# A catalog entry that stands for a model's tokenizer alone: its weights are never loaded.
TOKENIZER_TASK = "tokenizer"
# A catalog entry that is a base model to fine-tune: the fine-tune tab trains it, the manager never loads it.
FINE_TUNE_TASK = "fine-tune-text-classification"
FINE_TUNE_TAB = "fine_tune"


@dataclass(frozen=True)
class TabSpec:
    # The tab's folder under tabs/, its catalog block and its i18n namespace: one name.
    key: str
    tasks: tuple[str, ...]
    # The tab strip's group (a key of TAB_GROUPS) the tab sits in; "" for the top strip itself.
    group: str = ""

    @property
    def module(self) -> str:
        """The module with the tab's page: `build(ctx)` and `TEXTS`."""
        return f"tabs.{self.key}.ui"

    @property
    def catalogued(self) -> bool:
        """Whether the tab's models come from a block of the catalog (else it is always shown)."""
        return bool(self.tasks)


# The tab strip's groups, in the order it shows them (each a tab holding its tabs' strip), with
# their titles. Tabs of a group are shown in TAB_SPECS order; a group with a single tab shown is left
# out and that tab sits in the top strip.
TAB_GROUPS = Texts(
    "tab_groups",
    {
        "en": {
            "reading": "Reading",
            "writing": "Writing",
            "vision": "Vision",
            "audio": "Audio",
            "inside": "Inside the model",
        },
        "ko": {"reading": "읽기", "writing": "쓰기", "vision": "비전", "audio": "오디오", "inside": "모델 내부"},
    },
)

TAB_SPECS: tuple[TabSpec, ...] = (
    TabSpec("speech_to_text", ("automatic-speech-recognition",), group="audio"),
    TabSpec("audio_classification", ("audio-classification", "zero-shot-audio-classification"), group="audio"),
    TabSpec("text_to_speech", ("text-to-audio",), group="audio"),
    TabSpec("image_classification", ("image-classification",), group="vision"),
    TabSpec("fill_mask", ("fill-mask",), group="reading"),
    TabSpec(
        "zero_shot",
        ("zero-shot-classification", "sentence-similarity", "zero-shot-image-classification"),
        group="reading",
    ),
    TabSpec(
        "visual_qa",
        (
            "vqa-classifier",
            "image-text-to-text",
            "document-question-answering",
            "question-answering",
            "table-question-answering",
        ),
        group="vision",
    ),
    TabSpec(
        "detect_segment",
        (
            "object-detection",
            "zero-shot-object-detection",
            "image-segmentation",
            "depth-estimation",
            "mask-generation",
            "keypoint-matching",
        ),
        group="vision",
    ),
    TabSpec("text_generation", ("text-generation",), group="writing"),
    TabSpec("video_classification", ("video-classification",), group="vision"),
    # The rest of the course; extractive QA is the visual_qa tab's "Text" sub-tab (tabs/visual_qa/text_ui.py).
    TabSpec("text_classification", ("text-classification",), group="reading"),
    TabSpec("named_entities", ("token-classification",), group="reading"),
    # A chat model (text-generation) can summarize and translate too, driven by a fixed prompt.
    TabSpec("summarization", ("summarization", "text-generation"), group="writing"),
    TabSpec("translation", ("translation", "text-generation"), group="writing"),
    # Inside the model: what a pipeline does between its input and its answer.
    TabSpec("tokenizer", (TOKENIZER_TASK,), group="inside"),
    TabSpec("embeddings", ("feature-extraction", "image-feature-extraction"), group="inside"),
    TabSpec("anatomy", ("model-anatomy",), group="inside"),
    TabSpec("attention", ("attention",), group="inside"),
    # Training a classifier on the user's data; its models join the text classification tab.
    TabSpec(FINE_TUNE_TAB, (FINE_TUNE_TASK,)),
    TabSpec("models", ()),
)


def tab_strip(keys: list[str]) -> list[tuple[str, list[str]]]:
    """The shown tabs `keys` laid out as the tab strip: [(group, [tab keys])] in display order, groups
    first (TAB_GROUPS order) then the ungrouped tabs; a group with one shown tab becomes ("", [key])."""
    specs = {spec.key: spec for spec in TAB_SPECS}
    strip: list[tuple[str, list[str]]] = []
    for group in TAB_GROUPS.table[DEFAULT_LANGUAGE]:
        members = [key for key in keys if specs[key].group == group]
        if members:
            strip.append((group if len(members) > 1 else "", members))
    strip += [("", [key]) for key in keys if not specs[key].group]
    return strip


# The tabs a catalog may list, with the tasks their models may have.
TAB_TASKS: dict[str, tuple[str, ...]] = {spec.key: spec.tasks for spec in TAB_SPECS if spec.catalogued}

# Strings every tab's TEXTS must have: its title in the tab strip and its "what is happening" note.
REQUIRED_STRINGS = ("title", "about")


class TabContractError(Exception):
    """A tab module that does not keep the tab contract; the message names the module and the fix."""


def contract_problems(module: ModuleType) -> list[str]:
    """What `module` lacks of the tab contract: `TEXTS` (a Texts with title and about) and `build(ctx)`."""
    problems = []
    texts = getattr(module, "TEXTS", None)
    if not isinstance(texts, Texts):
        problems.append("no TEXTS = Texts.load(key, locales) table")
    else:
        missing = [key for key in REQUIRED_STRINGS if key not in texts.table[DEFAULT_LANGUAGE]]
        if missing:
            problems.append(f"TEXTS has no {' or '.join(repr(key) for key in missing)} string")
    build = getattr(module, "build", None)
    if not callable(build):
        problems.append("no build(ctx) function")
    else:
        try:
            inspect.signature(build).bind(object())
        except TypeError:
            problems.append(f"build{inspect.signature(build)} must take one argument, the TabContext: build(ctx)")
    return problems


def check_tab_contract(spec: TabSpec, module: ModuleType) -> None:
    """Raise TabContractError when the module of `spec` breaks the contract."""
    problems = contract_problems(module)
    if problems:
        raise TabContractError(f"tab {spec.key!r} ({spec.module}) breaks the tab contract: " + "; ".join(problems))
