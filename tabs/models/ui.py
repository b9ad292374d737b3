"""The Models / System tab: device and memory, loaded models, unload buttons, catalog cache status.

An ordinary tab of the registry with no tasks of its own (it shows every tab's models), so it is
always shown whatever the catalog lists. Endpoints: `/loaded_models` (what is in memory) and
`/unload_model` (free one model, or "all").
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any

from playground.config.catalog import Catalog
from playground.core.texts import DEFAULT_LANGUAGE, Texts, request_language
from playground.engines.remote_engine import remote_health
from playground.loading.model_manager import PRECISION_TEXTS, ModelManager
from playground.loading.precision import choose_dtype, packs_linears
from playground.web.errors import guarded
from playground.web.ui import LANGUAGE_READY_JS, TabContext, about_panel, bind

TEXTS = Texts.load("models", Path(__file__).with_name("locales"))


def system_info(manager: ModelManager) -> dict[str, Any]:
    """Device, memory and versions, for the System panel."""
    import psutil

    memory = psutil.virtual_memory()
    info: dict[str, Any] = {
        "device": manager.device,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "ram_total_gb": round(memory.total / 2**30, 1),
        "ram_available_gb": round(memory.available / 2**30, 1),
        "process_rss_gb": round(psutil.Process().memory_info().rss / 2**30, 2),
        "loaded_models": len(manager.loaded_models()),
        "max_loaded_models": manager.catalog.defaults.max_loaded_models,
        "memory_budget_gb": manager.catalog.defaults.memory_budget_gb,
        # Held beside the loaded models by running fine-tunings (counted against the budget).
        "memory_held_gb": round(manager.held_bytes() / 2**30, 3),
        "hf_hub_offline": os.environ.get("HF_HUB_OFFLINE", "0"),
        "hf_token_set": bool(os.environ.get("HF_TOKEN")),
    }
    import torch
    import transformers

    info["torch"] = torch.__version__
    info["transformers"] = transformers.__version__
    if torch.cuda.is_available():
        info["cuda"] = [
            {
                "name": torch.cuda.get_device_name(i),
                "total_gb": round(torch.cuda.get_device_properties(i).total_memory / 2**30, 1),
                "allocated_gb": round(torch.cuda.memory_allocated(i) / 2**30, 2),
            }
            for i in range(torch.cuda.device_count())
        ]
    return info


# The catalog table's columns, in order (their headers are these strings in the request's language).
CATALOG_COLUMNS = ("col_tab", "col_label", "col_id", "col_task", "col_cached", "col_notes")


def catalog_rows(catalog: Catalog, manager: ModelManager, lang: str = DEFAULT_LANGUAGE) -> list[list[Any]]:
    """One row per catalog model: tab, label, id, task, downloaded? (remote: served by an endpoint),
    notes (gated, device_map, the endpoint and its health)."""
    health = {(h.tab, h.model): h for h in remote_health(catalog, lang)}
    rows = []
    for tab_key, tab in catalog.tabs.items():
        for entry in tab.models:
            if entry.is_remote:
                served = health[(tab_key, entry.id)]
                rows.append(
                    [
                        tab_key,
                        entry.label,
                        entry.id,
                        entry.task,
                        TEXTS.get("cached_remote", lang),
                        f"{served.url}: {served.status}",
                    ]
                )
                continue
            notes = []
            if entry.default:
                notes.append(TEXTS.get("note_default", lang))
            if entry.gated:
                notes.append(TEXTS.get("note_gated", lang))
            if entry.device_map:
                notes.append(f"device_map={entry.device_map}")  # a catalog setting, the same in every language
            if entry.trust_remote_code:
                notes.append(TEXTS.get("note_remote_code", lang))
            if entry.quantization:
                notes.append(PRECISION_TEXTS.get("note_quantization", lang, method=entry.quantization))
            choice = choose_dtype(entry, manager.device)
            if choice.noteworthy:
                notes.append(PRECISION_TEXTS.get("note_dtype", lang, reason=choice.explained(PRECISION_TEXTS, lang)))
            if packs_linears(entry, manager.device):
                notes.append(PRECISION_TEXTS.get("note_packed", lang))
            cached = TEXTS.get("cached_yes" if manager.is_cached(entry) else "cached_no", lang)
            rows.append([tab_key, entry.label, entry.id, entry.task, cached, ", ".join(notes)])
    return rows


def catalog_table(catalog: Catalog, manager: ModelManager, lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The catalog table (headers and rows) in `lang`, as a gr.Dataframe value."""
    return {
        "headers": [TEXTS.get(column, lang) for column in CATALOG_COLUMNS],
        "data": catalog_rows(catalog, manager, lang),
    }


