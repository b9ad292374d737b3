"""The model manager on real (tiny, random-weight) models: resolution, caching, eviction, failures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import threading
import weakref
from pathlib import Path

import pytest

from playground.config.catalog import ModelEntry, parse_catalog
from playground.loading.load_errors import ModelLoadError, UnknownModelError
from playground.loading.model_manager import ModelManager
from playground.loading.precision import choose_dtype


def catalog_for(models_dir: Path, **defaults):  # noqa: ANN201
    data = {
        "defaults": {"device": "cpu", **defaults},
        "tabs": {
            "fill_mask": {
                "models": [
                    {"id": str(models_dir / "bert-mlm"), "label": "BERT", "default": True},
                    {"id": str(models_dir / "roberta-mlm"), "label": "RoBERTa"},
                ]
            },
            "image_classification": {"models": [{"id": str(models_dir / "vit"), "label": "ViT"}]},
            "text_generation": {"models": [{"id": str(models_dir / "llama-chat"), "label": "Llama"}]},
        },
    }
    return parse_catalog(data)


def test_dtype_and_device_resolution(test_models: Path) -> None:
    assert choose_dtype(ModelEntry(id="m"), "cpu").dtype == "float32"
    assert choose_dtype(ModelEntry(id="m"), "mps").dtype == "float16"
    assert choose_dtype(ModelEntry(id="m", dtype="bfloat16"), "mps").dtype == "bfloat16"
    manager = ModelManager(catalog_for(test_models), device="auto")
    assert manager.device == "cpu"  # no accelerator on this machine
    loaded = manager.get("fill_mask")
    assert loaded.device == "cpu" and loaded.dtype == "float32"
    assert loaded.parameters > 0 and loaded.resident_bytes > 0 and loaded.load_seconds > 0
    assert str(loaded.model.model.dtype) == "torch.float32"


def test_explicit_dtype_is_applied(test_models: Path) -> None:
    catalog = catalog_for(test_models)
    catalog.tabs["fill_mask"].models[0].dtype = "bfloat16"
    loaded = ModelManager(catalog).get("fill_mask")
    assert str(loaded.model.model.dtype) == "torch.bfloat16" and loaded.dtype == "bfloat16"


def test_cache_hit_by_id_or_label(test_models: Path) -> None:
    manager = ModelManager(catalog_for(test_models))
    first = manager.get("fill_mask", "BERT")
    second = manager.get("fill_mask", str(test_models / "bert-mlm"))
    third = manager.get("fill_mask")
    assert first is second is third and manager.load_count == 1


def test_lru_eviction_frees_the_model(test_models: Path) -> None:
    manager = ModelManager(catalog_for(test_models, max_loaded_models=2))
    bert = manager.get("fill_mask", "BERT")
    weights = weakref.ref(bert.model.model)
    manager.get("fill_mask", "RoBERTa")
    manager.get("fill_mask", "BERT")  # BERT is now the most recent; RoBERTa the oldest
    manager.get("image_classification")
    labels = [m["label"] for m in manager.loaded()]
    assert labels == ["ViT", "BERT"]
    manager.get("fill_mask", "RoBERTa")
    assert [m["label"] for m in manager.loaded()] == ["RoBERTa", "ViT"]
    del bert
    assert weights() is None, "an evicted model must not stay referenced"


def test_memory_budget_evicts_and_refuses_oversized(test_models: Path) -> None:
    bert_bytes = ModelManager(catalog_for(test_models)).get("fill_mask").resident_bytes
    budget_gb = bert_bytes * 1.5 / 2**30
    manager = ModelManager(catalog_for(test_models, memory_budget_gb=budget_gb, max_loaded_models=10))
    manager.get("fill_mask", "BERT")
    manager.get("image_classification")  # ViT is small: fits beside BERT? only if under budget
    total = sum(m["size_mb"] for m in manager.loaded()) * 2**20
    assert total <= budget_gb * 2**30 * 1.01
    tiny = ModelManager(catalog_for(test_models, memory_budget_gb=1e-6))
    with pytest.raises(ModelLoadError) as info:
        tiny.get("fill_mask")
    assert info.value.reason == "over_budget" and "memory budget" in str(info.value)
    assert tiny.loaded() == []


def test_concurrent_first_requests_load_once(test_models: Path) -> None:
    manager = ModelManager(catalog_for(test_models))
    results = []
    threads = [threading.Thread(target=lambda: results.append(manager.get("text_generation"))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert manager.load_count == 1 and len({id(r) for r in results}) == 1


def test_failed_load_is_not_cached_and_can_be_retried(test_models: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bert-copy"
    shutil.copytree(test_models / "bert-mlm", folder)
    weights = folder / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[:100])  # truncated download
    catalog = parse_catalog({"defaults": {"device": "cpu"}, "tabs": {"fill_mask": {"models": [{"id": str(folder)}]}}})
    manager = ModelManager(catalog)
    with pytest.raises(ModelLoadError) as info:
        manager.get("fill_mask")
    assert info.value.reason == "corrupt" and "corrupt" in str(info.value)
    assert manager.loaded() == []
    weights.write_bytes(good)
    assert manager.get("fill_mask").parameters > 0


def test_missing_weights_and_missing_folder(test_models: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no-weights"
    shutil.copytree(test_models / "bert-mlm", folder)
    (folder / "model.safetensors").unlink()
    catalog = parse_catalog(
        {
            "defaults": {"device": "cpu"},
            "tabs": {
                "fill_mask": {
                    "models": [
                        {"id": str(folder), "label": "NoWeights", "default": True},
                        {"id": str(tmp_path / "absent"), "label": "Absent"},
                    ]
                }
            },
        }
    )
    manager = ModelManager(catalog)
    with pytest.raises(ModelLoadError) as info:
        manager.get("fill_mask", "NoWeights")
    assert info.value.reason in ("missing_files", "no_safetensors"), str(info.value)
    with pytest.raises(ModelLoadError) as info:
        manager.get("fill_mask", "Absent")
    assert info.value.reason == "not_found" and "does not exist" in str(info.value)


def test_offline_hub_model_not_in_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    catalog = parse_catalog(
        {"defaults": {"device": "cpu"}, "tabs": {"fill_mask": {"models": [{"id": "google-bert/bert-base-uncased"}]}}}
    )
    manager = ModelManager(catalog)
    assert not manager.is_cached(catalog.default_model("fill_mask"))
    with pytest.raises(ModelLoadError) as info:
        manager.get("fill_mask")
    assert info.value.reason == "not_cached", str(info.value)
    assert "prefetch" in str(info.value)


def test_unknown_and_custom_models(test_models: Path) -> None:
    manager = ModelManager(catalog_for(test_models))
    with pytest.raises(UnknownModelError, match="not in this app's catalog"):
        manager.get("fill_mask", "someone/huge-model")
    open_catalog = catalog_for(test_models, allow_custom_models=True)
    entry = ModelManager(open_catalog).entry_for("fill_mask", "someone/model")
    assert entry.id == "someone/model" and entry.trust_remote_code is False and not entry.is_local
    with pytest.raises(UnknownModelError, match="not a Hugging Face Hub model id"):
        ModelManager(open_catalog).entry_for("fill_mask", "../../etc/passwd")
    with pytest.raises(UnknownModelError):
        ModelManager(open_catalog).entry_for("fill_mask", "/etc")


def test_unload(test_models: Path) -> None:
    manager = ModelManager(catalog_for(test_models))
    manager.get("fill_mask")
    manager.get("image_classification")
    assert manager.unload("ViT") == ["ViT"]
    assert [m["label"] for m in manager.loaded()] == ["BERT"]
    assert manager.unload("nothing") == []
    assert manager.unload("all") == ["BERT"] and manager.loaded() == []


def test_device_map_with_tiny_max_memory_offloads_and_matches(test_models: Path, tmp_path: Path) -> None:
    import torch

    plain = ModelManager(catalog_for(test_models)).get("text_generation")
    catalog = parse_catalog(
        {
            "defaults": {"device": "cpu"},
            "tabs": {
                "text_generation": {
                    "models": [
                        {
                            "id": str(test_models / "llama-chat"),
                            "device_map": "auto",
                            "max_memory": {"cpu": "290KB"},
                            "offload_folder": str(tmp_path / "offload"),
                        }
                    ]
                }
            },
        }
    )
    offloaded = ModelManager(catalog).get("text_generation")
    assert offloaded.device_map and "disk" in set(map(str, offloaded.device_map.values()))
    assert offloaded.resident_bytes < plain.resident_bytes
    tokenizer = plain.model.tokenizer
    inputs = tokenizer("hello world", return_tensors="pt")
    with torch.inference_mode():
        a = plain.model.model.generate(**inputs, max_new_tokens=8, do_sample=False)
        b = offloaded.model.model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert a.tolist() == b.tolist()


def test_max_memory_too_small_for_any_layer_is_explained(test_models: Path, tmp_path: Path) -> None:
    catalog = parse_catalog(
        {
            "defaults": {"device": "cpu"},
            "tabs": {
                "text_generation": {
                    "models": [
                        {
                            "id": str(test_models / "llama-chat"),
                            "device_map": "auto",
                            "max_memory": {"cpu": "1KB"},
                            "offload_folder": str(tmp_path / "offload"),
                        }
                    ]
                }
            },
        }
    )
    manager = ModelManager(catalog)
    with pytest.raises(ModelLoadError) as info:
        manager.get("text_generation")
    assert info.value.reason == "out_of_memory" and "max_memory" in str(info.value)
    assert manager.loaded() == []


def test_the_first_load_says_it_imports_torch_and_transformers(test_catalog: Path) -> None:
    """In a fresh process the first load spends seconds importing torch and transformers: its progress
    says so (in every language) before "Loading …", and later loads go straight to loading."""
    script = textwrap.dedent(f"""
        import json, sys
        from playground.config.catalog import load_catalog
        from playground.loading.model_manager import ModelManager
        manager = ModelManager(load_catalog({str(test_catalog)!r}))
        for tab in ("fill_mask", "text_classification"):
            seen = []
            manager.get(tab, progress=lambda fraction, message: seen.append(message))
            print(json.dumps(seen, ensure_ascii=False))
    """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=180,
        check=True,
    )
    first, second = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    assert first[0] == {
        "en": "Importing torch and transformers (first use)…",
        "ko": "torch와 transformers를 불러오는 중(처음 한 번)…",
    }
    assert first[1]["en"].startswith("Loading ")
    assert second[0]["en"].startswith("Loading ")


def test_memory_held_beside_the_cache_counts_against_the_budget(test_models: Path) -> None:
    bert_bytes = ModelManager(catalog_for(test_models)).get("fill_mask").resident_bytes
    budget = int(bert_bytes * 3)
    manager = ModelManager(catalog_for(test_models, memory_budget_gb=budget / 2**30, max_loaded_models=10))
    manager.get("fill_mask", "BERT")
    label = {"en": "a training", "ko": "학습"}
    assert manager.hold_memory(label, budget + 1) is None, "more than the whole budget: refused"
    assert [m["label"] for m in manager.loaded()] == ["BERT"], "a refused hold unloads nothing"
    hold = manager.hold_memory(label, budget - bert_bytes // 2)
    assert hold is not None and manager.loaded() == [], "BERT is unloaded to make room"
    assert manager.budget_left() == (bert_bytes // 2, budget)
    assert manager.held_bytes() == budget - bert_bytes // 2
    with pytest.raises(ModelLoadError) as info:
        manager.get("fill_mask", "BERT")
    assert info.value.reason == "over_budget" and "held by a training until it ends" in str(info.value)
    assert "학습" in info.value.in_language("ko") and manager.loaded() == []
    manager.release_hold(hold)
    manager.release_hold(hold)  # a second release does nothing
    assert manager.budget_left() == (budget, budget) and manager.held_bytes() == 0
    manager.get("fill_mask", "BERT")
    assert [m["label"] for m in manager.loaded()] == ["BERT"]
