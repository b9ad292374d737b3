"""Tab handlers are module-level functions of the tab's context and their inputs: a test calls one by
name, on a real model, without building a page; `bind` hands them to Gradio with the page's defaults."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from playground.config.catalog import load_catalog
from playground.config.registry import TAB_SPECS
from playground.core.texts import UserError
from playground.engines.generation_engines import Engines
from playground.loading.model_manager import ModelManager
from playground.web.ui import TabContext, bind


@pytest.fixture(scope="module")
def contexts(test_catalog: Path):  # noqa: ANN201
    """A TabContext per catalogued tab over the test catalog, sharing one model manager."""
    catalog = load_catalog(test_catalog)
    manager, engines = ModelManager(catalog), Engines(catalog.defaults.memory_budget_gb)
    return {
        spec.key: TabContext(key=spec.key, catalog=catalog, manager=manager, engines=engines, tasks=spec.tasks)
        for spec in TAB_SPECS
        if spec.key in catalog.tabs
    }


def test_the_fill_mask_handler_runs_by_name(contexts) -> None:  # noqa: ANN001
    from tabs.fill_mask.ui import fill_mask

    scores, sentence, note, code = fill_mask(contexts["fill_mask"], "the cat is ___ .", top_k=3)
    assert sentence == "the cat is [MASK] ." and len(scores) == 3 and note == ""
    assert "pipeline(" in code and "fill-mask" in code
    with pytest.raises(UserError, match="Write a sentence first"):
        fill_mask(contexts["fill_mask"], "  ")


def test_bind_gives_gradio_the_inputs_with_the_page_defaults(contexts) -> None:  # noqa: ANN001
    from tabs.fill_mask.ui import fill_mask

    ctx = contexts["fill_mask"]
    bound = bind(fill_mask, ctx, model=ctx.default_model("fill-mask"))
    parameters = inspect.signature(bound).parameters
    assert list(parameters)[:4] == ["text", "model", "top_k", "targets"] and "ctx" not in parameters
    assert parameters["model"].default == ctx.default_model("fill-mask") and parameters["top_k"].default == 5
    assert bound.__name__ == "fill_mask" and bound.__doc__ == fill_mask.__doc__
    _, sentence, _, _ = bound("the dog is ___ .")  # the bound default model is used
    assert sentence == "the dog is [MASK] ."
    with pytest.raises(TypeError, match="no parameter"):
        bind(fill_mask, ctx, colour="red")


def test_the_zero_shot_handler_runs_by_name(contexts) -> None:  # noqa: ANN001
    from tabs.zero_shot.ui import zero_shot_text

    scores, table, csv_path, code = zero_shot_text(
        contexts["zero_shot"], "I loved this film.", model="NLI classifier (test)", labels="positive, negative"
    )
    assert set(scores) == {"positive", "negative"} and abs(sum(scores.values()) - 1) < 1e-5
    assert table is None and csv_path is None and "zero-shot-classification" in code


def test_the_models_view_writes_endpoint_health_in_the_callers_language(test_catalog: Path) -> None:
    """The catalog table's notes column: a remote model's endpoint status in the request's language."""
    import socket

    from playground.config.catalog import parse_catalog
    from tabs.models.ui import catalog_table

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    catalog = parse_catalog(
        {
            "tabs": {
                "text_generation": {
                    "models": [
                        {
                            "id": "tiny-chat",
                            "label": "Nobody home",
                            "endpoint": {"url": f"http://127.0.0.1:{port}/v1", "max_retries": 0},
                        },
                    ]
                }
            }
        }
    )
    manager = ModelManager(catalog)
    english = catalog_table(catalog, manager, "en")["data"][0][-1]
    korean = catalog_table(catalog, manager, "ko")
    assert korean["headers"][0] != "Tab" and "연결할 수 없습니다" in korean["data"][0][-1], korean
    assert "연결할 수 없습니다" not in english and f"127.0.0.1:{port}" in english


def test_no_page_builder_defines_a_handler() -> None:
    """Every handler is a module-level function: no function nested in a tab's build() (or in the
    functions that lay out its sub-tabs), where a reader or a test could not reach it by name."""
    import ast

    root = Path(__file__).resolve().parents[1] / "tabs"
    pages = sorted(root.glob("*/*ui.py"))
    assert root / "fill_mask" / "ui.py" in pages
    nested = []
    for path in pages:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and (node.name.startswith("build") or node.name.endswith("_tab")):
                nested += [
                    f"{path.parent.name}/{path.name}: {node.name}() defines {inner.name}()"
                    for inner in ast.walk(node)
                    if inner is not node and isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef))
                ]
    assert not nested, nested


def test_the_tokenizer_handlers_run_by_name(contexts) -> None:  # noqa: ANN001
    from tabs.tokenizer.ui import compare_tokenizers, tokenize

    ctx = contexts["tokenizer"]
    html, spans, summary, table, details, code = tokenize(ctx, "How old are you?", text_pair="I'm 6 years old")
    assert details["token_type_ids"][0] == 0 and details["token_type_ids"][-1] == 1 and "AutoTokenizer" in code
    assert (
        ctx.state["tokenizers"].load(ctx.catalog, ctx.entry(None)).tokenizer
        is ctx.state["tokenizers"].load(ctx.catalog, ctx.entry(None)).tokenizer
    ), "loaded once, kept on the tab's state"
    counts, html, code = compare_tokenizers(ctx, "Hello world")
    assert len(counts) == 6
    with pytest.raises(UserError, match="Please enter some text"):
        tokenize(ctx, " ")


def test_the_embeddings_handler_runs_by_name(contexts) -> None:  # noqa: ANN001
    from tabs.embeddings.ui import embed

    vectors, similarity, projection, note, code = embed(contexts["embeddings"], "A cat.\nA dog.")
    assert len(vectors) == 2 and list(projection.columns) == ["x", "y", "input"] and "feature-extraction" in code