def unload_and_report(
    manager: ModelManager, model: str, lang: str = DEFAULT_LANGUAGE
) -> tuple[str, list[dict[str, Any]]]:
    """Unload by id, label or cache key ("all" for everything); returns a message and what is left."""
    if not model or not model.strip():
        raise TEXTS.error("nothing_loaded", ref="")
    labels = manager.unload(model)
    if not labels and model.strip().lower() == "all":
        return TEXTS.get("unloaded", lang, labels="-"), []
    if not labels:
        raise TEXTS.error("nothing_loaded", ref=model.strip())
    return TEXTS.get("unloaded", lang, labels=", ".join(labels)), manager.loaded(lang)


# ---- handlers: functions of the tab's context and their inputs (`bind` hands them to Gradio) ----
# Their docstrings are the API's and the MCP tools' descriptions (Gradio reads `Args:`).


def loaded_models(ctx: TabContext, request: Any = None) -> list[dict[str, Any]]:
    """List the models in memory, most recently used first, with their device, dtype (and why), quantization, packed linear layers, size and load arguments."""
    return ctx.manager.loaded(request_language(request))


def unload_model(ctx: TabContext, model: str = "all", request: Any = None) -> tuple[str, list[dict[str, Any]]]:
    """Unload a model to free its memory; the next request that needs it loads it again.

    Args:
        model: The model to unload: its label (e.g. "BERT base uncased"), Hub id or cache key; "all" unloads every model.
    """
    return unload_and_report(ctx.manager, model, request_language(request))


def catalog_view(ctx: TabContext, request: Any = None) -> dict[str, Any]:
    return catalog_table(ctx.catalog, ctx.manager, request_language(request))


def system_and_catalog(ctx: TabContext, request: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    return system_info(ctx.manager), catalog_view(ctx, request)


def generation_activity(ctx: TabContext, request: Any = None) -> dict[str, Any]:
    """Every engine in use, local or remote: its model, how it runs (an endpoint URL), requests running and waiting; remote ones' answered and last error."""
    return ctx.engines.activity_table(request_language(request))


def remote_models(ctx: TabContext) -> list[dict[str, Any]]:
    """List the catalog's models served by an inference engine: the endpoint URL and whether its /v1/models lists them (never a key)."""
    return [asdict(h) for h in remote_health(ctx.catalog)]


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    with gr.Row():
        with gr.Column(scale=1):
            system = gr.JSON(label=TEXTS.ui("system"))
            refresh_button = gr.Button(TEXTS.ui("refresh"))
        with gr.Column(scale=2):
            loaded = gr.JSON(label=TEXTS.ui("loaded"))
            with gr.Row():
                target = gr.Textbox(label=TEXTS.ui("unload_target"), value="all", scale=3)
                unload_button = gr.Button(TEXTS.ui("unload"), variant="stop", scale=1)
            status = gr.Markdown()
    # Filled on page load and on Refresh: its headers are data, which Gradio does not translate in the browser.
    table = gr.Dataframe(label=TEXTS.ui("catalog"), interactive=False, wrap=True)
    activity = gr.Dataframe(label=TEXTS.ui("generation"), interactive=False, wrap=True)
    about_panel(TEXTS)

    gr.on(
        None, guarded(bind(catalog_view, ctx)), None, table, js=LANGUAGE_READY_JS, api_visibility="private", queue=False
    )

    refresh_button.click(guarded(bind(loaded_models, ctx)), None, loaded, api_name="loaded_models").then(
        guarded(bind(system_and_catalog, ctx)), None, [system, table], api_visibility="private"
    ).then(guarded(bind(generation_activity, ctx)), None, activity, api_name="generation_activity")
    # Models served by an endpoint: its URL and whether its /v1/models lists them (never a key). API only.
    gr.api(guarded(bind(remote_models, ctx)), api_name="remote_models")
    unload_button.click(guarded(bind(unload_model, ctx)), target, [status, loaded], api_name="unload_model")
