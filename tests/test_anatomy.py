"""The Model anatomy tab through the running app: parameter counts that add up, body and head, the
weights transformers newly initialises for a head on a body-only checkpoint, tied weights, AutoBackbone
feature maps, the snippet's numbers, and bad inputs."""

from __future__ import annotations

import ast
import json
import urllib.request
from pathlib import Path

import pytest
from conftest import catalog_variant
from gradio_client.exceptions import AppError
from snippets import run_snippet

MINILM = "MiniLM body (test)"
CLASSIFIER = "BERT classifier (test)"
GPT2 = "GPT-2 (test)"
RESNET = "ResNet (test)"


def top_level(tree: dict) -> list[list]:
    """The module tree's top-level rows (depth 1), as [module, class, parameters, %, part]."""
    return [[row[0], row[1], *row[3:]] for row in tree["data"] if row[2] == 1]


def test_the_parameters_of_the_top_level_blocks_add_up_to_the_model(client, test_models: Path) -> None:
    from transformers import BertForSequenceClassification

    facts, tree, summary, maps, code = client.predict(CLASSIFIER, "", None, 2, api_name="/model_anatomy")
    expected = BertForSequenceClassification.from_pretrained(test_models / "bert-emotions").num_parameters()
    rows = top_level(tree)
    assert tree["headers"] == ["module", "class", "depth", "parameters", "%", "part"]
    assert sum(row[2] for row in rows) == facts["num_parameters"] == expected
    parts = {row[0]: row[4] for row in rows}
    assert parts == {"bert": "body", "dropout": "head", "classifier": "head"}
    assert facts["class"] == "BertForSequenceClassification" and facts["body"] == "bert"
    config = json.loads((test_models / "bert-emotions" / "config.json").read_text())
    assert facts["model_type"] == "bert"
    assert facts["num_hidden_layers"] == config["num_hidden_layers"]
    assert facts["num_attention_heads"] == config["num_attention_heads"]
    assert facts["vocab_size"] == config["vocab_size"]
    assert facts["id2label"] == config["id2label"]
    assert facts["newly_initialized"] == []
    # Deeper rows: the encoder, one level under the body.
    assert ["bert.encoder", "BertEncoder", 2] == next(row[:3] for row in tree["data"] if row[0] == "bert.encoder")
    assert sum(m["values"] for m in facts["memory"] if m["dtype"] == "float32") == expected


def test_a_head_on_a_body_only_checkpoint_is_newly_initialised(client, test_models: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    facts, tree, summary, maps, code = client.predict(MINILM, "", None, 1, api_name="/model_anatomy")
    assert facts["class"] == "BertModel" and facts["newly_initialized"] == []
    assert {row[4] for row in top_level(tree)} == {"body"}
    assert "no head" in summary

    facts, tree, summary, maps, code = client.predict(
        MINILM, "AutoModelForSequenceClassification", None, 1, api_name="/model_anatomy"
    )
    catalog = Path(facts_source(test_models, MINILM))
    model, info = AutoModelForSequenceClassification.from_pretrained(catalog, output_loading_info=True)
    assert facts["newly_initialized"] == sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]
    assert facts["class"] == "BertForSequenceClassification"
    assert "Newly initialized weights" in summary and "`classifier.weight`" in summary
    assert sum(row[2] for row in top_level(tree)) == facts["num_parameters"] == model.num_parameters()


def facts_source(test_models: Path, label: str) -> str:
    """The folder of a test-catalog model of the anatomy tab."""
    import yaml

    catalog = yaml.safe_load((test_models / "models.yaml").read_text())
    entry = next(m for m in catalog["tabs"]["anatomy"]["models"] if m["label"] == label)
    return entry["id"] if not entry["id"].startswith("./") else str(test_models / entry["id"][2:])


def test_tied_weights_are_counted_once(client, test_models: Path) -> None:
    from transformers import GPT2LMHeadModel

    facts, tree, summary, maps, code = client.predict(GPT2, api_name="/model_anatomy")
    rows = {row[0]: row for row in top_level(tree)}
    assert rows["lm_head"][2] == 0 and rows["transformer"][4] == "body" and rows["lm_head"][4] == "head"
    assert facts["num_parameters"] == GPT2LMHeadModel.from_pretrained(test_models / "gpt2").num_parameters()
    assert "`lm_head.weight` = `transformer.wte.weight`" in summary


@pytest.mark.parametrize(("model", "folder"), [(RESNET, "resnet"), ("Swin (test)", "swin")])
def test_a_vision_backbone_shows_a_feature_map_per_stage(client, test_models: Path, model, folder) -> None:
    from PIL import Image
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_BACKBONE_MAPPING

    facts, tree, summary, maps, code = client.predict(model, api_name="/model_anatomy")
    config = AutoConfig.from_pretrained(test_models / folder)
    backbone = MODEL_FOR_BACKBONE_MAPPING[type(config)].from_pretrained(
        test_models / folder, out_features=config.stage_names[1:]
    )
    assert [item["caption"].split(":")[0] for item in maps] == backbone.out_features == config.stage_names[1:]
    channels = [int(item["caption"].split(": ")[1].split(" ×")[0]) for item in maps]
    assert channels == backbone.channels
    assert Image.open(maps[0]["image"]).size == (160, 160)
    assert "MODEL_FOR_BACKBONE_MAPPING" in code


