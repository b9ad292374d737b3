"""Fine-tuning under the catalog's memory budget: the estimate of what a training needs against a real
training step's tensors, then through an app whose budget holds one toy training and not a loaded
classifier beside it: a training too big is refused with what to change, one that fits after eviction
unloads the classifier and trains, loads wait out a running training, and the hold ends with it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hostile_models as hostile
import pytest
from conftest import RunningApp, catalog_variant, launch_app
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from test_fine_tune import BASE, TOY_OPTIONS, toy_rows, write_jsonl

from playground.config.registry import FINE_TUNE_TASK
from tabs.fine_tune.memory_task import estimate_training_memory
from tabs.fine_tune.training_task import TrainingOptions, head_modules, lora_settings, with_lora

CLASSIFIER = "Sentiment DistilBERT (test)"
BROKEN = "BERT with corrupt weights"


def measured_training_step(folder: Path, tagger: bool, options: TrainingOptions) -> dict[str, int]:
    """Bytes of the weights, gradients and AdamW state after one real training step, and of the tensors
    the forward pass kept for the backward pass (weights aside)."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoModelForTokenClassification

    config = AutoConfig.from_pretrained(folder)
    model_class = AutoModelForTokenClassification if tagger else AutoModelForSequenceClassification
    model = model_class.from_pretrained(folder, num_labels=3)
    if options.lora:
        model = with_lora(model, lora_settings(config.model_type, head_modules(model), options.lora_rank, tagger))
    model.train()
    optimizer = torch.optim.AdamW([weights for weights in model.parameters() if weights.requires_grad])
    shape = (options.batch_size, options.max_length)
    ids = torch.randint(5, config.vocab_size, shape)
    labels = torch.randint(0, 3, shape if tagger else shape[:1])
    saved: dict[tuple[int, int], int] = {}

    def keep(tensor: Any) -> Any:
        saved[(tensor.data_ptr(), tensor.nbytes)] = tensor.nbytes
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
    loss.backward()
    optimizer.step()
    weights = {tensor.data_ptr(): tensor.nbytes for tensor in model.parameters()}
    return {
        "weights": sum(weights.values()),
        "gradients": sum(w.grad.nbytes for w in model.parameters() if w.grad is not None),
        "optimizer": sum(t.nbytes for state in optimizer.state.values() for t in state.values() if t.dim() > 0),
        "activations": sum(size for (pointer, _), size in saved.items() if pointer not in weights),
    }


@pytest.mark.parametrize(
    ("base", "tagger", "lora"),
    [("distilbert-mlm", False, False), ("distilbert-mlm", True, True), ("bert-mlm", False, True)],
)
def test_the_estimate_matches_a_real_training_step(test_models: Path, base: str, tagger: bool, lora: bool) -> None:
    from transformers import AutoConfig

    options = TrainingOptions(batch_size=8, max_length=64, lora=lora, lora_rank=4)
    estimate = estimate_training_memory(AutoConfig.from_pretrained(test_models / base), 3, tagger, options)
    measured = measured_training_step(test_models / base, tagger, options)
    measured_total = measured["weights"] + measured["gradients"] + measured["optimizer"]
    assert 0.9 <= estimate.parameter_bytes / measured_total <= 1.1, (estimate, measured)
    assert 0.9 <= estimate.optimizer / measured["optimizer"] <= 1.1, (estimate, measured)
    if lora:
        assert estimate.trainable * 10 < estimate.parameters, "LoRA trains a few weights"
    # The activations: the usual per-layer count against the tensors autograd really kept.
    assert 1 / 1.5 <= estimate.activations / measured["activations"] <= 1.5, (estimate, measured)
    bigger = estimate_training_memory(
        AutoConfig.from_pretrained(test_models / base), 3, tagger, TrainingOptions(batch_size=16, max_length=128)
    )
    assert bigger.activations > 5 * estimate.activations, "twice the batch and the length: attention grows fourfold"


