"""What every tab's `build()` needs: its context (catalog, manager, limits) and the shared widgets.

Widgets that look the same on every tab (model picker, "show code" panel, "what is happening" note)
are built here once so the tabs stay short and consistent.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from playground.config.catalog import Catalog, Defaults, ModelEntry
from playground.core.texts import DEFAULT_LANGUAGE, LANGUAGE_COOKIE, LANGUAGES, SHARED_LOCALES, Texts, request_language
from playground.engines.generation import GenerationEngine
from playground.engines.generation_engines import Engines
from playground.loading.model_manager import LoadedModel, ModelManager, ProgressFn
from playground.web.gradio_patches import current_request, locale_module_url, pass_unreadable_files

COMMON = Texts.load("common", SHARED_LOCALES)


def new_picker_notes() -> Texts:
    """An empty table for the model pickers' notes (see `TabContext.picker_notes`)."""
    return Texts("picker_notes", {lang: {} for lang in LANGUAGES})


@dataclass
class TabContext:
    """Handed to each tab's build(): everything it may use, no globals."""

    key: str
    catalog: Catalog
    manager: ModelManager
    # Every engine in use, shared by all tabs (the app's one registry).
    engines: Engines
    # The tasks the tab's registry entry serves (tabs take their tasks from here, not a constant).
    tasks: tuple[str, ...] = ()
    # The model pickers' notes in every language, filled while the page is built; the app adds them
    # to its i18n table once every tab is built (one table shared by all tabs' contexts).
    picker_notes: Texts = field(default_factory=lambda: new_picker_notes())
    # The tab's own state for the app's lifetime, kept here so its handlers stay module-level
    # functions (the text-generation tab's running streams per browser session).
    state: dict[str, Any] = field(default_factory=dict)

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
        """Load (or fetch from cache) the chosen model, reporting progress to a gr.Progress in the
        language of the request being handled."""
        return self.manager.get(self.key, model, task, progress=self.progress_reporter(progress))

    def generation_engine(self, model: str | None, task: str | None = None, progress: Any = None) -> GenerationEngine:
        """The engine that generates for a text-generation model of this tab: its endpoint's when the
        catalog entry has one, else the local one (the model is loaded if needed)."""
        entry = self.entry(model, task)
        return self.engines.generation(entry, lambda: self.load(entry.id, task, progress))

    def progress_reporter(self, progress: Any) -> ProgressFn | None:
        """A ProgressFn (fraction, message in every language) that shows the request's language on a
        gr.Progress; None without one."""
        if progress is None:
            return None
        lang = request_language(current_request())

        def report(fraction: float, message: Mapping[str, str]) -> None:
            progress(fraction, desc=message.get(lang) or message[DEFAULT_LANGUAGE])

        return report


def tab_models(ctx: TabContext) -> list[ModelEntry]:
    """Every model of the tab, over all the tasks it serves (the registry's order of tasks)."""
    return [entry for task in ctx.tasks for entry in ctx.models(task)]


def tab_default_model(ctx: TabContext) -> str:
    """The tab's default model over all its tasks: the first marked default (a catalog may list only
    the chat models of a tab that also serves another task)."""
    entries = tab_models(ctx)
    return next((entry for entry in entries if entry.default), entries[0]).id


def chat_task(ctx: TabContext) -> str | None:
    """The second task of a tab that serves one with a chat model too (summaries, translations), else None."""
    return ctx.tasks[1] if len(ctx.tasks) > 1 else None


