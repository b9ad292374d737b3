"""Sharing a fine-tuned model: its model card, written from the run, and the upload to the Hub.

The upload sends the model folder (weights, config with the labels, tokenizer, card) to a model
repository with the user's own token, private unless asked otherwise; the rows the model learnt from
stay here (they are the user's data, and the card says they were not uploaded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.texts import Texts
from tabs.fine_tune.task import Scores
from tabs.fine_tune.training_task import DATA_FILE, TrainingOptions

TEXTS = Texts.load("fine_tune.task", Path(__file__).with_name("locales"))

CARD_FILE = "README.md"
# owner/name, as the Hub allows them (letters, digits, "-", "_", "."; no leading punctuation).
REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")


@dataclass(frozen=True)
class RunFacts:
    """What a model card says about a run."""

    base_id: str
    base_is_hub_model: bool
    data_name: str
    label_names: list[str]
    train_rows: int
    validation_rows: int
    options: TrainingOptions
    scores: Scores
    stopped: bool
    # The pipeline task learnt; a tagger's label_names are its entity types.
    task: str = "text-classification"


def model_card(facts: RunFacts, model_ref: str) -> str:
    """A Hub model card (README.md with YAML front matter) for the run; `model_ref` is what
    `pipeline(model=...)` loads it from (the repo id once uploaded)."""
    tagger = facts.task == "token-classification"
    front = ["---", "library_name: transformers", f"pipeline_tag: {facts.task}"]
    if facts.base_is_hub_model:
        front.append(f"base_model: {facts.base_id}")
    front += ["tags:", f"- {facts.task}", "- pipeline-playground", "metrics:", "- accuracy", "- f1", "---"]
    names = ", ".join(f"`{name}`" for name in facts.label_names)
    scores = facts.scores
    options = facts.options
    rows = [
        f"| {name.replace('|', '/')} | {scores.precision[i]:.3f} | {scores.recall[i]:.3f} | {scores.f1[i]:.3f} | "
        f"{scores.support[i]} |"
        for i, name in enumerate(facts.label_names)
    ]
    stopped = " Training was stopped before the last planned step." if facts.stopped else ""
    body = [
        f"# {model_ref.rstrip('/').split('/')[-1]}",
        "",
        f"`{facts.base_id}` fine-tuned to "
        + (
            f"tag {len(facts.label_names)} entity types: {names}."
            if tagger
            else f"sort texts into {len(facts.label_names)} labels: {names}."
        )
        + " Trained with "
        f"transformers' `Trainer` in the Fine-tune tab of Pipeline Playground.{stopped}",
        "",
        "## Data",
        "",
        f"{facts.data_name}: {facts.train_rows + facts.validation_rows} labelled rows, {facts.train_rows} to "
        f"train on and {facts.validation_rows} held out for validation "
        f"({'a random' if tagger else 'a stratified'} split, seed {options.seed}). "
        f"The rows themselves were not uploaded.",
        "",
        "## Results on the validation rows",
        "",
        ("Word accuracy" if tagger else "Accuracy")
        + f" {scores.accuracy:.3f}, "
        + ("entity macro F1" if tagger else "macro F1")
        + f" {scores.f1_macro:.3f}. The checkpoint with the lowest "
        "validation loss was kept.",
        "",
        "| entity type | precision | recall | F1 | entities |"
        if tagger
        else "| label | precision | recall | F1 | rows |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        "## Training settings",
        "",
        "| setting | value |",
        "|---|---|",
        f"| epochs | {options.epochs} |",
        f"| learning rate | {options.learning_rate:g} (AdamW, linear decay) |",
        f"| batch size | {options.batch_size} |",
        f"| max length | {options.max_length} tokens |",
        f"| warm-up | {options.warmup:g} of the steps |",
        f"| weight decay | {options.weight_decay:g} |",
        f"| validation share | {options.validation_share:g} |",
        f"| seed | {options.seed} |",
        *(
            [
                f"| LoRA (peft) | rank {options.lora_rank}, alpha {2 * options.lora_rank}; adapters merged into the weights |"
            ]
            if options.lora
            else []
        ),
        "",
        "## Use",
        "",
        "```python",
        "from transformers import pipeline",
        "",
        f"model = pipeline({facts.task!r}, model={model_ref!r}"
        + (", aggregation_strategy='simple')" if tagger else ")"),
        "print(model('Your text here'" + (")" if tagger else ", top_k=None)"),
        "```",
    ]
    return "\n".join(front + [""] + body) + "\n"


def check_repo_id(repo_id: str | None) -> str:
    repo_id = (repo_id or "").strip()
    if not REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise TEXTS.error("bad_repo_id", value=repo_id)
    return repo_id


def push(folder: Path, repo_id: str, token: str, private: bool) -> str:
    """Create the repository (if needed) and upload the model folder, less the training rows; its URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    from playground.loading.hub import bound_hub_requests, network_failure, offline

    if offline():
        raise TEXTS.error("push_offline")
    token = (token or "").strip()
    if not token:
        raise TEXTS.error("push_no_token")
    bound_hub_requests()
    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            ignore_patterns=[DATA_FILE],
            commit_message="Fine-tuned in Pipeline Playground",
        )
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status == 401:
            raise TEXTS.error("push_token_refused") from None
        if status == 403:
            raise TEXTS.error("push_forbidden", repo=repo_id) from None
        raise TEXTS.error("push_failed", status=status, detail=_first_line(exc)) from None
    except Exception as exc:
        if network_failure(exc):
            raise TEXTS.error("push_unreachable") from None
        raise
    return str(url)


def _first_line(exc: Any) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]
