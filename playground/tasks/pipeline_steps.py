"""What a pipeline does between its input and its answer, in its three steps, with the numbers.

1. preprocess: the tokenizer's tokens and ids, the image processor's pixel tensor, the feature
   extractor's log-mel spectrogram or waveform;
2. forward: the model on those tensors: its output's name and shape, hidden size, layers run;
3. postprocess: logits -> softmax or sigmoid -> `id2label` (or the ids decoded back to text).

Each function takes a model the manager loaded (`LoadedModel`, its pipeline in `.model`) and runs
the pipeline's own tokenizer, processor and model on one input, so its numbers are the pipeline's.
It returns `Steps`: the numbers as JSON (`details`), the tables and picture a page shows, each step's
notes in every language, and the Auto-class code (no `pipeline()`) that prints the same numbers.
The work is one input through one forward pass (one 30 s window of audio, one pair per candidate
label for zero-shot); long tables are cut to their first rows. No Gradio here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from playground.core.snippets import Raw, format_call, from_pretrained_kwargs
from playground.core.texts import SHARED_LOCALES, Texts
from playground.media.audio import decoding_snippet

TEXTS = Texts.load("pipeline_steps", SHARED_LOCALES)

STEPS = ("preprocess", "forward", "postprocess")
# Rows of the long tables: a masked LM's vocabulary or ImageNet's labels are cut to the best ones
# (the tab's top_k), a CTC model's frames to the first ones.
MAX_SCORE_ROWS = 50
MAX_FRAME_ROWS = 100
# Speech: the steps of the first window only, as Whisper reads it.
WINDOW_SECONDS = 30
# A tokenizer's model_max_length when it names no limit (transformers' "very large integer").
NO_LIMIT = 1_000_000
PICTURE_WIDTH = 600
# The recording's name in the speech code (the upload's own name is a temporary file's).
SPEECH_FILE = "your_recording.wav"


@dataclass
class Steps:
    """One request's three steps: `details` (every number, JSON), the rows of the tokens and scores
    tables, a picture of the preprocessed input (None for text), each step's notes ({step: [message
    in every language]}) and the Auto-class code."""

    details: dict[str, Any]
    tokens: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    picture: np.ndarray | None = None
    notes: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {step: [] for step in STEPS})
    code: str = ""

    def note(self, step: str, key: str, **params: Any) -> None:
        self.notes[step].append(TEXTS.render(key, **params))


# ---- shared by every task -----------------------------------------------------------------------


def require_tokenizer(loaded: Any) -> Any:
    """The pipeline's tokenizer; a model loaded without one (an image or audio model) gets a message."""
    tokenizer = getattr(loaded.model, "tokenizer", None)
    if tokenizer is None:
        raise TEXTS.error("no_tokenizer", label=loaded.entry.label)
    return tokenizer


def token_limit(tokenizer: Any, config: Any) -> int | None:
    """How many tokens the model reads at most: the tokenizer's limit, else the config's positions."""
    limit = getattr(tokenizer, "model_max_length", None)
    if limit and limit < NO_LIMIT:
        return int(limit)
    return getattr(config, "max_position_embeddings", None)


def check_length(tokenizer: Any, config: Any, ids: Any, label: str) -> None:
    """Refuses a text longer than the model reads (the pipeline would fail on it)."""
    limit = token_limit(tokenizer, config)
    if limit and ids.shape[-1] > limit:
        raise TEXTS.error("too_long", tokens=ids.shape[-1], limit=limit, label=label)


def token_rows(tokenizer: Any, encoding: Any, index: int = 0) -> list[dict[str, Any]]:
    """One row per token of sequence `index`: position, token, id, special, attention_mask and
    token_type_id when the tokenizer gives them."""
    ids = [int(i) for i in encoding["input_ids"][index].tolist()]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    specials = set(tokenizer.all_special_ids)
    rows = []
    for position, (token, token_id) in enumerate(zip(tokens, ids)):
        row = {"position": position, "token": token, "id": token_id, "special": token_id in specials}
        for name, column in (("attention_mask", "attention_mask"), ("token_type_ids", "token_type_id")):
            if name in encoding:
                row[column] = int(encoding[name][index][position])
        rows.append(row)
    return rows


def tensor_shapes(inputs: Any) -> dict[str, list[int]]:
    """{name: shape} of the tensors handed to the model."""
    return {name: list(value.shape) for name, value in inputs.items() if hasattr(value, "shape")}


def on_model(model: Any, inputs: Any) -> dict[str, Any]:
    """The tensors on the model's device, floating ones in its dtype (as the pipelines hand them over)."""
    moved = {}
    for name, value in inputs.items():
        if hasattr(value, "to"):
            value = value.to(model.device)
            if value.is_floating_point():
                value = value.to(model.dtype)
        moved[name] = value
    return moved


def run_model(model: Any, inputs: Any) -> Any:
    """The model's output on `inputs`, with its hidden states (to count the layers that ran)."""
    import torch

    with torch.inference_mode():
        return model(**on_model(model, inputs), output_hidden_states=True)


