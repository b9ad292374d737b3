"""Quantized models and the per-device dtype choice, through the running app and the catalog:
torchao int8 / int4 entries load and answer on this CPU (their snippets reproduce the answer),
bitsandbytes is refused with what to use instead, and a float16 entry gets the dtype this CPU runs well."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RunningApp, catalog_variant, launch_app
from gradio_client.exceptions import AppError
from snippets import run_snippet

from playground.config.catalog import CatalogError, ModelEntry, parse_catalog
from playground.loading.model_manager import ModelManager
from playground.loading.precision import choose_dtype, cpu_native_half_dtypes
from tabs.models.ui import catalog_rows

INT8 = "Llama int8 (test)"
INT4 = "Llama int4 (test)"
NF4 = "GPT-2 NF4 (test)"
HALF = "Qwen2 float16 (test)"


def text_generation_entries(test_models: Path) -> list[dict]:
    return [
        {"id": str(test_models / "llama-chat"), "label": INT8, "quantization": "int8", "default": True},
        # 128 input features: a multiple of the int4 group size, so its layers really are int4.
        {"id": str(test_models / "llama-hd64"), "label": INT4, "quantization": "int4"},
        {"id": str(test_models / "gpt2"), "label": NF4, "quantization": "bnb-nf4"},
        {"id": str(test_models / "qwen2-chat"), "label": HALF, "dtype": "float16"},
    ]


@pytest.fixture(scope="module")
def quant_app(test_catalog: Path, test_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("quantization")
    catalog = catalog_variant(
        test_catalog, root / "models.yaml", models={"text_generation": text_generation_entries(test_models)}
    )
    running = launch_app(catalog, root, "--tabs", "text_generation")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def quant_client(quant_app: RunningApp):  # noqa: ANN201
    return quant_app.client()


def _generate(client, model: str, prompt: str = "the cat") -> tuple[str, str, str]:  # noqa: ANN001
    text, stats, code, _ = client.predict(prompt, model, 8, None, None, None, None, False, 0, "", api_name="/generate")
    return text, stats, code


def _loaded(client, label: str) -> dict:  # noqa: ANN001
    return next(m for m in client.predict(api_name="/loaded_models") if m["label"] == label)


@pytest.mark.parametrize(
    "label,method,config,dtype",
    [
        (INT8, "int8", "TorchAoConfig(Int8WeightOnlyConfig())", "float32"),
        (INT4, "int4", "TorchAoConfig(PrototypeInt4WeightOnlyConfig(group_size=128))", "bfloat16"),
    ],
)
def test_torchao_entry_answers_and_its_snippet_reproduces_it(
    quant_client, test_models, label, method, config, dtype
) -> None:
    text, stats, code = _generate(quant_client, label)
    assert int(re.search(r"out (\d+)", stats).group(1)) > 0
    loaded = _loaded(quant_client, label)
    assert loaded["quantization"] == method and loaded["dtype"] == dtype
    assert loaded["load_kwargs"]["model_kwargs"]["quantization_config"] == config
    assert config in code and "from transformers import TorchAoConfig" in code
    if method == "int4":
        assert "int4 kernel takes bfloat16" in loaded["dtype_reason"] and "# dtype bfloat16" in code
    printed = ast.literal_eval(run_snippet(code, cwd=test_models).strip().splitlines()[-1])
    assert printed[0]["generated_text"] == "the cat" + text


def test_bitsandbytes_is_refused_on_cpu_with_what_to_use(quant_client) -> None:
    with pytest.raises(AppError, match=r"needs an NVIDIA GPU.*quantization: int8 or int4"):
        _generate(quant_client, NF4)


def test_float16_entry_gets_a_dtype_this_cpu_runs_well(quant_client) -> None:
    _generate(quant_client, HALF)
    loaded = _loaded(quant_client, HALF)
    if "float16" in cpu_native_half_dtypes():
        assert loaded["dtype"] == "float16" and "natively" in loaded["dtype_reason"]
    else:  # batched generation is compute-bound: float16 without native kernels would crawl
        assert loaded["dtype"] == "float32"
        assert loaded["dtype_reason"].startswith("float32 instead of float16") and "cpu_dtype" in loaded["dtype_reason"]


def test_dtype_choice_on_cpu_follows_the_model_and_the_catalog() -> None:
    native = cpu_native_half_dtypes()
    whisper = ModelEntry(id="w", task="automatic-speech-recognition", dtype="float16")
    one_stream = ModelEntry(id="l", task="text-generation", dtype="float16", max_batch_size=1)
    batched = ModelEntry(id="l", task="text-generation", dtype="bfloat16")
    if "float16" not in native:
        assert (choose_dtype(whisper, "cpu").dtype, choose_dtype(whisper, "cpu").reason) == (
            "float32",
            "cpu_not_native",
        )
        # One unbatched stream only reads weights: half precision halves that even without native kernels.
        assert (choose_dtype(one_stream, "cpu").dtype, choose_dtype(one_stream, "cpu").reason) == (
            "float16",
            "cpu_single_stream",
        )
    expected = ("bfloat16", "cpu_native") if "bfloat16" in native else ("float32", "cpu_not_native")
    assert (choose_dtype(batched, "cpu").dtype, choose_dtype(batched, "cpu").reason) == expected
    # The catalog decides when it says so; on a GPU the written dtype stands.
    overridden = ModelEntry(id="w", task="automatic-speech-recognition", dtype="float16", cpu_dtype="bfloat16")
    assert (choose_dtype(overridden, "cpu").dtype, choose_dtype(overridden, "cpu").reason) == (
        "bfloat16",
        "cpu_dtype_set",
    )
    assert choose_dtype(whisper, "cuda").dtype == "float16"


def test_models_view_notes_quantization_and_the_dtype_here(test_models) -> None:
    catalog = parse_catalog(
        {
            "defaults": {"device": "cpu"},
            "tabs": {
                "text_generation": {"models": text_generation_entries(test_models)},
                "speech_to_text": {"models": [{"id": str(test_models / "whisper"), "label": "W", "dtype": "float16"}]},
            },
        }
    )
    manager = ModelManager(catalog)
    notes = {row[1]: row[5] for row in catalog_rows(catalog, manager)}
    assert "quantization: int8" in notes[INT8] and "quantization: bnb-nf4" in notes[NF4]
    assert "here: bfloat16: the CPU int4 kernel" in notes[INT4]
    korean = {row[1]: row[5] for row in catalog_rows(catalog, manager, "ko")}
    assert "양자화: int8" in korean[INT8]
    if "float16" not in cpu_native_half_dtypes():
        assert "here: float32 instead of float16" in notes["W"]
        assert "float16 대신 float32" in korean["W"]


@pytest.mark.parametrize(
    "entry,problem",
    [
        ({"quantization": "int3"}, "quantization"),
        ({"quantization": "int8", "endpoint": {"url": "http://gpu:8000/v1"}}, "do not apply to a model served"),
        ({"cpu_dtype": "float8"}, "cpu_dtype"),
    ],
)
def test_catalog_checks_quantization_and_cpu_dtype(entry, problem) -> None:
    with pytest.raises(CatalogError, match=problem):
        parse_catalog({"tabs": {"text_generation": {"models": [{"id": "org/model", **entry}]}}})
