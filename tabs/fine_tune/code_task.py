"""The "show code" scripts of a fine-tuning run: the same training with `Trainer`, and the same
training as a plain PyTorch loop (DataLoader, AdamW, a linear schedule with warm-up) without it.

Both read the rows the app trained on (`data.jsonl`, saved beside the model and in the download) and
split them as the app did (`datasets`' `train_test_split` with the run's seed, stratified by label for a
classifier), so the Trainer script reproduces the run and the loop shows what the Trainer does for you.
A tagger's scripts (`tag_names` given) label the first sub-word token of each word with its tag.
"""

from __future__ import annotations

from typing import Any

from playground.core.snippets import Raw, format_call
from tabs.fine_tune.training_task import DATA_FILE, TrainingOptions, training_arguments

# compute_metrics in a few lines of NumPy, as the app computes it (no download of a metric script).
_METRICS = """
def compute_metrics(eval_prediction):
    predictions = np.argmax(eval_prediction.predictions, axis=-1)
    references = eval_prediction.label_ids
    f1_per_label = []
    for label in range(len(names)):
        hits = np.sum((predictions == label) & (references == label))
        predicted, true = np.sum(predictions == label), np.sum(references == label)
        precision = hits / predicted if predicted else 0.0
        recall = hits / true if true else 0.0
        f1_per_label.append(2 * precision * recall / (precision + recall) if hits else 0.0)
    return {"accuracy": float(np.mean(predictions == references)), "f1_macro": float(np.mean(f1_per_label))}
"""

# A tagger's compute_metrics: the share of words (first sub-word tokens) tagged right.
_TAGGER_METRICS = """
def compute_metrics(eval_prediction):
    predictions = np.argmax(eval_prediction.predictions, axis=-1)
    words = eval_prediction.label_ids != -100  # the first sub-word token of each word
    return {"accuracy": float(np.mean(predictions[words] == eval_prediction.label_ids[words]))}
"""

# Each sub-word token's label: the tag of the word it starts, -100 (skipped by the loss) for the rest.
_ALIGN = """
def tokenize_and_align(batch):
    encoded = tokenizer(batch['tokens'], is_split_into_words=True, truncation=True, max_length={max_length})
    labels = []
    for number, tags in enumerate(batch['tags']):
        previous, row = None, []
        for word in encoded.word_ids(number):
            row.append(-100 if word is None or word == previous else tag_ids[tags[word]])
            previous = word
        labels.append(row)
    encoded['labels'] = labels
    return encoded

"""


def _lora_lines(lora: dict[str, Any] | None) -> list[str]:
    """Wrap the model for LoRA with the app's `LoraConfig` (nothing where the run had no LoRA)."""
    if not lora:
        return []
    return [
        "# LoRA: train small low-rank adapters of the attention weights, and the new head, not every weight.",
        "model = get_peft_model(model, " + format_call("LoraConfig", kwargs=lora) + ")",
        "model.print_trainable_parameters()",
    ]


def _data_lines(
    base: str,
    options: TrainingOptions,
    load_kwargs: dict[str, Any],
    lora: dict[str, Any] | None,
    tag_names: list[str] | None,
) -> list[str]:
    if tag_names:
        data = [
            f"data = Dataset.from_json({DATA_FILE!r})",
            f"names = {tag_names!r}",
            "tag_ids = {name: i for i, name in enumerate(names)}",
            "splits = "
            + format_call(
                "data.train_test_split", kwargs={"test_size": options.validation_share, "seed": options.seed}
            ),
        ]
        encode = [
            "",
            _ALIGN.replace("{max_length}", str(options.max_length)).strip("\n"),
            "encoded = splits.map(tokenize_and_align, batched=True, remove_columns=['tokens', 'tags'])",
        ]
    else:
        data = [
            f"data = Dataset.from_json({DATA_FILE!r}).class_encode_column('label')",
            "splits = "
            + format_call(
                "data.train_test_split",
                kwargs={"test_size": options.validation_share, "stratify_by_column": "label", "seed": options.seed},
            ),
            "names = data.features['label'].names",
        ]
        encode = [
            "encoded = splits.map(",
            f"    lambda batch: tokenizer(batch['text'], truncation=True, max_length={options.max_length}), "
            "batched=True",
            ")",
        ]
    return [
        f"base = {base!r}",
        *data,
        "",
        "tokenizer = AutoTokenizer.from_pretrained(base)",
        f"set_seed({options.seed})  # the new head's initial weights",
        "model = "
        + format_call(
            f"{_model_class(tag_names)}.from_pretrained",
            [Raw("base")],
            {
                **load_kwargs,
                "num_labels": Raw("len(names)"),
                "id2label": Raw("dict(enumerate(names))"),
                "label2id": Raw("{name: i for i, name in enumerate(names)}"),
            },
        ),
        *_lora_lines(lora),
        *encode,
    ]


def _model_class(tag_names: list[str] | None) -> str:
    return "AutoModelForTokenClassification" if tag_names else "AutoModelForSequenceClassification"


def _collator(tag_names: list[str] | None) -> str:
    return "DataCollatorForTokenClassification" if tag_names else "DataCollatorWithPadding"


