"""What every tab's `build()` needs: its context (catalog, manager, limits) and the shared widgets.

Widgets that look the same on every tab (model picker, "show code" panel, "what is happening" note)
are built here once so the tabs stay short and consistent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from playground.catalog import Catalog, Defaults, ModelEntry, TabConfig
from playground.model_manager import LoadedModel, ModelManager
from playground.texts import LANGUAGE_COOKIE, LANGUAGES, Texts, request_language

COMMON_STRINGS = {
    "en": {
        "model": "Model",
        "show_code": "Show code: do the same in Python",
        "code": "Python",
        "about": "What is happening here?",
        "run": "Run",
        "loading": "Loading {label}…",
        "custom_model_hint": "You may also type a Hugging Face Hub model id.",
        "language": "Language",
    },
    "ko": {
        "model": "모델",
        "show_code": "코드 보기: 파이썬으로 똑같이 하기",
        "code": "파이썬",
        "about": "여기서 무슨 일이 일어나나요?",
        "run": "실행",
        "loading": "{label} 불러오는 중…",
        "custom_model_hint": "Hugging Face Hub 모델 id를 직접 입력할 수도 있습니다.",
        "language": "언어",
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
    # The tasks the tab's registry entry serves (tabs take their tasks from here, not a constant).
    tasks: tuple[str, ...] = ()

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


# Each language's name in itself, for the switch.
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
_COOKIE_MAX_AGE = 365 * 24 * 3600


def _gradio_locale_module() -> str:
    """The page-relative URL of the Gradio frontend module that exports `changeLocale`.

    Its Settings panel switches the UI language through it; importing the same URL shares its state.
    """
    import gradio

    assets = Path(gradio.__file__).parent / "templates" / "frontend" / "assets"
    return f"./assets/{next(assets.glob('core-*.js')).name}"


def language_head() -> str:
    """<head> code: `playgroundSetLanguage(lang)` switches Gradio's UI language and remembers it in a
    cookie (the server reads it too); on load it applies the remembered one, or a `?lang=ko` link's."""
    markers = json.dumps({lang: COMMON_STRINGS[lang]["language"] for lang in LANGUAGES}, ensure_ascii=False)
    return f"""<script>
(() => {{
  const supported = {list(LANGUAGES)!r};
  const markers = {markers};
  // changeLocale returns before the locale's messages have loaded; tab labels sent before then
  // would be translated in the old language, so wait until the switch's own label has changed.
  const applied = async (lang) => {{
    for (let i = 0; i < 100; i++) {{
      const shown = document.querySelector("#language-switch")?.innerText || "";
      if (shown.includes(markers[lang])) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }}
  }};
  window.playgroundSetLanguage = async (lang) => {{
    if (!supported.includes(lang)) return;
    document.cookie = "{LANGUAGE_COOKIE}=" + lang + "; path=/; max-age={_COOKIE_MAX_AGE}; SameSite=Lax";
    const gradio = await import("{_gradio_locale_module()}");
    gradio.changeLocale(lang);
    await applied(lang);
  }};
  const linked = new URLSearchParams(location.search).get("lang");
  const remembered = (document.cookie.match(/(?:^|; ){LANGUAGE_COOKIE}=([a-z]+)/) || [])[1];
  window.playgroundLanguageReady = window.playgroundSetLanguage(supported.includes(linked) ? linked : remembered);
}})();
</script>"""


def language_switch() -> Any:
    """The header's language switch (wire it with `wire_language_switch` once the tabs exist)."""
    import gradio as gr

    return gr.Radio(
        choices=[(LANGUAGE_NAMES[lang], lang) for lang in LANGUAGES],
        label=COMMON.ui("language"),
        elem_id="language-switch",
        scale=1,
        min_width=200,
    )


def wire_language_switch(demo: Any, switch: Any, tabs: list[Any]) -> None:
    """Picking a language changes the page's language in place (needs `language_head()` in the page head).

    Gradio translates the tab strip's labels once, when the page starts, so after a change (and after
    a remembered or linked language is applied on load) the server sends the tabs' labels again and
    the browser translates them in the new language.
    """
    import gradio as gr

    # Sub-tabs inside a tab (e.g. text generation's Completion/Chat) are translated once too.
    tabs = [*tabs, *(block for block in demo.blocks.values() if isinstance(block, gr.Tab) and block not in tabs)]

    def tab_labels() -> list[Any]:
        return [gr.update(label=tab.label) for tab in tabs]

    def page_language(request: Any) -> list[Any]:
        return [request_language(request), *tab_labels()]

    page_language.__annotations__ = {"request": gr.Request}  # how Gradio knows to pass the request
    demo.load(page_language, None, [switch, *tabs], js="async () => { await window.playgroundLanguageReady; return []; }",
              api_visibility="private", queue=False)
    switch.input(lambda lang: tab_labels(), switch, tabs, js="(lang) => window.playgroundSetLanguage(lang).then(() => lang)",
                 api_visibility="private", queue=False)
