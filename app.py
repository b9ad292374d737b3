"""Pipeline Playground: Hugging Face transformers pipelines in the browser, one tab per task.

    python app.py [--catalog models.yaml] [--host H] [--port P] [--share] [--tabs KEYS]
                  [--queue-size N] [--device auto|cpu|cuda|mps] [--preload] [--mcp]
                  [--auth-file users.txt] [--metrics]
    python app.py prefetch [--catalog PATH] [--tab KEY ...]
    python app.py space-files [--catalog PATH]
    python app.py hash-password < password.txt

The catalog is --catalog, else $PLAYGROUND_CATALOG, else models.yaml (models.space.yaml on a Space).
--mcp (or Gradio's own GRADIO_MCP_SERVER=True) also serves every endpoint as a Model Context Protocol
tool at /gradio_api/mcp/. --auth-file (or $PLAYGROUND_AUTH_FILE) turns sign-in on: one `name:hash`
line per user, the hash from `python app.py hash-password`. --metrics serves Prometheus metrics at /metrics.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from playground.config.catalog import Catalog, CatalogError, load_catalog
from playground.config.registry import (
    FINE_TUNE_TASK,
    TAB_GROUPS,
    TAB_SPECS,
    TOKENIZER_TASK,
    TabContractError,
    check_tab_contract,
    tab_strip,
)
from playground.config.space import apply_space_defaults, default_catalog, running_on_space
from playground.core.texts import SHARED_LOCALES, Texts
from playground.operations.auth import AuthFileError

ROOT = Path(__file__).resolve().parent
EXIT_BAD_CONFIG = 2

TEXTS = Texts.load("app", SHARED_LOCALES)


def selected_tabs(catalog: Catalog, requested: str | None) -> list[str]:
    """Tab keys to show, in registry order: those in the catalog, narrowed by --tabs, and the tabs
    with no tasks (the Models view), which are always shown."""
    available = [spec.key for spec in TAB_SPECS if not spec.catalogued or catalog.serves(spec.key)]
    if not requested:
        return available
    wanted = [key.strip() for key in requested.split(",") if key.strip()]
    unknown = [key for key in wanted if key not in available]
    if unknown:
        raise CatalogError(
            f"--tabs: unknown or uncatalogued tab(s) {', '.join(unknown)} (available: {', '.join(available)})"
        )
    return [spec.key for spec in TAB_SPECS if spec.key in available and (spec.key in wanted or not spec.catalogued)]


def tab_modules(tab_keys: Sequence[str]) -> dict[str, ModuleType]:
    """The modules of the tabs to show, in registry order, each checked against the tab contract
    (raises TabContractError naming the module and what it lacks)."""
    modules = {}
    for spec in TAB_SPECS:
        if spec.key in tab_keys:
            module = importlib.import_module(spec.module)
            check_tab_contract(spec, module)
            modules[spec.key] = module
    return modules


def tab_string_tables(module: ModuleType) -> list[Texts]:
    """A tab's string table and those of the tab modules it builds sub-tabs from (`from tabs.visual_qa import text_ui`)."""
    parts = [
        value for value in vars(module).values() if isinstance(value, ModuleType) and value.__name__.startswith("tabs.")
    ]
    return [module.TEXTS, *(part.TEXTS for part in parts)]