def trainer_script(
    base: str,
    options: TrainingOptions,
    steps: dict[str, int],
    load_kwargs: dict[str, Any] | None = None,
    lora: dict[str, Any] | None = None,
    tag_names: list[str] | None = None,
) -> str:
    """The whole run with `Trainer`: data, split, model, `TrainingArguments`, `compute_metrics`, train, save."""
    arguments = {"output_dir": "checkpoints", **training_arguments(options, steps)}
    lines = [
        f"# Fine-tune a {'tagger' if tag_names else 'text classifier'} with Trainer, as the Fine-tune tab did: "
        "same rows, split, settings and seed.",
        "import numpy as np",
        "from datasets import Dataset",
        "from transformers import (",
        f"    {_model_class(tag_names)},",
        "    AutoTokenizer,",
        f"    {_collator(tag_names)},",
        "    Trainer,",
        "    TrainingArguments,",
        "    set_seed,",
        ")",
        *(["from peft import LoraConfig, get_peft_model"] if lora else []),
        "",
        *_data_lines(base, options, load_kwargs or {}, lora, tag_names),
        _TAGGER_METRICS if tag_names else _METRICS,
        "args = " + format_call("TrainingArguments", kwargs=arguments),
        "trainer = Trainer(",
        "    model=model,",
        "    args=args,",
        "    train_dataset=encoded['train'],",
        "    eval_dataset=encoded['test'],",
        "    processing_class=tokenizer,",
        f"    data_collator={_collator(tag_names)}(tokenizer),",
        "    compute_metrics=compute_metrics,",
        ")",
        "trainer.train()  # then loads the checkpoint with the lowest validation loss",
        "print(trainer.evaluate())",
        *(
            [
                "# The adapters merged into the weights: a plain model, loaded without peft.",
                "trainer.model.merge_and_unload().save_pretrained('fine-tuned')",
                "tokenizer.save_pretrained('fine-tuned')",
            ]
            if lora
            else ["trainer.save_model('fine-tuned')  # the model, its labels and the tokenizer"]
        ),
    ]
    return "\n".join(lines) + "\n"


def loop_script(
    base: str,
    options: TrainingOptions,
    load_kwargs: dict[str, Any] | None = None,
    lora: dict[str, Any] | None = None,
    tag_names: list[str] | None = None,
) -> str:
    """The same training without Trainer: DataLoader, AdamW with weight decay, linear warm-up and decay,
    gradient clipping, and an evaluation after each epoch."""
    lines = [
        "# The same fine-tuning as a plain PyTorch loop: what Trainer does for you, step by step.",
        "import math",
        "",
        "import torch",
        "from datasets import Dataset",
        "from torch.utils.data import DataLoader",
        "from transformers import (",
        f"    {_model_class(tag_names)},",
        "    AutoTokenizer,",
        f"    {_collator(tag_names)},",
        "    get_linear_schedule_with_warmup,",
        "    set_seed,",
        ")",
        *(["from peft import LoraConfig, get_peft_model"] if lora else []),
        "",
        *_data_lines(base, options, load_kwargs or {}, lora, tag_names),
        *(
            ["collator = DataCollatorForTokenClassification(tokenizer)  # pads the token ids and the labels (-100)"]
            if tag_names
            else [
                "encoded = encoded.remove_columns(['text'])  # the model takes token ids, attention mask and labels",
                "collator = DataCollatorWithPadding(tokenizer)  # pads each batch and renames label to labels",
            ]
        ),
        f"train_loader = DataLoader(encoded['train'], batch_size={options.batch_size}, shuffle=True, "
        "collate_fn=collator)",
        f"eval_loader = DataLoader(encoded['test'], batch_size={options.batch_size}, collate_fn=collator)",
        "",
        "device = 'cuda' if torch.cuda.is_available() else 'cpu'",
        "model.to(device)",
        "# Weight decay on the weights, not on biases and normalisation layers (as Trainer does).",
        "no_decay = ('bias', 'LayerNorm', 'layer_norm', 'norm')",
        "groups = [",
        "    {'params': [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],",
        f"     'weight_decay': {options.weight_decay}}},",
        "    {'params': [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], 'weight_decay': 0.0},",
        "]",
        f"optimizer = torch.optim.AdamW(groups, lr={options.learning_rate})",
        f"epochs = {options.epochs}",
        "steps = len(train_loader) * epochs",
        f"scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil({options.warmup} * steps), steps)",
        "",
        "for epoch in range(epochs):",
        "    model.train()",
        "    for batch in train_loader:",
        "        batch = {key: value.to(device) for key, value in batch.items()}",
        "        loss = model(**batch).loss",
        "        loss.backward()",
        "        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)",
        "        optimizer.step()",
        "        scheduler.step()",
        "        optimizer.zero_grad()",
        "    model.eval()",
        "    correct = total = 0",
        "    with torch.no_grad():",
        "        for batch in eval_loader:",
        "            batch = {key: value.to(device) for key, value in batch.items()}",
        "            predictions = model(**batch).logits.argmax(dim=-1)",
        *(
            [
                "            words = batch['labels'] != -100  # the first sub-word token of each word",
                "            correct += (predictions[words] == batch['labels'][words]).sum().item()",
                "            total += words.sum().item()",
            ]
            if tag_names
            else [
                "            correct += (predictions == batch['labels']).sum().item()",
                "            total += len(predictions)",
            ]
        ),
        "    print(f'epoch {epoch + 1}: last loss {loss.item():.4f}, validation accuracy {correct / total:.3f}')",
        "",
        *(["model = model.merge_and_unload()  # the adapters merged into the weights"] if lora else []),
        "model.save_pretrained('fine-tuned-loop')",
        "tokenizer.save_pretrained('fine-tuned-loop')",
    ]
    return "\n".join(lines) + "\n"