def bind(handler: Callable[..., Any], ctx: TabContext, **defaults: Any) -> Callable[..., Any]:
    """`handler(ctx, *inputs)` as an event function of the inputs alone, for Gradio.

    Tab handlers are module-level functions of the context and their inputs (a test calls them by
    name, without a page). Gradio reads an endpoint's parameters, defaults and docstring from the
    function it is given: the bound function keeps the handler's name, docstring and parameters less
    `ctx`, with `defaults` (values known only once the catalog is, such as the default model) put in.
    """
    signature = inspect.signature(handler)
    parameters = list(signature.parameters.values())[1:]
    unknown = set(defaults) - {p.name for p in parameters}
    if unknown:
        raise TypeError(f"{handler.__name__} has no parameter {sorted(unknown)}")
    parameters = [p.replace(default=defaults[p.name]) if p.name in defaults else p for p in parameters]
    bound_signature = signature.replace(parameters=parameters)

    def call(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        arguments = bound_signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        return (ctx, *arguments.args), arguments.kwargs

    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def bound(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = call(args, kwargs)
            yield from handler(*args, **kwargs)

    else:

        @functools.wraps(handler)
        def bound(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = call(args, kwargs)
            return handler(*args, **kwargs)

    bound.__signature__ = bound_signature  # type: ignore[attr-defined]
    del bound.__wrapped__  # Gradio must see the bound signature, not the handler's
    return bound


def model_picker(
    ctx: TabContext, task: str | None = None, label: Any = None, entries: list[ModelEntry] | None = None
) -> Any:
    """A dropdown of the catalog's models for `task` (or of the given `entries`) plus their descriptions
    (and, when the catalog allows custom models, a hint that a Hub id may be typed); the first default
    is preselected."""
    import gradio as gr

    whole_list = entries is None  # the tab's models for the task, not a chosen few
    entries = ctx.models(task) if entries is None else entries
    # One i18n marker for the whole note (the browser translates only the first marker of a string):
    # the custom-model hint and as many descriptions as fit 400 characters, in each language.
    described = [m for m in entries if m.description]
    shown = [
        m
        for n, m in enumerate(described)
        if sum(len(d.label) + len(d.described()) + 5 for d in described[: n + 1]) <= 400
    ]
    notes = {
        lang: " · ".join(
            part
            for part in (
                COMMON.get("custom_model_hint", lang) if ctx.limits.allow_custom_models else "",
                " · ".join(f"{m.label}: {m.described(lang)}" for m in shown),
            )
            if part
        )
        for lang in LANGUAGES
    }
    info = None
    if notes[DEFAULT_LANGUAGE]:
        key = "note_" + hashlib.sha1(json.dumps(notes, sort_keys=True).encode()).hexdigest()[:12]
        for lang in LANGUAGES:
            ctx.picker_notes.table[lang][key] = notes[lang]
        info = ctx.picker_notes.ui(key)
    picker = gr.Dropdown(
        choices=[(m.label, m.id) for m in entries],
        value=next((m for m in entries if m.default), entries[0]).id,
        label=label or COMMON.ui("model"),
        info=info,
        # Always accept typed values so an unknown id reaches the manager, which explains the refusal
        # (or loads it when the catalog allows custom models); Gradio's own check is a bare error.
        allow_custom_value=True,
        interactive=True,
    )
    if whole_list and ctx.catalog.receives_models(ctx.key):
        # Models added while the app runs (fine-tuned ones) are listed when the picker is opened.
        def current_choices() -> Any:
            return gr.update(choices=[(m.label, m.id) for m in ctx.models(task)])

        picker.focus(current_choices, None, picker, api_visibility="private", queue=False)
    return picker


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


# `js=` for a page-load event whose server answer depends on the language: it waits until a
# remembered or linked (`?lang=ko`) language has been applied, so the request carries its cookie.
LANGUAGE_READY_JS = "async () => { await window.playgroundLanguageReady; return []; }"

# Each language's name in itself, for the switch.
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
_COOKIE_MAX_AGE = 365 * 24 * 3600


def language_head() -> str:
    """<head> code: `playgroundSetLanguage(lang)` switches Gradio's UI language and remembers it in a
    cookie (the server reads it too); on load it applies the remembered one, or a `?lang=ko` link's."""
    markers = json.dumps({lang: COMMON.get("language", lang) for lang in LANGUAGES}, ensure_ascii=False)
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
    const localeModule = {json.dumps(locale_module_url())};
    if (!localeModule) return;  // Gradio's patches are off: the page keeps the browser's language
    const gradio = await import(localeModule);
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


def wire_language_switch(demo: Any, switch: Any) -> None:
    """Picking a language changes the page's language in place (needs `language_head()` in the page head).

    Gradio translates tab strips' labels once, when the page starts, so after a change (and after a
    remembered or linked language is applied on load) every tab, the tabs inside tabs included, gets
    its label again and the browser translates it in the new language. Call it once the whole page is
    built.

    The labels are sent by browser-side functions, not by the server: Gradio's browser keeps a loading
    status for every output of a server event ever run, refreshes them all on every streamed update,
    and refreshing a tab walks all its components. Tabs as server outputs made each streamed token
    cost the browser a walk of the whole page (about 80 ms on a 2-core machine, measured).
    """
    import gradio as gr

    tabs = [block for block in demo.blocks.values() if isinstance(block, gr.Tab)]
    # The labels as the page's config holds them (an I18nData's text form is its translation key).
    relabel = json.dumps([{"__type__": "update", "label": str(tab.label)} for tab in tabs], ensure_ascii=False)

    def page_language(request: Any) -> str:
        return request_language(request)

    page_language.__annotations__ = {"request": gr.Request}  # how Gradio knows to pass the request
    demo.load(page_language, None, switch, js=LANGUAGE_READY_JS, api_visibility="private", queue=False)
    demo.load(None, None, tabs, js=f"async () => {{ await window.playgroundLanguageReady; return {relabel}; }}")
    switch.input(None, switch, tabs, js=f"(lang) => window.playgroundSetLanguage(lang).then(() => {relabel})")


# ---- Pipelines over a dataset: the upload / column / results widgets every text tab shares -------

DATASET_UI = Texts.load("dataset_ui", SHARED_LOCALES)


@dataclass
class DatasetPanel:
    """The widgets of a "run over a dataset" section; the tab wires `run` to its own handler with
    `inputs(*its options)` ([file, column, ...its options, hub_dataset, hub_split]) and `outputs`
    ([summary, table, download])."""

    file: Any
    column: Any
    hub_dataset: Any
    hub_split: Any
    run: Any
    summary: Any
    table: Any
    download: Any

    def inputs(self, *options: Any) -> list[Any]:
        return [self.file, self.column, *options, self.hub_dataset, self.hub_split]

    @property
    def outputs(self) -> list[Any]:
        return [self.summary, self.table, self.download]


def dataset_panel(limits: Defaults) -> DatasetPanel:
    """A collapsible "run over a dataset" section; uploading a file (or naming a Hub dataset and
    pressing Enter) fills the column picker. The Hub fields show when the catalog allows Hub datasets
    and the app is not offline."""
    import gradio as gr

    from playground.loading.hub import offline
    from playground.media.datasets import parse_hub_dataset, read_hub_table, read_table
    from playground.web.errors import guarded

    with gr.Accordion(DATASET_UI.ui("heading"), open=False):
        gr.Markdown(DATASET_UI.ui("help"))
        with gr.Row():
            file = gr.File(label=DATASET_UI.ui("file"), type="filepath")
            with gr.Column():
                with gr.Row(visible=limits.allow_hub_datasets and not offline()):
                    hub_dataset = gr.Textbox(
                        label=DATASET_UI.ui("hub_dataset"), info=DATASET_UI.ui("hub_dataset_info"), value="", scale=3
                    )
                    hub_split = gr.Textbox(
                        label=DATASET_UI.ui("hub_split"),
                        info=DATASET_UI.ui("hub_split_info"),
                        value="",
                        placeholder="train",
                        scale=1,
                    )
                column = gr.Dropdown(
                    choices=[],
                    value="",
                    label=DATASET_UI.ui("column"),
                    info=DATASET_UI.ui("column_info"),
                    allow_custom_value=True,
                    interactive=True,
                )
                run = gr.Button(DATASET_UI.ui("run"), variant="primary")
        summary = gr.Markdown()
        table = gr.Dataframe(label=DATASET_UI.ui("results"), interactive=False, wrap=True, max_height=420)
        download = gr.File(label=DATASET_UI.ui("csv"), interactive=False)

    def column_choices(columns: list[str]) -> Any:
        preferred = next((c for c in ("text", "sentence", "review") if c in columns), columns[0])
        return gr.update(choices=columns, value=preferred)

    def file_columns(path: str | None) -> Any:
        return column_choices(read_table(path, limits.max_dataset_rows, limits.max_dataset_mb).columns)

    def hub_columns(name: str, split: str) -> Any:
        if not (name or "").strip():
            return gr.update()
        # A few rows are enough to see the columns; the run reads the split again.
        few = limits.model_copy(update={"max_dataset_rows": 5})
        return column_choices(read_hub_table(parse_hub_dataset(name, split), few).columns)

    file.upload(guarded(file_columns), file, column, api_visibility="private")
    for box in (hub_dataset, hub_split):
        box.submit(guarded(hub_columns), [hub_dataset, hub_split], column, api_visibility="private")
    return DatasetPanel(file, column, hub_dataset, hub_split, run, summary, table, download)


def image_input(label: Any) -> Any:
    """A filepath gr.Image whose preprocessing hands unreadable files on to `open_image`.

    Gradio opens the upload with Pillow before the handler runs and would answer a non-image with a
    raw traceback; passing the path through lets `open_image` explain the problem to the user.
    """
    import gradio as gr
    from PIL import Image, UnidentifiedImageError

    component = gr.Image(type="filepath", image_mode=None, sources=["upload", "webcam", "clipboard"], label=label)
    return pass_unreadable_files(
        component, (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError)
    )
