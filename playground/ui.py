"""What every tab's `build()` needs: its context (catalog, manager, limits) and the shared widgets.

Widgets that look the same on every tab (model picker, "show code" panel, "what is happening" note)
are built here once so the tabs stay short and consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from playground.catalog import Catalog, Defaults, ModelEntry, TabConfig
from playground.model_manager import LoadedModel, ModelManager
from playground.texts import Texts

COMMON_STRINGS = {
    "en": {
        "model": "Model",
        "show_code": "Show code: do the same in Python",
        "code": "Python",
        "about": "What is happening here?",
        "run": "Run",
        "loading": "Loading {label}…",
        "custom_model_hint": "You may also type a Hugging Face Hub model id.",
    },
    "ko": {
        "model": "모델",
        "show_code": "코드 보기: 파이썬으로 똑같이 하기",
        "code": "파이썬",
        "about": "여기서 무슨 일이 일어나나요?",
        "run": "실행",
        "loading": "{label} 불러오는 중…",
        "custom_model_hint": "Hugging Face Hub 모델 id를 직접 입력할 수도 있습니다.",
    },
}
COMMON = Texts("common", COMMON_STRINGS)


@dataclass
class TabContext:
    """Handed to each tab's build(): everything it may use, no globals."""

    key: str
    config: TabConfig
    catalog: Catalog
    manager: ModelManager

    @property
    def limits(self) -> Defaults:
        return self.catalog.defaults

    def models(self, task: str | None = None) -> list[ModelEntry]:
        return self.catalog.models_for(self.key, task)

    def model_choices(self, task: str | None = None) -> list[tuple[str, str]]:
        return [(m.label, m.id) for m in self.models(task)]

    def default_model(self, task: str | None = None) -> str:
        return self.catalog.default_model(self.key, task).id

    def entry(self, model: str | None, task: str | None = None) -> ModelEntry:
        return self.manager.entry_for(self.key, model, task)

    def load(self, model: str | None, task: str | None = None, progress: Any = None) -> LoadedModel:
        """Load (or fetch from cache) the chosen model, reporting progress to a gr.Progress."""
        report: Callable[[float, str], None] | None = None
        if progress is not None:

            def report(fraction: float, message: str) -> None:
                progress(fraction, desc=message)

        return self.manager.get(self.key, model, task, progress=report)


def model_picker(ctx: TabContext, task: str | None = None, label: Any = None, entries: list[ModelEntry] | None = None) -> Any:
    """A dropdown of the catalog's models for `task` (or of the given `entries`) plus their descriptions;
    the first default is preselected."""
    import gradio as gr

    entries = ctx.models(task) if entries is None else entries
    info = " · ".join(f"{m.label}: {m.description}" for m in entries if m.description)
    return gr.Dropdown(
        choices=[(m.label, m.id) for m in entries],
        value=next((m for m in entries if m.default), entries[0]).id,
        label=label or COMMON.ui("model"),
        info=info[:400] or None,
        # Always accept typed values so an unknown id reaches the manager, which explains the refusal
        # (or loads it when the catalog allows custom models); Gradio's own check is a bare error.
        allow_custom_value=True,
        interactive=True,
    )


def code_panel() -> Any:
    """The collapsible "show code" panel; returns the gr.Code to fill with a snippet."""
    import gradio as gr

    with gr.Accordion(COMMON.ui("show_code"), open=False):
        return gr.Code(language="python", label=COMMON.ui("code"), interactive=False)


def about_panel(texts: Texts, key: str = "about") -> None:
    """The collapsible "what is happening" note for a tab (markdown from its string table)."""
    import gradio as gr

    with gr.Accordion(COMMON.ui("about"), open=False):
        gr.Markdown(texts.ui(key))