def build_app(
    catalog: Catalog, manager: Any, modules: Mapping[str, ModuleType], engines: Any = None
) -> tuple[Any, Any]:
    """The gr.Blocks app and its gr.I18n table, with a tab for each of `modules` (see `tab_modules`),
    whose models run through `manager` and `engines` (an Engines registry; a new one if None)."""
    import gradio as gr

    from playground.core.texts import merged_tables
    from playground.engines.generation_engines import Engines
    from playground.media.images import EXAMPLES_DIR
    from playground.operations.hf_sign_in import TEXTS as SIGN_IN_TEXTS
    from playground.operations.hf_sign_in import hugging_face_account, oauth_marker
    from playground.web.gradio_patches import (
        remember_block_signatures,
        share_api_schemas,
        trust_playable_folder,
        wake_queue_on_work,
    )
    from playground.web.inputs import check_api_inputs
    from playground.web.ui import (
        COMMON,
        DATASET_UI,
        TabContext,
        language_switch,
        new_picker_notes,
        wire_language_switch,
    )

    specs = {spec.key: spec for spec in TAB_SPECS}
    # The app's one registry of engines (engine state lives on the app, not in module globals).
    engines = engines or Engines(catalog.defaults.memory_budget_gb)
    all_texts = [TEXTS, COMMON, DATASET_UI, TAB_GROUPS, *(t for m in modules.values() for t in tab_string_tables(m))]
    oauth = oauth_marker() if catalog.defaults.sign_in.huggingface is not None else None
    if oauth is not None:
        all_texts.append(SIGN_IN_TEXTS)
    picker_notes = new_picker_notes()  # filled by the tabs' model pickers
    trust_playable_folder(EXAMPLES_DIR)  # the tabs' example media, built into the page below
    remember_block_signatures()
    share_api_schemas()

    demo = gr.Blocks(title="Pipeline Playground")
    # Queued before the page is built: queue() rebuilds Gradio's app from the config of every
    # component there is, a third of a second more start-up once the page holds every tab.
    demo.queue(max_size=catalog.defaults.queue_size, default_concurrency_limit=1)
    with demo:
        with gr.Row(equal_height=True):
            gr.Markdown(TEXTS.ui("heading"), scale=4)
            switch = language_switch()
            if oauth is not None:
                hugging_face_account(demo, oauth)
        gr.Markdown(TEXTS.ui("subheading"))

        with gr.Tabs():
            for group, keys in tab_strip(list(modules)):
                with gr.Tab(TAB_GROUPS.ui(group), id=f"group-{group}") if group else contextlib.nullcontext():
                    with gr.Tabs() if group else contextlib.nullcontext():
                        for key in keys:
                            with gr.Tab(modules[key].TEXTS.ui("title"), id=key):
                                modules[key].build(
                                    TabContext(
                                        key=key,
                                        catalog=catalog,
                                        manager=manager,
                                        engines=engines,
                                        tasks=specs[key].tasks,
                                        picker_notes=picker_notes,
                                    )
                                )
        wire_language_switch(demo, switch)
    i18n = gr.I18n(**merged_tables([*all_texts, picker_notes]))
    wake_queue_on_work(demo)
    check_api_inputs(demo)
    return demo, i18n


def serve(args: argparse.Namespace) -> int:
    from playground.engines.generation_engines import Engines
    from playground.loading.gpu import zero_gpu_enabled
    from playground.loading.model_manager import ModelManager
    from playground.operations.auth import Users
    from playground.operations.hf_sign_in import HuggingFaceAccess
    from playground.operations.serving import prepare

    catalog = load_catalog(args.catalog)
    users = Users.from_file(args.auth_file) if args.auth_file else None
    hf_settings = catalog.defaults.sign_in.huggingface
    huggingface = HuggingFaceAccess.from_environment(hf_settings) if hf_settings is not None else None
    tab_keys = selected_tabs(catalog, args.tabs)
    modules = tab_modules(tab_keys)
    import gradio as gr

    # What is imported by now lives as long as the process: frozen, it is no longer walked by every full
    # collection while the page's thousand components are made (a tenth of a second of start-up). Before
    # any model loads: a frozen object in a reference cycle is never freed, and models are unloaded.
    gc.freeze()
    if running_on_space():
        apply_space_defaults(catalog)
    if args.queue_size:
        catalog.defaults.queue_size = args.queue_size
    manager = ModelManager(catalog, device=args.device)
    # ZeroGPU runs each GPU call in a forked worker: models loaded there do not outlive the call, so
    # the default models are loaded up front, in the main process, which the workers inherit.
    if args.preload or zero_gpu_enabled():
        for key in (key for key in tab_keys if key in catalog.tabs):  # the Models view has no models
            for task in dict.fromkeys(m.task for m in catalog.tabs[key].models):
                # Tokenizer entries load no weights (their tab keeps the tokenizers), bases to fine-tune
                # are loaded by the training itself.
                if (
                    task not in (TOKENIZER_TASK, FINE_TUNE_TASK) and not catalog.default_model(key, task).is_remote
                ):  # an endpoint's engine holds those
                    manager.get(key, None, task)
    engines = Engines(catalog.defaults.memory_budget_gb)
    demo, i18n = build_app(catalog, manager, modules, engines)
    operations = prepare(
        demo,
        catalog,
        manager,
        engines,
        tab_keys,
        users,
        metrics=args.metrics or catalog.defaults.metrics,
        huggingface=huggingface,
    )
    from playground.web.ui import language_head

    demo.launch(
        head=language_head(),
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        max_file_size=int(catalog.defaults.max_upload_mb * 2**20),
        i18n=i18n,
        theme=gr.themes.Soft(),
        ssr_mode=False,
        show_error=True,
        footer_links=["api", "settings"],
        # None: Gradio reads GRADIO_MCP_SERVER.
        mcp_server=True if args.mcp else None,
        prevent_thread_lock=True,
        **operations.launch_kwargs,
    )
    operations.after_launch(demo)
    demo.block_thread()
    return 0