def test_the_tab_shows_the_estimate_before_training(test_catalog: Path, tmp_path: Path) -> None:
    from playground.config.catalog import load_catalog
    from playground.config.registry import TAB_SPECS
    from playground.engines.generation_engines import Engines
    from playground.loading.model_manager import ModelManager
    from playground.web.ui import TabContext
    from tabs.fine_tune.ui import memory_estimate

    def context(budget_gb: float | None) -> TabContext:
        catalog = load_catalog(
            catalog_variant(test_catalog, tmp_path / f"{budget_gb}.yaml", memory_budget_gb=budget_gb)
        )
        spec = next(spec for spec in TAB_SPECS if spec.key == "fine_tune")
        return TabContext(
            key="fine_tune", catalog=catalog, manager=ModelManager(catalog), engines=Engines(), tasks=spec.tasks
        )

    roomy = memory_estimate(context(1.0), BASE)
    assert re.search(r"about \*\*1[0-9.]+ MB\*\*: weights .* \(a batch of 16 × 128 tokens, float32\)", roomy), roomy
    assert "Fits the memory budget: 1.00 GB of 1.00 GB is free for it" in roomy
    assert "would be refused" in memory_estimate(context(0.001), BASE, batch_size=64, max_length=256)
    assert "sets no memory budget" in memory_estimate(context(None), BASE)
    smaller = memory_estimate(context(None), BASE, batch_size=4, max_length=32, lora=True)
    # A small batch of short texts under LoRA: under a MB, the adapters' gradients a few KB.
    assert re.search(r"about \*\*\d+ KB\*\*: weights \d+ KB, gradients \d\d? KB", smaller), smaller
    assert "not a text encoder" in memory_estimate(context(None), "GPT-2 (test, not an encoder)")
    assert "not in this app's catalog" in memory_estimate(context(None), "someone/else")
    assert "batch_size must be from 1 to 64" in memory_estimate(context(None), BASE, batch_size=0)
    korean = memory_estimate(context(1.0), BASE, request=KoreanRequest())
    assert "**메모리** (추정)" in korean and "메모리 예산 안에 듭니다" in korean


class KoreanRequest:
    headers = {"accept-language": "ko-KR,ko;q=0.9"}


# ---- through the app ----


