"""Linear layers packed for the CPU (playground.loading.packed_linears): a packed layer computes what
nn.Linear does; the manager packs a float32 text-generation model on the CPU and leaves every other
model alone (quantized, device map, half precision, opted out, another task); parameters stay the
model's, its size and the budget's estimate include the tied output layer's packed copy; the
launched app says so in the Models view and the generation stats, and its snippet packs the same way."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from snippets import run_snippet

from playground.config.catalog import Catalog
from playground.loading.hub import estimate_weight_bytes, tied_output_bytes
from playground.loading.load_errors import ModelLoadError
from playground.loading.model_manager import ModelManager
from playground.loading.packed_linears import PackedLinear, pack_linears

CHAT = "Llama chat (test)"


@pytest.mark.parametrize("rows", [1, 4, 16])
@pytest.mark.parametrize("bias", [True, False])
def test_a_packed_layer_computes_what_nn_linear_does(rows: int, bias: bool) -> None:
    torch.manual_seed(rows)
    linear = torch.nn.Linear(96, 160, bias=bias)
    packed = PackedLinear(linear)
    with torch.no_grad():
        for inputs in (torch.randn(rows, 96), torch.randn(rows, 3, 96), torch.randn(rows, 1, 96)):
            expected = linear(inputs)
            got = packed(inputs)
            assert got.shape == expected.shape
            torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert packed.packed_weight.is_mkldnn
    assert [name for name, _ in packed.named_parameters()] == (["bias"] if bias else [])


def test_pack_linears_replaces_exactly_the_nn_linear_modules() -> None:
    class Special(torch.nn.Linear):
        """A subclass with a kernel of its own (as quantized layers are): never packed."""

    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), Special(8, 8), torch.nn.Linear(8, 2))
    assert pack_linears(model) == 2
    assert [type(module).__name__ for module in model] == ["PackedLinear", "ReLU", "Special", "PackedLinear"]


def manager_for(test_models: Path, budget_gb: float | None = None, **settings: object) -> ModelManager:
    entry = {"id": str(test_models / "llama-chat"), "label": CHAT, "task": "text-generation", **settings}
    catalog = Catalog.model_validate(
        {"defaults": {"memory_budget_gb": budget_gb}, "tabs": {"text_generation": {"models": [entry]}}}
    )
    return ModelManager(catalog, device="cpu")


def linear_types(loaded) -> set[str]:  # noqa: ANN001
    model = loaded.model.model
    return {type(module).__name__ for module in model.modules() if isinstance(module, (torch.nn.Linear, PackedLinear))}


def test_a_float32_text_generation_model_on_the_cpu_is_packed(test_models: Path) -> None:
    packed = manager_for(test_models).get("text_generation", CHAT)
    dense = manager_for(test_models, cpu_packed_linears=False).get("text_generation", CHAT)
    assert linear_types(packed) == {"PackedLinear"} and linear_types(dense) == {"Linear"}
    layers = sum(type(module) is torch.nn.Linear for module in dense.model.model.modules())
    assert packed.packed_linears == layers and dense.packed_linears == 0
    # Packed weights are buffers, yet the model's parameters all the same; the tied output layer's copy
    # is memory on top (its weight is the input embeddings', which the lookup still reads).
    assert packed.parameters == dense.parameters
    config = json.loads((test_models / "llama-chat" / "config.json").read_text())
    assert config["tie_word_embeddings"]
    head = config["vocab_size"] * config["hidden_size"] * 4
    assert packed.resident_bytes == pytest.approx(dense.resident_bytes + head, rel=0.02)
    assert tied_output_bytes(packed.entry, packed.source) == head
    # The same greedy text either way (the last bits of the logits may differ, not the argmax here).
    options = dict(max_new_tokens=12, do_sample=False)
    assert packed.model("the cat sat", **options) == dense.model("the cat sat", **options)
    summary = packed.summary("ko")
    assert summary["packed_linears"] == layers and "oneDNN" in summary["packed_linears_note"]
    assert dense.summary()["packed_linears_note"] == ""


@pytest.mark.parametrize(
    "settings",
    [
        {"cpu_packed_linears": False},
        {"quantization": "int8"},
        {"device_map": "auto"},
        {"dtype": "bfloat16", "cpu_dtype": "bfloat16"},
        {"dtype": "float16", "cpu_dtype": "float16"},
    ],
    ids=["opted-out", "quantized", "device-map", "bfloat16", "float16"],
)
def test_models_that_are_not_plain_float32_on_the_cpu_are_left_alone(test_models: Path, settings: dict) -> None:
    manager = manager_for(test_models, **settings)
    loaded = manager.get("text_generation", CHAT)
    assert loaded.packed_linears == 0
    assert not any(isinstance(module, PackedLinear) for module in loaded.model.model.modules())
    assert json.loads(manager.cache_key(loaded.entry))["packed_linears"] is False


def test_other_tasks_are_not_packed(test_models: Path) -> None:
    catalog = Catalog.model_validate(
        {"tabs": {"fill_mask": {"models": [{"id": str(test_models / "bert-mlm"), "task": "fill-mask"}]}}}
    )
    loaded = ModelManager(catalog, device="cpu").get("fill_mask", None)
    assert loaded.packed_linears == 0
    assert any(type(module) is torch.nn.Linear for module in loaded.model.model.modules())


def test_the_cache_key_and_the_budget_count_the_packing(test_models: Path) -> None:
    packed, dense = manager_for(test_models), manager_for(test_models, cpu_packed_linears=False)
    entry = packed.entry_for("text_generation", CHAT)
    assert packed.cache_key(entry) != dense.cache_key(dense.entry_for("text_generation", CHAT))
    # A budget the dense weights fit in but not with the tied output layer's packed copy.
    weights = estimate_weight_bytes(entry, str(test_models / "llama-chat"), "float32")
    budget_gb = (weights + tied_output_bytes(entry, str(test_models / "llama-chat")) / 2) / 2**30
    with pytest.raises(ModelLoadError) as refused:
        manager_for(test_models, budget_gb).get("text_generation", CHAT)
    assert refused.value.reason == "over_budget"
    assert (
        manager_for(test_models, budget_gb, cpu_packed_linears=False).get("text_generation", CHAT).packed_linears == 0
    )


def test_the_models_catalog_table_notes_which_entries_are_packed(test_models: Path) -> None:
    from tabs.models.ui import catalog_rows

    for settings, noted in (({}, True), ({"cpu_packed_linears": False}, False), ({"quantization": "int8"}, False)):
        manager = manager_for(test_models, **settings)
        for lang, note in (("en", "linear layers packed for the CPU"), ("ko", "CPU용으로 재배치한 선형 층")):
            [row] = catalog_rows(manager.catalog, manager, lang)
            assert (note in row[-1]) is noted, (settings, row)


def test_the_app_says_the_layers_are_packed_and_its_snippet_packs_the_same(client, test_models) -> None:  # noqa: ANN001
    text, stats, code, _ = client.predict("the cat", CHAT, max_new_tokens=8, do_sample=False, api_name="/generate")
    assert text and "linear layers packed for the CPU" in stats
    loaded = next(m for m in client.predict(api_name="/loaded_models") if m["label"] == CHAT)
    assert loaded["packed_linears"] > 0 and "oneDNN" in loaded["packed_linears_note"]
    assert "pack_linears(pipe.model)" in code and "_reorder_linear_weight" in code
    printed = run_snippet(code, cwd=test_models).strip().splitlines()[-1]
    assert re.search(r"'generated_text': '(.*)'", printed).group(1) == "the cat" + text