def hash_password_command(args: argparse.Namespace) -> int:  # noqa: ARG001 - every command takes its args
    """Read a password from standard input and print its hash for a users file line (`name:hash`)."""
    from playground.operations.auth import hash_password, read_password

    try:
        print(hash_password(read_password(sys.stdin, sys.stderr)))
    except ValueError as exc:
        print(f"hash-password: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    return 0


def prefetch(args: argparse.Namespace) -> int:
    """Download the catalog's models (all tabs, or --tab ones) into the Hugging Face cache."""
    from huggingface_hub import snapshot_download

    from playground.loading.hub import HUB, HubUnreachable, bound_hub_requests

    catalog = load_catalog(args.catalog)
    bound_hub_requests()
    keys = args.tab or list(catalog.tabs)
    failures = 0
    for key in keys:
        if key not in catalog.tabs:
            print(f"prefetch: no tab {key!r} in {args.catalog}", file=sys.stderr)
            return EXIT_BAD_CONFIG
        for entry in catalog.tabs[key].models:
            if entry.is_local:
                print(f"[{key}] {entry.label}: local folder, nothing to download")
                continue
            if entry.is_remote:
                print(f"[{key}] {entry.label}: served by {entry.endpoint.url}, nothing to download")
                continue
            patterns = (
                None
                if entry.allow_pickle_weights
                else ["*.json", "*.safetensors", "*.txt", "*.model", "*.py", "*.jinja", "*.tiktoken"]
            )
            if entry.task == TOKENIZER_TASK:  # the tokenizer's files, no weights
                patterns = ["*.json", "*.txt", "*.model", "*.py", "*.jinja", "*.tiktoken"]
            print(f"[{key}] {entry.label} ({entry.id}) …", flush=True)
            try:
                HUB.check(entry.id)  # a silent network fails in seconds, and at once for the next models
                path = snapshot_download(entry.id, revision=entry.revision, allow_patterns=patterns)
            except HubUnreachable as exc:
                failures += 1
                print(f"    failed: the Hugging Face Hub {exc.why['en']}", file=sys.stderr)
                continue
            except Exception as exc:  # report every model, then fail at the end
                failures += 1
                print(f"    failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            print(f"    cached in {path}")
    return 1 if failures else 0


def space_files(args: argparse.Namespace) -> int:
    """Rewrite the Space's README front matter and packages.txt from the catalog."""
    from playground.config.space import unsized_defaults, write_space_files

    catalog = load_catalog(args.catalog or default_catalog(ROOT, on_space=True))
    for path in write_space_files(ROOT, catalog):
        print(f"wrote {path}")
    unsized = unsized_defaults(catalog)
    if unsized:
        print(
            f"note: suggested_hardware ignores default models without `params`: {', '.join(unsized)}", file=sys.stderr
        )
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    on_space = running_on_space()
    parser = argparse.ArgumentParser(prog="app.py", description="Pipeline Playground")
    parser.add_argument("--catalog", default=os.environ.get("PLAYGROUND_CATALOG"))
    sub = parser.add_subparsers(dest="command")
    fetch = sub.add_parser("prefetch", help="download the catalog's models ahead of time")
    fetch.add_argument("--catalog", default=argparse.SUPPRESS)
    fetch.add_argument("--tab", action="append", help="only this tab (repeatable)")
    space = sub.add_parser(
        "space-files", help="write the Space's README front matter and packages.txt (default catalog: the Space's)"
    )
    space.add_argument("--catalog", default=argparse.SUPPRESS)
    sub.add_parser("hash-password", help="read a password from standard input and print its hash for --auth-file")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0" if on_space else "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link")
    parser.add_argument("--tabs", help="comma-separated tab keys to show (default: all in the catalog)")
    parser.add_argument(
        "--queue-size", type=int, help="requests that may wait at once (default: the catalog's queue_size)"
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override the catalog's device")
    parser.add_argument("--preload", action="store_true", help="load the default models before serving")
    parser.add_argument(
        "--mcp",
        action="store_true",
        help="also serve every endpoint as an MCP tool at /gradio_api/mcp/ (as GRADIO_MCP_SERVER=True does)",
    )
    parser.add_argument(
        "--auth-file",
        default=os.environ.get("PLAYGROUND_AUTH_FILE") or None,
        help="turn sign-in on: a file of `name:hash` lines (hashes from `app.py hash-password`)",
    )
    parser.add_argument("--metrics", action="store_true", help="serve Prometheus metrics at /metrics")
    args = parser.parse_args(argv)
    if args.queue_size is not None and args.queue_size < 1:
        parser.error("--queue-size must be at least 1")
    if args.command not in ("space-files", "hash-password"):
        args.catalog = args.catalog or str(default_catalog(ROOT, on_space))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "prefetch":
            return prefetch(args)
        if args.command == "space-files":
            return space_files(args)
        if args.command == "hash-password":
            return hash_password_command(args)
        return serve(args)
    except (CatalogError, TabContractError, AuthFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG


if __name__ == "__main__":
    sys.exit(main())