def hidden_size(config: Any) -> int | None:
    for name in ("hidden_size", "dim", "d_model", "n_embd"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            return value
    sizes = getattr(config, "hidden_sizes", None)  # convolutional models: the last stage's channels
    return int(sizes[-1]) if sizes else None


def layer_count(config: Any) -> int | None:
    if isinstance(getattr(config, "encoder_layers", None), int):  # an encoder-decoder: both stacks run
        return config.encoder_layers + getattr(config, "decoder_layers", 0)
    for name in ("num_hidden_layers", "n_layers", "n_layer"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            return value
    depths = getattr(config, "depths", None)
    return int(sum(depths)) if depths else None


def forward_facts(model: Any, inputs: Any, outputs: Any, output: str = "logits") -> dict[str, Any]:
    """The forward step's facts: the model class, its inputs' and its output's shapes, hidden size,
    layers (the hidden states returned, less the embeddings', when the model returns them)."""
    states = outputs.get("hidden_states") if hasattr(outputs, "get") else None
    return {
        "model_class": type(model).__name__,
        "inputs": tensor_shapes(inputs),
        "output": output,
        "shape": list(outputs[output].shape),
        "hidden_size": hidden_size(model.config),
        "layers": len(states) - 1 if states else layer_count(model.config),
        "hidden_states": len(states) if states else None,
    }


def shapes_text(shapes: dict[str, list[int]]) -> str:
    return ", ".join(f"`{name}` {shape}" for name, shape in shapes.items())


def note_forward(steps: Steps, facts: dict[str, Any]) -> None:
    steps.note("forward", "forward_ran", model_class=facts["model_class"], inputs=shapes_text(facts["inputs"]))
    steps.note("forward", "forward_output", output=facts["output"], shape=facts["shape"])
    if facts["hidden_size"] is not None:
        steps.note("forward", "forward_hidden", size=facts["hidden_size"])
    if facts["hidden_states"]:
        steps.note("forward", "forward_layers", layers=facts["layers"], states=facts["hidden_states"])
    elif facts["layers"] is not None:
        steps.note("forward", "forward_config_layers", layers=facts["layers"])


def softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def apply_function(function: str, logits: np.ndarray) -> np.ndarray:
    if function == "softmax":
        return softmax(logits)
    if function == "sigmoid":
        return sigmoid(logits)
    return logits


def default_function(config: Any) -> str:
    """The function a classification pipeline applies to a model's logits unless told otherwise."""
    problem = getattr(config, "problem_type", None)
    if problem == "regression":
        return "none"
    if problem == "multi_label_classification" or config.num_labels == 1:
        return "sigmoid"
    return "softmax"


def label_of(config: Any, index: int) -> str:
    return str(config.id2label.get(index, f"LABEL_{index}"))


def preprocessor_kwargs(loaded: Any) -> dict[str, Any]:
    """What a tokenizer's or processor's from_pretrained takes of the model's load options."""
    kwargs = from_pretrained_kwargs(loaded)[0]
    return {k: kwargs[k] for k in ("revision", "trust_remote_code") if k in kwargs}


def loading_lines(loaded: Any, model_class: str, preprocessor_class: str, preprocessor: str) -> list[str]:
    """The snippet's lines that load the preprocessor and the model as the app loaded them."""
    kwargs, device = from_pretrained_kwargs(loaded)
    model_id = loaded.entry.id
    return [
        f"{preprocessor} = "
        + format_call(f"{preprocessor_class}.from_pretrained", [model_id], preprocessor_kwargs(loaded)),
        "model = "
        + format_call(f"{model_class}.from_pretrained", [model_id], kwargs)
        + (f".to({device!r})" if device else "")
        + ".eval()",
    ]


def script(imports: list[str], lines: list[str]) -> str:
    return "\n".join([*imports, "", *lines]) + "\n"


# ---- text classification ------------------------------------------------------------------------


def text_classification_steps(loaded: Any, text: str, text_pair: str = "", function: str = "auto") -> Steps:
    """A text (or a pair) through a `text-classification` pipeline: tokens, logits, scores per label.

    `function`: auto (the model's own), softmax, sigmoid or none (the raw logits)."""
    pipe = loaded.model
    tokenizer = require_tokenizer(loaded)
    config = pipe.model.config
    inputs = pipe.preprocess({"text": text, "text_pair": text_pair} if text_pair else text)
    check_length(tokenizer, config, inputs["input_ids"], loaded.entry.label)
    outputs = run_model(pipe.model, inputs)
    logits = outputs.logits[0].float().cpu().numpy()
    chosen = default_function(config) if function == "auto" else function
    scores = apply_function(chosen, logits)
    rows = [
        {"label": label_of(config, i), "logit": float(logit), "score": float(score)}
        for i, (logit, score) in enumerate(zip(logits, scores))
    ]
    steps = Steps(
        details={
            "task": "text-classification",
            "preprocess": text_preprocess(tokenizer, inputs),
            "forward": forward_facts(pipe.model, inputs, outputs),
            "postprocess": {"function": chosen, "scores": rows},
        },
        tokens=token_rows(tokenizer, inputs),
        scores=sorted(rows, key=lambda row: row["score"], reverse=True),
    )
    note_tokens(steps, tokenizer, inputs, pair=bool(text_pair))
    note_forward(steps, steps.details["forward"])
    steps.note("postprocess", f"function_{chosen}")
    steps.note("postprocess", "id2label", count=len(rows))
    steps.code = text_classification_code(loaded, text, text_pair, chosen)
    return steps


def text_preprocess(tokenizer: Any, inputs: Any) -> dict[str, Any]:
    """The preprocess step of one tokenized text: the tokenizer, the tokens, ids and masks."""
    ids = [int(i) for i in inputs["input_ids"][0].tolist()]
    facts: dict[str, Any] = {
        "tokenizer": type(tokenizer).__name__,
        "tokens": tokenizer.convert_ids_to_tokens(ids),
        "input_ids": ids,
        "tensors": tensor_shapes(inputs),
    }
    for name in ("attention_mask", "token_type_ids"):
        if name in inputs:
            facts[name] = [int(i) for i in inputs[name][0].tolist()]
    return facts


def note_tokens(steps: Steps, tokenizer: Any, inputs: Any, pair: bool = False) -> None:
    count = int(inputs["input_ids"].shape[-1])
    steps.note("preprocess", "tokenized", tokenizer=type(tokenizer).__name__, count=count)
    if pair and "token_type_ids" in inputs:
        steps.note("preprocess", "pair_token_types")
    steps.note("preprocess", "tensors", shapes=shapes_text(tensor_shapes(inputs)))


def text_classification_code(loaded: Any, text: str, text_pair: str, function: str) -> str:
    scoring = {
        "softmax": "scores = logits.softmax(dim=-1)[0]",
        "sigmoid": "scores = logits.sigmoid()[0]",
        "none": "scores = logits[0]",
    }[function]
    arguments = [text, text_pair] if text_pair else [text]
    return script(
        ["import torch", "from transformers import AutoModelForSequenceClassification, AutoTokenizer"],
        [
            *loading_lines(loaded, "AutoModelForSequenceClassification", "AutoTokenizer", "tokenizer"),
            "",
            "# 1. Preprocess: the text becomes token ids.",
            "inputs = " + format_call("tokenizer", arguments, {"return_tensors": "pt"}) + ".to(model.device)",
            'print(tokenizer.convert_ids_to_tokens(inputs["input_ids"][0]))',
            "# 2. Forward: the model turns the ids into one logit per label.",
            "with torch.inference_mode():",
            "    logits = model(**inputs).logits.float()",
            "print(logits.shape)",
            f"# 3. Postprocess: {function}, then id2label names each score.",
            scoring,
            "print({model.config.id2label[i]: score for i, score in enumerate(scores.tolist())})",
        ],
    )


# ---- named entities (token classification) -----------------------------------------------------


def token_classification_steps(loaded: Any, text: str) -> Steps:
    """A text through a `token-classification` pipeline: tokens, one row of logits per token, each
    token's best label and its softmax score (the pipeline then groups tokens into entities)."""
    pipe = loaded.model
    tokenizer = require_tokenizer(loaded)
    config = pipe.model.config
    # As the pipeline tokenizes: cut at the model's limit.
    inputs = tokenizer(text, return_tensors="pt", truncation=bool(tokenizer.model_max_length))
    outputs = run_model(pipe.model, inputs)
    logits = outputs.logits[0].float().cpu().numpy()
    scores = softmax(logits)
    tokens = token_rows(tokenizer, inputs)
    rows = []
    for row, token_scores in zip(tokens, scores):
        best = int(token_scores.argmax())
        rows.append(
            {
                "position": row["position"],
                "token": row["token"],
                "label": label_of(config, best),
                "score": float(token_scores[best]),
                "special": row["special"],
            }
        )
    steps = Steps(
        details={
            "task": "token-classification",
            "preprocess": text_preprocess(tokenizer, inputs),
            "forward": forward_facts(pipe.model, inputs, outputs),
            "postprocess": {"function": "softmax", "labels": list(config.id2label.values()), "tokens": rows},
        },
        tokens=tokens,
        scores=rows,
    )
    note_tokens(steps, tokenizer, inputs)
    if tokenizer.model_max_length and inputs["input_ids"].shape[-1] >= tokenizer.model_max_length:
        steps.note("preprocess", "cut", limit=tokenizer.model_max_length)
    note_forward(steps, steps.details["forward"])
    steps.note("postprocess", "per_token", labels=len(config.id2label))
    steps.note("postprocess", "entities_from_tokens")
    steps.code = token_classification_code(loaded, text)
    return steps


def token_classification_code(loaded: Any, text: str) -> str:
    return script(
        ["import torch", "from transformers import AutoModelForTokenClassification, AutoTokenizer"],
        [
            *loading_lines(loaded, "AutoModelForTokenClassification", "AutoTokenizer", "tokenizer"),
            "",
            "# 1. Preprocess: the text becomes token ids.",
            "inputs = "
            + format_call("tokenizer", [text], {"return_tensors": "pt", "truncation": True})
            + ".to(model.device)",
            'tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])',
            "# 2. Forward: one row of logits per token, one logit per label.",
            "with torch.inference_mode():",
            "    logits = model(**inputs).logits.float()",
            "print(logits.shape)",
            "# 3. Postprocess: softmax over the labels of each token, its best label by id2label.",
            "scores = logits.softmax(dim=-1)[0]",
            "best = scores.max(dim=-1)",
            "print([[token, model.config.id2label[i], score]"
            " for token, i, score in zip(tokens, best.indices.tolist(), best.values.tolist())])",
        ],
    )


# ---- fill mask ------------------------------------------------------------------------------------


def fill_mask_steps(loaded: Any, sentence: str, top_k: int = 5) -> Steps:
    """A sentence with one mask token (the model's own spelling) through a `fill-mask` pipeline: the
    tokens, the logits over the vocabulary at the mask, the `top_k` most likely tokens."""
    pipe = loaded.model
    tokenizer = require_tokenizer(loaded)
    config = pipe.model.config
    inputs = pipe.preprocess(sentence)  # the pipeline's own check: exactly one mask token
    check_length(tokenizer, config, inputs["input_ids"], loaded.entry.label)
    outputs = run_model(pipe.model, inputs)
    position = int((inputs["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0])
    logits = outputs.logits[0, position].float().cpu().numpy()
    probabilities = softmax(logits)
    best = np.argsort(-probabilities, kind="stable")[: min(top_k, MAX_SCORE_ROWS)]
    rows = [
        {
            "token": tokenizer.decode([int(i)]),
            "id": int(i),
            "logit": float(logits[i]),
            "score": float(probabilities[i]),
        }
        for i in best
    ]
    steps = Steps(
        details={
            "task": "fill-mask",
            "preprocess": {**text_preprocess(tokenizer, inputs), "mask_position": position},
            "forward": forward_facts(pipe.model, inputs, outputs),
            "postprocess": {"function": "softmax", "vocabulary": int(logits.shape[0]), "top": rows},
        },
        tokens=token_rows(tokenizer, inputs),
        scores=rows,
    )
    note_tokens(steps, tokenizer, inputs)
    steps.note("preprocess", "mask_at", mask=tokenizer.mask_token, position=position)
    note_forward(steps, steps.details["forward"])
    steps.note("postprocess", "mask_scores", position=position, vocabulary=int(logits.shape[0]), top_k=len(rows))
    steps.code = fill_mask_code(loaded, sentence, len(rows))
    return steps


def fill_mask_code(loaded: Any, sentence: str, top_k: int) -> str:
    return script(
        ["import torch", "from transformers import AutoModelForMaskedLM, AutoTokenizer"],
        [
            *loading_lines(loaded, "AutoModelForMaskedLM", "AutoTokenizer", "tokenizer"),
            "",
            "# 1. Preprocess: the sentence becomes token ids; find the mask token.",
            "inputs = " + format_call("tokenizer", [sentence], {"return_tensors": "pt"}) + ".to(model.device)",
            'position = (inputs["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0]',
            "# 2. Forward: a logit for every token of the vocabulary, at every position.",
            "with torch.inference_mode():",
            "    logits = model(**inputs).logits.float()",
            "print(logits.shape)",
            "# 3. Postprocess: softmax over the vocabulary at the mask, the most likely tokens.",
            "probabilities = logits[0, position].softmax(dim=-1)",
            f"top = probabilities.topk({top_k})",
            "print([[tokenizer.decode([i]), p] for p, i in zip(top.values.tolist(), top.indices.tolist())])",
        ],
    )


# ---- zero-shot classification (NLI) --------------------------------------------------------------


def entailment_index(config: Any) -> int:
    return next((int(i) for i, label in config.id2label.items() if str(label).lower().startswith("entail")), -1)


def zero_shot_steps(loaded: Any, text: str, labels: list[str], template: str, multi_label: bool = False) -> Steps:
    """A text and its candidate labels through a `zero-shot-classification` (NLI) pipeline: one
    premise-hypothesis pair per label, its NLI logits, then the entailment logits softmaxed over the
    labels (or entailment against contradiction per label, for multi_label)."""
    pipe = loaded.model
    tokenizer = require_tokenizer(loaded)
    config = pipe.model.config
    entail = entailment_index(config)
    if entail < 0:
        raise TEXTS.error("no_entailment", label=loaded.entry.label)
    contradiction = -1 if entail == 0 else 0
    pairs, encodings, logits = [], [], []
    for label in labels:
        hypothesis = template.format(label)
        # As the pipeline tokenizes each pair: the premise is cut when the pair is too long.
        encoding = tokenizer(text, hypothesis, return_tensors="pt", truncation="only_first")
        outputs = run_model(pipe.model, encoding)
        encodings.append(encoding)
        logits.append(outputs.logits[0].float().cpu().numpy())
        pairs.append(
            {"label": label, "hypothesis": hypothesis, "input_ids": [int(i) for i in encoding["input_ids"][0]]}
        )
    table = np.stack(logits)
    if multi_label or len(labels) == 1:
        scores = softmax(table[:, [contradiction, entail]])[:, 1]
        function = "entail_vs_contradict"
    else:
        scores = softmax(table[:, entail])
        function = "softmax_over_labels"
    rows = [
        {
            "label": pair["label"],
            "hypothesis": pair["hypothesis"],
            "entailment_logit": float(row[entail]),
            "contradiction_logit": float(row[contradiction]),
            "score": float(score),
        }
        for pair, row, score in zip(pairs, table, scores)
    ]
    facts = forward_facts(pipe.model, encodings[0], outputs)
    facts["shape"] = list(table.shape)  # one row of NLI logits per pair
    steps = Steps(
        details={
            "task": "zero-shot-classification",
            "preprocess": {**text_preprocess(tokenizer, encodings[0]), "pairs": pairs},
            "forward": {**facts, "pairs": len(pairs), "nli_labels": list(config.id2label.values())},
            "postprocess": {"function": function, "entailment_id": entail, "scores": rows},
        },
        tokens=token_rows(tokenizer, encodings[0]),
        scores=sorted(rows, key=lambda row: row["score"], reverse=True),
    )
    steps.note("preprocess", "pairs", count=len(pairs), hypothesis=pairs[0]["hypothesis"])
    note_tokens(steps, tokenizer, encodings[0], pair=True)
    note_forward(steps, facts)
    steps.note("forward", "nli_rows", pairs=len(pairs), labels=", ".join(map(str, config.id2label.values())))
    steps.note("postprocess", function, entailment=label_of(config, entail))
    steps.code = zero_shot_code(loaded, text, labels, template, multi_label or len(labels) == 1)
    return steps


def zero_shot_code(loaded: Any, text: str, labels: list[str], template: str, per_label: bool) -> str:
    scoring = (
        [
            "contradiction = -1 if entailment == 0 else 0",
            "scores = logits[:, [contradiction, entailment]].softmax(dim=-1)[:, 1]",
        ]
        if per_label
        else ["scores = logits[:, entailment].softmax(dim=0)"]
    )
    return script(
        ["import torch", "from transformers import AutoModelForSequenceClassification, AutoTokenizer"],
        [
            *loading_lines(loaded, "AutoModelForSequenceClassification", "AutoTokenizer", "tokenizer"),
            "",
            "text = " + repr(text),
            "labels = " + repr(labels),
            "# 1. Preprocess: one premise-hypothesis pair per label, as token ids.",
            "logits = []",
            "for label in labels:",
            "    inputs = tokenizer(text, "
            + repr(template)
            + ".format(label), return_tensors='pt', truncation='only_first').to(model.device)",
            "    # 2. Forward: the NLI model's logits for the pair (contradiction, neutral, entailment...).",
            "    with torch.inference_mode():",
            "        logits.append(model(**inputs).logits.float()[0])",
            "logits = torch.stack(logits)",
            "print(logits.shape)",
            "# 3. Postprocess: the entailment logits become the labels' scores.",
            "entailment = next(i for i, name in model.config.id2label.items() if name.lower().startswith('entail'))",
            *scoring,
            "print(dict(zip(labels, scores.tolist())))",
        ],
    )


def mean_pooled(model: Any, batch: Any) -> tuple[Any, Any]:
    """(the model's output, unit vectors: the mean of each text's real tokens) for a tokenized batch,
    as sentence-transformers pools MiniLM."""
    import torch

    outputs = run_model(model, batch)
    hidden = outputs.last_hidden_state
    mask = batch["attention_mask"].to(hidden.device).unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return outputs, torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy()


def similarity_steps(
    loaded: Any, text: str, labels: list[str], template: str, multi_label: bool, scale: float
) -> Steps:
    """A text and its candidate labels through a sentence-embedding model (the `sentence-similarity`
    adapter): the text and each label's hypothesis tokenized, their token vectors mean-pooled into
    unit vectors, the cosines softmaxed after multiplying by `scale` (or mapped to 0-1, multi_label)."""
    embedder = loaded.model
    tokenizer, model = embedder.tokenizer, embedder.model
    hypotheses = [template.format(label) for label in labels]
    text_batch = tokenizer([text], padding=True, truncation=True, return_tensors="pt")
    label_batch = tokenizer(hypotheses, padding=True, truncation=True, return_tensors="pt")
    outputs, text_vector = mean_pooled(model, text_batch)
    _, label_vectors = mean_pooled(model, label_batch)
    cosines = (text_vector @ label_vectors.T)[0]
    if multi_label:
        scores, function = np.clip((cosines + 1) / 2, 0, 1), "cosine_to_probability"
    else:
        scores, function = softmax(cosines * scale), "scaled_softmax"
    rows = [
        {"label": label, "hypothesis": hypothesis, "cosine": float(cosine), "score": float(score)}
        for label, hypothesis, cosine, score in zip(labels, hypotheses, cosines, scores)
    ]
    facts = forward_facts(model, text_batch, outputs, "last_hidden_state")
    steps = Steps(
        details={
            "task": "sentence-similarity",
            "preprocess": {
                **text_preprocess(tokenizer, text_batch),
                "hypotheses": [
                    {"label": label, "hypothesis": hypothesis, "input_ids": [int(i) for i in ids if i != pad]}
                    for label, hypothesis, ids in zip(
                        labels, hypotheses, label_batch["input_ids"].tolist(), strict=True
                    )
                    for pad in [tokenizer.pad_token_id]
                ],
            },
            "forward": {**facts, "pooled": [1, int(text_vector.shape[-1])]},
            "postprocess": {"function": function, "scale": scale, "scores": rows},
        },
        tokens=token_rows(tokenizer, text_batch),
        scores=sorted(rows, key=lambda row: row["score"], reverse=True),
    )
    note_tokens(steps, tokenizer, text_batch)
    steps.note("preprocess", "hypotheses", count=len(labels), hypothesis=hypotheses[0])
    note_forward(steps, facts)
    steps.note("forward", "mean_pooling", size=int(text_vector.shape[-1]))
    steps.note("postprocess", function, scale=scale)
    steps.code = similarity_code(loaded, text, labels, template, multi_label, scale)
    return steps


def similarity_code(loaded: Any, text: str, labels: list[str], template: str, multi_label: bool, scale: float) -> str:
    scoring = "scores = (cosine + 1) / 2" if multi_label else f"scores = (cosine * {scale}).softmax(dim=-1)"
    return script(
        ["import torch", "from transformers import AutoModel, AutoTokenizer"],
        [
            *loading_lines(loaded, "AutoModel", "AutoTokenizer", "tokenizer"),
            "",
            "",
            "def embed(texts):",
            "    # 1. Preprocess: the texts become token ids (padded to the longest).",
            '    batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(model.device)',
            "    # 2. Forward: one vector per token.",
            "    with torch.inference_mode():",
            "        hidden = model(**batch).last_hidden_state",
            "    # Mean pooling over the real tokens, then unit length.",
            '    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)',
            "    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)",
            "    return torch.nn.functional.normalize(pooled.float(), dim=-1)",
            "",
            "",
            "labels = " + repr(labels),
            "cosine = "
            + format_call("embed", [[text]])
            + f" @ embed([{template!r}.format(label) for label in labels]).T",
            "# 3. Postprocess: the cosine similarities become the labels' scores.",
            scoring,
            "print(dict(zip(labels, scores[0].tolist())))",
        ],
    )


# ---- image classification ------------------------------------------------------------------------


def pixels_picture(pixels: Any) -> np.ndarray:
    """A [channels, height, width] tensor as an RGB picture, its range stretched to 0-255 (a
    normalised tensor runs roughly from -2 to 2: this is what the model sees, not the photo)."""
    values = pixels.float().cpu().numpy()
    if values.shape[0] == 1:
        values = np.repeat(values, 3, axis=0)
    values = values[:3].transpose(1, 2, 0)
    low, high = float(values.min()), float(values.max())
    return ((values - low) / ((high - low) or 1.0) * 255).round().astype(np.uint8)


def processor_facts(processor: Any) -> dict[str, Any]:
    """The image processor's settings that shaped the tensor."""
    facts: dict[str, Any] = {"processor": type(processor).__name__}
    for name in (
        "do_resize",
        "size",
        "do_center_crop",
        "crop_size",
        "do_rescale",
        "rescale_factor",
        "do_normalize",
        "image_mean",
        "image_std",
    ):
        value = getattr(processor, name, None)
        if value is not None:
            facts[name] = dict(value) if hasattr(value, "items") else value
    return facts


def image_classification_steps(loaded: Any, image: Any, top_k: int = 5) -> Steps:
    """A decoded picture through an `image-classification` pipeline: the processor's pixel tensor,
    the logits, the `top_k` labels by softmax (or sigmoid for multi-label models)."""
    pipe = loaded.model
    processor = getattr(pipe, "image_processor", None)
    if processor is None:
        raise TEXTS.error("no_processor", label=loaded.entry.label)
    config = pipe.model.config
    inputs = pipe.preprocess(image)
    pixels = inputs["pixel_values"]
    outputs = run_model(pipe.model, inputs)
    logits = outputs.logits[0].float().cpu().numpy()
    function = default_function(config)
    scores = apply_function(function, logits)
    best = np.argsort(-scores, kind="stable")[: min(top_k, MAX_SCORE_ROWS)]
    rows = [{"label": label_of(config, int(i)), "logit": float(logits[i]), "score": float(scores[i])} for i in best]
    values = pixels[0].float().cpu().numpy()
    channels = [
        {"mean": float(c.mean()), "std": float(c.std()), "min": float(c.min()), "max": float(c.max())} for c in values
    ]
    settings = processor_facts(processor)
    steps = Steps(
        details={
            "task": "image-classification",
            "preprocess": {
                **settings,
                "image_size": list(image.size),
                "tensors": tensor_shapes(inputs),
                "channels": channels,
            },
            "forward": forward_facts(pipe.model, inputs, outputs),
            "postprocess": {"function": function, "labels": len(logits), "top": rows},
        },
        scores=rows,
        picture=pixels_picture(pixels[0]),
    )
    height, width = values.shape[1:]
    steps.note(
        "preprocess",
        "pixels",
        processor=settings["processor"],
        original=f"{image.size[0]}×{image.size[1]}",
        size=f"{width}×{height}",
        shape=list(pixels.shape),
    )
    if settings.get("do_rescale"):
        steps.note("preprocess", "rescaled", factor=settings.get("rescale_factor"))
    if settings.get("do_normalize"):
        steps.note("preprocess", "normalised", mean=settings.get("image_mean"), std=settings.get("image_std"))
    steps.note(
        "preprocess",
        "pixel_range",
        low=min(c["min"] for c in channels),
        high=max(c["max"] for c in channels),
    )
    note_forward(steps, steps.details["forward"])
    steps.note("postprocess", f"function_{function}")
    steps.note("postprocess", "top_of", top_k=len(rows), labels=len(logits))
    steps.code = image_classification_code(loaded, function, len(rows))
    return steps


def image_classification_code(loaded: Any, function: str, top_k: int) -> str:
    scoring = "scores = logits.sigmoid()[0]" if function == "sigmoid" else "scores = logits.softmax(dim=-1)[0]"
    return script(
        [
            "import torch",
            "from PIL import Image",
            "from transformers import AutoImageProcessor, AutoModelForImageClassification",
        ],
        [
            *loading_lines(loaded, "AutoModelForImageClassification", "AutoImageProcessor", "processor"),
            "",
            "# 1. Preprocess: resized, rescaled to 0-1 and normalised pixels.",
            'image = Image.open("your_image.jpg").convert("RGB")',
            'inputs = processor(images=image, return_tensors="pt").to(model.device)',
            'print(inputs["pixel_values"].shape)',
            "# 2. Forward: one logit per label.",
            "with torch.inference_mode():",
            "    logits = model(**inputs).logits.float()",
            "# 3. Postprocess: " + function + ", the best labels by id2label.",
            scoring,
            f"top = scores.topk({top_k})",
            "print({model.config.id2label[i]: p for p, i in zip(top.values.tolist(), top.indices.tolist())})",
        ],
    )


# ---- speech to text ------------------------------------------------------------------------------


def colour_map(values: np.ndarray) -> np.ndarray:
    """A 2-D array as an RGB picture (matplotlib's magma over the array's range), first row at the bottom."""
    from matplotlib import colormaps

    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / ((high - low) or 1.0)
    return (colormaps["magma"](scaled[::-1])[..., :3] * 255).round().astype(np.uint8)


def waveform_picture(samples: np.ndarray, width: int = PICTURE_WIDTH, height: int = 160) -> np.ndarray:
    """The samples drawn as a waveform: each column spans the smallest to the largest sample of its slice."""
    picture = np.full((height, width, 3), 255, dtype=np.uint8)
    peak = float(np.abs(samples).max()) or 1.0
    for column, piece in enumerate(np.array_split(samples, width)):
        if not len(piece):
            continue
        top = int((1 - float(piece.max()) / peak) * (height - 1) / 2)
        bottom = int((1 - float(piece.min()) / peak) * (height - 1) / 2)
        picture[top : bottom + 1, column] = (49, 99, 180)
    picture[height // 2, :] = np.minimum(picture[height // 2, :], 200)
    return picture


def speech_steps(loaded: Any, audio: Any) -> Steps:
    """The first 30 s of decoded audio (`audio`: playground.media.audio.DecodedAudio, mono float32 at
    the model's rate) through an ASR pipeline's parts: Whisper's log-mel spectrogram, encoder and
    greedy decoder, or a CTC model's waveform, logits per frame and collapsed argmax; then the ids
    decoded to text."""
    pipe = loaded.model
    if getattr(pipe, "feature_extractor", None) is None or getattr(pipe, "tokenizer", None) is None:
        raise TEXTS.error("no_processor", label=loaded.entry.label)
    rate = audio.rate
    window = audio.read(0, WINDOW_SECONDS * rate)
    whisper = getattr(pipe.model.config, "model_type", "") == "whisper"
    steps = whisper_steps(loaded, window, rate) if whisper else ctc_steps(loaded, window, rate)
    steps.details["preprocess"]["seconds"] = round(len(window) / rate, 3)
    if audio.frames > len(window):
        steps.note("preprocess", "first_window", seconds=WINDOW_SECONDS, total=round(audio.duration, 1))
    steps.code = speech_code(loaded, whisper, audio.decoder, generate_options(pipe) if whisper else {})
    return steps


def generate_options(pipe: Any) -> dict[str, Any]:
    """The generate() options the pipeline adds to the model's generation config (its defaults, such
    as beam search, and the options it was loaded with); plain values only."""
    options = pipe._prepare_generate_kwargs({})
    return {k: v for k, v in options.items() if isinstance(v, (bool, int, float, str))}


def whisper_steps(loaded: Any, samples: np.ndarray, rate: int) -> Steps:
    import torch

    pipe = loaded.model
    extractor, tokenizer, model = pipe.feature_extractor, pipe.tokenizer, pipe.model
    # The pipeline's own three steps on the window (one item: 30 s or less).
    inputs = next(iter(pipe.preprocess({"raw": samples, "sampling_rate": rate})))
    features = inputs["input_features"]
    shapes = tensor_shapes(inputs)
    # The frames that hold the audio (10 ms each); the rest of the 30 s is padding.
    frames = min(features.shape[-1], max(1, math.ceil(len(samples) / extractor.hop_length)))
    with torch.inference_mode():
        encoded = model.get_encoder()(on_model(model, {"x": features})["x"]).last_hidden_state
    options = generate_options(pipe)
    generated = pipe.forward(dict(inputs))
    ids = [int(i) for i in generated["tokens"][0].tolist()]
    text = pipe.postprocess([generated])["text"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    specials = set(tokenizer.all_special_ids)
    rows = [
        {"position": n, "id": int(i), "token": token, "special": i in specials}
        for n, (i, token) in enumerate(zip(ids, tokens))
    ]
    facts = {
        "model_class": type(model).__name__,
        "inputs": shapes,
        "output": "encoder last_hidden_state",
        "shape": list(encoded.shape),
        "hidden_size": hidden_size(model.config),
        "layers": layer_count(model.config),
        "hidden_states": None,
        "generated_ids": ids,
        "generate_options": options,
    }
    steps = Steps(
        details={
            "task": "automatic-speech-recognition",
            "preprocess": {
                "feature_extractor": type(extractor).__name__,
                "sampling_rate": rate,
                "mel_bins": int(features.shape[1]),
                "frames": int(features.shape[-1]),
                "audio_frames": frames,
                "tensors": shapes,
            },
            "forward": facts,
            "postprocess": {"tokens": rows, "text": text},
        },
        scores=rows,
        picture=colour_map(features[0, :, :frames].float().numpy()),
    )
    steps.note("preprocess", "log_mel", extractor=type(extractor).__name__, bins=features.shape[1], rate=rate)
    steps.note("preprocess", "mel_frames", shape=list(features.shape), frames=frames)
    note_forward(steps, facts)
    steps.note(
        "forward", "generated", count=len(ids), options=", ".join(f"{k}={v!r}" for k, v in options.items()) or "-"
    )
    steps.note("postprocess", "decoded_whisper", count=len(ids))
    return steps


def ctc_steps(loaded: Any, samples: np.ndarray, rate: int) -> Steps:
    pipe = loaded.model
    extractor, tokenizer = pipe.feature_extractor, pipe.tokenizer
    inputs = extractor(samples, sampling_rate=rate, return_tensors="pt")
    values = inputs["input_values"]
    outputs = run_model(pipe.model, inputs)
    logits = outputs.logits[0].float().cpu().numpy()
    probabilities = softmax(logits)
    best = logits.argmax(axis=-1)
    text = tokenizer.decode(best.tolist())
    tokens = tokenizer.convert_ids_to_tokens(best.tolist())
    rows = [
        {"frame": n, "id": int(i), "token": token, "score": float(probabilities[n, i])}
        for n, (i, token) in enumerate(zip(best[:MAX_FRAME_ROWS], tokens))
    ]
    steps = Steps(
        details={
            "task": "automatic-speech-recognition",
            "preprocess": {
                "feature_extractor": type(extractor).__name__,
                "sampling_rate": rate,
                "samples": int(values.shape[-1]),
                "tensors": tensor_shapes(inputs),
            },
            "forward": forward_facts(pipe.model, inputs, outputs),
            "postprocess": {"frame_ids": [int(i) for i in best], "text": text},
        },
        scores=rows,
        picture=waveform_picture(values[0].float().numpy()),
    )
    steps.note("preprocess", "waveform", extractor=type(extractor).__name__, count=int(values.shape[-1]), rate=rate)
    note_forward(steps, steps.details["forward"])
    steps.note("postprocess", "ctc_collapse", frames=len(best), blank=tokenizer.pad_token)
    if len(best) > MAX_FRAME_ROWS:
        steps.note("postprocess", "first_frames", count=MAX_FRAME_ROWS)
    return steps


def speech_code(loaded: Any, whisper: bool, decoder: str, options: dict[str, Any]) -> str:
    decode_imports, decode_lines = decoding_snippet(SPEECH_FILE, decoder, "feature_extractor.sampling_rate")
    model_class = "AutoModelForSpeechSeq2Seq" if whisper else "AutoModelForCTC"
    loading = [
        *loading_lines(loaded, model_class, "AutoFeatureExtractor", "feature_extractor"),
        "tokenizer = " + format_call("AutoTokenizer.from_pretrained", [loaded.entry.id], preprocessor_kwargs(loaded)),
    ]
    generate_call = format_call(
        "model.generate",
        [Raw("features")],
        {"attention_mask": Raw("inputs['attention_mask'].to(model.device)"), **options},
    )
    if whisper:
        steps = [
            "# 1. Preprocess: the first 30 s as a log-mel spectrogram (padded to 30 s).",
            "inputs = feature_extractor(",
            f"    samples[: {WINDOW_SECONDS} * rate], sampling_rate=rate, return_attention_mask=True, return_tensors='pt'",
            ")",
            "features = inputs['input_features'].to(model.device, model.dtype)",
            "print(features.shape)",
            "# 2. Forward: the encoder reads the spectrogram, the decoder writes token ids one by one",
            "# (with the options the pipeline adds).",
            "with torch.inference_mode():",
            "    ids = " + generate_call.replace("\n", "\n    ") + "[0]",
            "# 3. Postprocess: the ids back to text.",
            "print(ids.tolist())",
            "print(tokenizer.decode(ids, skip_special_tokens=True))",
        ]
    else:
        steps = [
            "# 1. Preprocess: the first 30 s of the waveform, normalised.",
            f"inputs = feature_extractor(samples[: {WINDOW_SECONDS} * rate], sampling_rate=rate, return_tensors='pt')",
            "values = inputs['input_values'].to(model.device, model.dtype)",
            "print(values.shape)",
            "# 2. Forward: one row of logits per 20 ms frame, one logit per character.",
            "with torch.inference_mode():",
            "    logits = model(values).logits.float()",
            "# 3. Postprocess: the best id of each frame; repeats merged, blanks dropped, ids to text.",
            "ids = logits[0].argmax(dim=-1)",
            "print(ids.tolist())",
            "print(tokenizer.decode(ids.tolist()))",
        ]
    return script(
        [
            *[line for line in decode_imports if line],
            "import torch",
            f"from transformers import AutoFeatureExtractor, {model_class}, AutoTokenizer",
        ],
        [*loading, "", *decode_lines, *steps],
    )