@pytest.fixture(scope="module")
def budget_app(test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The fine-tune and text classification tabs under a budget that holds a toy training (batch 16 of
    128 tokens) but not the sentiment classifier beside it."""
    from transformers import AutoConfig

    root = tmp_path_factory.mktemp("fine-tune-budget")
    models = test_catalog.parent
    toy = TrainingOptions(batch_size=TOY_OPTIONS["batch_size"], max_length=128)
    training = estimate_training_memory(AutoConfig.from_pretrained(models / "distilbert-mlm"), 2, False, toy).total
    classifier = (models / "distilbert-sentiment" / "model.safetensors").stat().st_size
    bases = [
        {"id": str(models / "distilbert-mlm"), "label": BASE, "task": FINE_TUNE_TASK, "default": True},
        # Its config reads (the estimate fits), its weights do not: the training fails once it holds memory.
        {"id": str(hostile.corrupt_weights(models, root / "corrupt")), "label": BROKEN, "task": FINE_TUNE_TASK},
    ]
    catalog = catalog_variant(
        test_catalog,
        root / "models.yaml",
        models={"fine_tune": bases},
        memory_budget_gb=(training + classifier / 2) / 2**30,
        max_loaded_models=10,
    )
    running = launch_app(catalog, root, "--tabs", "fine_tune,text_classification,models", env={"OMP_NUM_THREADS": "1"})
    running.toy = write_jsonl(root / "toy.jsonl", toy_rows(160))  # type: ignore[attr-defined]
    running.long_toy = write_jsonl(root / "long-toy.jsonl", toy_rows(400, seed=5))  # type: ignore[attr-defined]
    yield running
    running.stop()


def loaded_labels(client: Any) -> set[str]:
    return {model["label"] for model in client.predict(api_name="/loaded_models")}


def test_a_training_too_big_for_the_budget_is_refused(budget_app: RunningApp) -> None:
    client = budget_app.client()
    client.predict("a fine day", model=CLASSIFIER, api_name="/classify_text")
    big = {**TOY_OPTIONS, "batch_size": 64, "max_length": 256}
    with pytest.raises(AppError) as refused:
        client.predict(
            handle_file(str(budget_app.toy)), "sentence", "has_cat", model=BASE, api_name="/fine_tune", **big
        )
    message = str(refused.value)
    assert re.search(r"Training needs about [0-9.]+ MB of memory", message), message
    assert "a batch of 64 × 256 tokens" in message and "memory budget (" in message
    assert "Lower the batch size or the max length, turn on LoRA" in message
    with pytest.raises(AppError, match="even with LoRA"):
        client.predict(
            handle_file(str(budget_app.toy)), "sentence", "has_cat", model=BASE, api_name="/fine_tune", lora=True, **big
        )
    assert CLASSIFIER in loaded_labels(client), "a refused training unloads nothing"
    assert "Traceback" not in budget_app.log()


def test_a_training_that_fits_after_eviction_unloads_a_model_and_trains(budget_app: RunningApp) -> None:
    client = budget_app.client()
    client.predict("a fine day", model=CLASSIFIER, api_name="/classify_text")
    assert CLASSIFIER in loaded_labels(client)
    status, *_, report, _, _, model_id, _, _, _ = client.predict(
        handle_file(str(budget_app.toy)), "sentence", "has_cat", model=BASE, api_name="/fine_tune", **TOY_OPTIONS
    )
    assert "Done" in status and float(re.search(r"accuracy ([0-9.]+)", report).group(1)) >= 0.9, report
    assert CLASSIFIER not in loaded_labels(client), "the classifier made room for the training"
    # The training's hold ended with it: the classifier fits again.
    label, _, _ = client.predict("a fine day", model=CLASSIFIER, api_name="/classify_text")
    assert {item["label"] for item in label["confidences"]} == {"NEGATIVE", "POSITIVE"}
    assert CLASSIFIER in loaded_labels(client)


def test_loads_are_refused_while_a_training_holds_the_memory_and_stop_releases_it(budget_app: RunningApp) -> None:
    trainer, user = budget_app.client(), budget_app.client()
    options = {**TOY_OPTIONS, "epochs": 20}
    job = trainer.submit(
        handle_file(str(budget_app.long_toy)), "sentence", "has_cat", model=BASE, api_name="/fine_tune", **options
    )
    deadline = time.monotonic() + 120
    while not any("step" in update[0] for update in job.outputs()):
        assert not job.done() and time.monotonic() < deadline, job.outputs()[-1:] or "no update"
        time.sleep(0.2)
    status = job.outputs()[-1][0]
    assert re.search(r"\*\*Memory\*\* \(estimate\): about \*\*[0-9.]+ MB\*\*", status), status
    assert "Fits the memory budget" in status
    with pytest.raises(AppError, match=r"is held by\s+a training of DistilBERT \(test\) until it ends"):
        user.predict("a fine day", model=CLASSIFIER, api_name="/classify_text")
    trainer.predict(api_name="/stop_fine_tune")
    assert "Stopped" in job.result()[0]
    label, _, _ = user.predict("a fine day", model=CLASSIFIER, api_name="/classify_text")
    assert label["label"] in ("NEGATIVE", "POSITIVE")


def test_a_failed_training_gives_its_memory_back(budget_app: RunningApp) -> None:
    client = budget_app.client()
    with pytest.raises(AppError, match="weight files are corrupt"):
        client.predict(
            handle_file(str(budget_app.toy)), "sentence", "has_cat", model=BROKEN, api_name="/fine_tune", **TOY_OPTIONS
        )
    label, _, _ = client.predict("a fine day", model=CLASSIFIER, api_name="/classify_text")
    assert label["label"] in ("NEGATIVE", "POSITIVE")
    assert "Traceback" not in budget_app.log()
