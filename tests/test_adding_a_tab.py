"""Adding a tab is what the README's "Adding a tab" says: a folder under tabs/, one registry line and
one catalog block. A copy of the repository gets a small feature-extraction tab that way; its test
model is written by the same script as every other, and the app serves the tab: its endpoint, its
strings in both languages and its model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import yaml

from bench.common import Server, app_command

ROOT = Path(__file__).resolve().parents[1]

UI = '''
"""Feature extraction: the vector a model gives each token of a text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.web.errors import guarded
from playground.core.texts import Texts
from playground.web.ui import COMMON, TabContext, about_panel, bind, model_picker
from tabs.feature_extraction import task

TEXTS = Texts.load("feature_extraction", Path(__file__).with_name("locales"))


def embed(ctx: TabContext, text: str, model: str | None = None, progress: Any = None) -> dict[str, int]:
    """How many vectors a model gives a text, and their size.

    Args:
        text: The text to embed.
        model: A feature-extraction model of the catalog, by id or label (default: the tab's default).
    """
    task.check_text(text)
    loaded = ctx.load(model, ctx.tasks[0], progress)
    return task.shape(loaded.model(text))


def build(ctx: TabContext) -> None:
    import gradio as gr

    model = model_picker(ctx, ctx.tasks[0])
    text = gr.Textbox(label=TEXTS.ui("text"))
    run = gr.Button(COMMON.ui("run"), variant="primary")
    vectors = gr.JSON(label=TEXTS.ui("vectors"))
    handler = bind(embed, ctx, model=ctx.default_model(ctx.tasks[0]), progress=gr.Progress())
    run.click(guarded(handler, gpu=True), [text, model], vectors, api_name="embed")
    about_panel(TEXTS)
'''
TASK = '''
"""Feature-extraction task logic: no Gradio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.texts import Texts

TEXTS = Texts.load("feature_extraction.task", Path(__file__).with_name("locales"))


def check_text(text: str | None) -> None:
    if not (text or "").strip():
        raise TEXTS.error("empty")


def shape(features: Any) -> dict[str, int]:
    """The number of token vectors and their size, from the pipeline's nested lists."""
    return {"tokens": len(features[0]), "dimensions": len(features[0][0])}
'''
LOCALES = {
    "en": {
        "feature_extraction": {
            "title": "Features",
            "text": "Text",
            "vectors": "Vectors",
            "about": "The `feature-extraction` pipeline gives a vector for every token.",
        },
        "feature_extraction.task": {"empty": "Write a text first."},
    },
    "ko": {
        "feature_extraction": {
            "title": "특징 벡터",
            "text": "텍스트",
            "vectors": "벡터",
            "about": "`feature-extraction` 파이프라인은 토큰마다 벡터를 줍니다.",
        },
        "feature_extraction.task": {"empty": "먼저 텍스트를 쓰세요."},
    },
}
RECIPE = '''
"""The feature-extraction tab's test model: a tiny random-weight BERT encoder."""

from __future__ import annotations

from pathlib import Path

from transformers import BertModel

from scripts.make_test_models import Builder, CatalogEntry, Size, bert_config, bert_size_tokenizer, save


def build_feature_bert(out_dir: Path, size: Size) -> Path:
    tokenizer = bert_size_tokenizer(size)
    return save(out_dir / "feature-bert", BertModel(bert_config(size, len(tokenizer))), tokenizer)


BUILDERS: dict[str, Builder] = {"feature-bert": build_feature_bert}

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("feature-bert", "Feature BERT (test)", "feature-extraction", "Random-weight BERT encoder.", default=True),
)
'''
REGISTRY_LINE = '    TabSpec("feature_extraction", ("feature-extraction",)),\n'
CATALOG_BLOCK = {
    "models": [{"id": "bert-base-uncased", "label": "BERT base uncased", "task": "feature-extraction", "default": True}]
}


def add_feature_extraction_tab(repo: Path) -> None:
    """The three steps of the README's "Adding a tab", in a copy of the repository."""
    folder = repo / "tabs" / "feature_extraction"
    (folder / "locales").mkdir(parents=True)
    (folder / "__init__.py").write_text('"""The feature-extraction tab."""\n')
    (folder / "ui.py").write_text(textwrap.dedent(UI).lstrip())
    (folder / "task.py").write_text(textwrap.dedent(TASK).lstrip())
    (folder / "test_models.py").write_text(textwrap.dedent(RECIPE).lstrip())
    for lang, sections in LOCALES.items():
        (folder / "locales" / f"{lang}.yaml").write_text(yaml.safe_dump(sections, allow_unicode=True), encoding="utf-8")
    registry = repo / "playground" / "config" / "registry.py"
    text = registry.read_text()
    anchor = '    TabSpec("models", ()),\n'
    assert anchor in text, "the registry's last line moved: update this test and the README together"
    registry.write_text(text.replace(anchor, REGISTRY_LINE + anchor))
    catalog = repo / "models.yaml"
    shipped = yaml.safe_load(catalog.read_text())
    shipped["tabs"]["feature_extraction"] = CATALOG_BLOCK
    catalog.write_text(yaml.safe_dump(shipped, sort_keys=False, allow_unicode=True))


def test_a_tab_added_as_the_readme_says_is_served(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("app.py", "models.yaml"):
        shutil.copy(ROOT / name, repo / name)
    for name in ("playground", "tabs", "scripts", "assets"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    add_feature_extraction_tab(repo)

    # The shipped catalog with the new block is valid against the new registry.
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "from playground.config.catalog import load_catalog; "
            "print(load_catalog('models.yaml').tabs['feature_extraction'].models[0].id)",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.stdout.strip() == "bert-base-uncased", check.stderr
    # One command writes every test model, the new tab's included (found by its key).
    models = tmp_path / "models"
    subprocess.run(
        [sys.executable, str(repo / "scripts" / "make_test_models.py"), str(models), "--only", "feature-bert"],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=300,
    )
    written = yaml.safe_load((models / "models.yaml").read_text())
    assert written["tabs"]["feature_extraction"]["models"][0]["label"] == "Feature BERT (test)"

    command = [
        arg if arg != str(ROOT / "app.py") else str(repo / "app.py")
        for arg in app_command(models / "models.yaml", "--tabs", "feature_extraction")
    ]
    server = Server(command, tmp_path, "added-tab", timeout=180)
    try:
        client = server.client()
        assert "/embed" in client.view_api(return_format="dict", print_info=False)["named_endpoints"]
        assert client.predict("hello world", api_name="/embed") == {"tokens": 4, "dimensions": 32}
        with urllib.request.urlopen(server.url + "config", timeout=10) as response:
            config = response.read().decode("utf-8")
        tabs = [c["props"].get("label") for c in json.loads(config)["components"] if c["type"] == "tabitem"]
        assert any("feature_extraction.title" in str(label) for label in tabs), tabs
        assert "특징 벡터" in config and "Features" in config, "both languages' strings reach the page"
    finally:
        server.stop()