def test_the_snippet_prints_the_apps_numbers(client, test_models: Path) -> None:
    facts, tree, summary, maps, code = client.predict(
        MINILM, "AutoModelForSequenceClassification", None, 1, api_name="/model_anatomy"
    )
    lines = run_snippet(code, cwd=test_models).strip().splitlines()
    printed_new = ast.literal_eval(
        next(line for line in lines if line.startswith("newly initialized:")).split(":", 1)[1].strip()
    )
    blocks = ast.literal_eval(next(line for line in lines if line.startswith("{")))
    total = int(next(line for line in lines if line.startswith("total")).split()[1])
    assert printed_new == facts["newly_initialized"]
    assert blocks == {row[0]: row[2] for row in top_level(tree) if row[2]}
    assert total == facts["num_parameters"]


def test_the_backbone_snippet_runs_offline(client, test_models: Path) -> None:
    from playground.media.images import EXAMPLES_DIR

    facts, tree, summary, maps, code = client.predict(RESNET, api_name="/model_anatomy")
    code = code.replace("your_image.png", "house.png")
    # The model path is relative to the test catalog: run beside the models.
    shapes = (
        run_snippet(code, files={"house.png": EXAMPLES_DIR / "house.png"}, cwd=test_models).strip().splitlines()[-4:]
    )
    assert [line.split()[0] for line in shapes] == ["stage1", "stage2", "stage3", "stage4"]
    assert [ast.literal_eval(line.split(" ", 1)[1])[1] for line in shapes] == [
        int(item["caption"].split(": ")[1].split(" ×")[0]) for item in maps
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (MINILM, "BertForEverything"),
            "'BertForEverything' is not one of: , AutoModel, AutoModelForSequenceClassification",
        ),
        (
            (RESNET, "AutoModelForMaskedLM"),
            r"AutoModelForMaskedLM has no class for this model's architecture \(resnet\)",
        ),
        (("no-such/model", ""), "not in this app's catalog"),
        ((MINILM, "", None, 9), "depth: 9 is above the maximum of 4"),
    ],
)
def test_bad_inputs_get_a_clear_message(client, args, message) -> None:
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/model_anatomy")


def test_a_model_over_the_budget_is_refused_before_loading(test_catalog: Path, tmp_path: Path) -> None:
    from playground.config.catalog import load_catalog
    from playground.engines.generation_engines import Engines
    from playground.loading.model_manager import ModelManager
    from playground.web.ui import TabContext
    from tabs.anatomy.ui import model_anatomy

    catalog = load_catalog(catalog_variant(test_catalog, tmp_path / "models.yaml", memory_budget_gb=0.01))
    manager = ModelManager(catalog)
    ctx = TabContext(key="anatomy", catalog=catalog, manager=manager, engines=Engines(0.01), tasks=("model-anatomy",))
    with pytest.raises(Exception, match="memory budget|budget"):
        model_anatomy(ctx, MINILM)
    assert manager.loaded() == []


def test_a_model_split_by_a_device_map_shows_the_map(test_models: Path, test_catalog: Path, tmp_path: Path) -> None:
    from playground.config.catalog import load_catalog
    from playground.engines.generation_engines import Engines
    from playground.loading.model_manager import ModelManager
    from playground.web.ui import TabContext
    from tabs.anatomy.ui import model_anatomy

    entry = {
        "id": str(test_models / "bert-emotions"),
        "label": "BERT split",
        "task": "model-anatomy",
        "default": True,
        "device_map": "auto",
        "max_memory": {"cpu": "120KB"},
        "offload_folder": str(tmp_path / "offload"),
    }
    catalog = load_catalog(catalog_variant(test_catalog, tmp_path / "models.yaml", models={"anatomy": [entry]}))
    ctx = TabContext(
        key="anatomy", catalog=catalog, manager=ModelManager(catalog), engines=Engines(None), tasks=("model-anatomy",)
    )
    facts, tree, summary, maps, code = model_anatomy(ctx, None, "", None, 1)
    assert "Split across devices by accelerate's device map" in summary and "disk" in summary
    assert "meta (offloaded)" in {row["device"] for row in facts["memory"]}
    assert tree[tree["depth"] == 1]["parameters"].sum() == facts["num_parameters"]
    assert "device_map='auto'" in code and "max_memory={'cpu': '120KB'}" in code


def test_the_model_alone_answers_and_the_tab_sits_in_its_group(app, client) -> None:
    facts, tree, summary, maps, code = client.predict(api_name="/model_anatomy")
    assert facts["class"] == "BertModel"
    with urllib.request.urlopen(app.url + "config", timeout=10) as response:
        config = json.load(response)
    tabs = {c["props"].get("id"): c["id"] for c in config["components"] if c["type"] == "tabitem"}
    assert "group-inside" in tabs and "anatomy" in tabs

    def children(node: dict) -> list:
        return [child for item in node.get("children", []) for child in [item, *children(item)]]

    group = next(node for node in children(config["layout"]) if node["id"] == tabs["group-inside"])
    assert tabs["anatomy"] in {node["id"] for node in children(group)}
