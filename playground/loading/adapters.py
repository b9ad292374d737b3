"""Model kinds that `transformers.pipeline` no longer (or never did) serve, with a pipeline-like call.

- `sentence-similarity`: a sentence-embedding model (mean pooling + L2 normalisation, as
  sentence-transformers does for MiniLM), used for fast zero-shot classification on CPU.
- `vqa-classifier`: a VQA classifier such as ViLT (the visual-question-answering pipeline was removed
  in transformers 5), returning the top answers with sigmoid scores as the old pipeline did.
- `question-answering`, `summarization`, `translation`: extractive QA and sequence-to-sequence models
  (their pipelines were removed in transformers 5), wrapped by `playground.tasks.extractive_qa` and
  `playground.engines.seq2seq`.
- `model-anatomy`: any checkpoint loaded as the class its config names (or another class, e.g. a
  head on a body-only checkpoint), with what loading reported (newly initialised weights).
- `attention`: a text model loaded with eager attention, so its forward pass returns attention weights.

`ADAPTERS` maps each such task to its loader; torch and transformers are imported only when one runs,
so the catalog can read the table before anything heavy is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class SentenceEmbedder:
    """Embeds sentences into unit vectors; `similarity` gives cosine scores."""

    def __init__(self, model: Any, tokenizer: Any, device: str):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device

    def embed(self, texts: list[str], batch_size: int = 64) -> Any:
        import torch

        chunks = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                texts[start : start + batch_size], padding=True, truncation=True, return_tensors="pt"
            ).to(self.model.device)
            with torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            chunks.append(torch.nn.functional.normalize(pooled.float(), dim=-1))
        return torch.cat(chunks)

    def similarity(self, queries: list[str], keys: list[str]) -> Any:
        """Cosine similarity matrix, shape (len(queries), len(keys))."""
        return self.embed(queries) @ self.embed(keys).T


class VqaClassifier:
    """Image + question -> answers with scores, for classifier VQA models (ViLT-style)."""

    def __init__(self, model: Any, processor: Any):
        self.model = model
        self.processor = processor

    def __call__(self, image: Any, question: str, top_k: int = 5) -> list[dict[str, Any]]:
        import torch

        inputs = self.processor(images=image, text=question, return_tensors="pt", truncation=True)
        inputs = inputs.to(self.model.device)
        with torch.inference_mode():
            logits = self.model(**inputs).logits[0]
        # VQA classifiers are trained with a per-answer binary loss: sigmoid, not softmax.
        probs = logits.float().sigmoid()
        scores, ids = probs.topk(min(top_k, probs.numel()))
        labels = self.model.config.id2label
        return [{"answer": labels[i], "score": float(s)} for s, i in zip(scores.tolist(), ids.tolist())]


def _from_pretrained_kwargs(load_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The model's from_pretrained() arguments for the manager's pipeline()-style load_kwargs."""
    import torch

    kwargs = dict(load_kwargs.get("model_kwargs", {}))
    kwargs["dtype"] = getattr(torch, load_kwargs["dtype"])
    for name in ("revision", "trust_remote_code", "device_map"):
        if load_kwargs.get(name) is not None:
            kwargs[name] = load_kwargs[name]
    return kwargs


def _shared_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments the tokenizer or processor shares with its model."""
    return {k: kwargs[k] for k in ("revision", "trust_remote_code") if k in kwargs}


def _load_sentence_embedder(source: str, load_kwargs: dict[str, Any]) -> SentenceEmbedder:
    from transformers import AutoModel, AutoTokenizer

    kwargs = _from_pretrained_kwargs(load_kwargs)
    device = load_kwargs.get("device")
    model = AutoModel.from_pretrained(source, **kwargs).eval()
    if device:
        model.to(device)
    return SentenceEmbedder(model, AutoTokenizer.from_pretrained(source, **_shared_kwargs(kwargs)), device or "cpu")


def _load_model_and_tokenizer(auto_class: Any, source: str, load_kwargs: dict[str, Any]) -> tuple[Any, Any]:
    from transformers import AutoTokenizer

    kwargs = _from_pretrained_kwargs(load_kwargs)
    model = auto_class.from_pretrained(source, **kwargs).eval()
    if load_kwargs.get("device"):
        model.to(load_kwargs["device"])
    return model, AutoTokenizer.from_pretrained(source, **_shared_kwargs(kwargs))


def _load_extractive_qa(source: str, load_kwargs: dict[str, Any]) -> Any:
    from transformers import AutoModelForQuestionAnswering

    from playground.tasks.extractive_qa import QuestionAnswerer

    return QuestionAnswerer(*_load_model_and_tokenizer(AutoModelForQuestionAnswering, source, load_kwargs))


def _load_seq2seq(source: str, load_kwargs: dict[str, Any]) -> Any:
    from transformers import AutoModelForSeq2SeqLM

    from playground.engines.seq2seq import Seq2SeqGenerator

    return Seq2SeqGenerator(*_load_model_and_tokenizer(AutoModelForSeq2SeqLM, source, load_kwargs))


def _load_vqa_classifier(source: str, load_kwargs: dict[str, Any]) -> VqaClassifier:
    from transformers import AutoModelForVisualQuestionAnswering, AutoProcessor

    kwargs = _from_pretrained_kwargs(load_kwargs)
    device = load_kwargs.get("device")
    model = AutoModelForVisualQuestionAnswering.from_pretrained(source, **kwargs).eval()
    if device:
        model.to(device)
    return VqaClassifier(model, AutoProcessor.from_pretrained(source, **_shared_kwargs(kwargs)))


class InspectedModel:
    """A model loaded to be looked inside: the model, its config, what loading reported
    (`missing_keys`: weights newly initialised, `unexpected_keys`: checkpoint weights left unused) and
    its tokenizer or processor when it has one (None for a model without)."""

    def __init__(self, model: Any, loading_info: dict[str, Any], preprocessor: Any):
        self.model = model
        self.config = model.config
        self.loading_info = loading_info
        self.preprocessor = preprocessor


def _model_class(config: Any, class_name: str | None, default: str) -> Any:
    """The transformers class to load: `class_name` when given (an Auto class or a model class), else
    the architecture the config names, else `default` (an Auto class)."""
    import transformers

    name = class_name or next((a for a in (config.architectures or []) if hasattr(transformers, a)), default)
    if name == "AutoBackbone":
        # AutoBackbone.from_pretrained asks the Hub whether the id exists, even for a local folder:
        # its mapping names the concrete class, which loads offline.
        from transformers.models.auto.modeling_auto import MODEL_FOR_BACKBONE_MAPPING

        return MODEL_FOR_BACKBONE_MAPPING[type(config)]
    return getattr(transformers, name)


def _preprocessor(source: str, kwargs: dict[str, Any]) -> Any:
    """The checkpoint's processor, tokenizer or image processor (None when it ships none)."""
    from transformers import AutoImageProcessor, AutoTokenizer

    for auto in (AutoTokenizer, AutoImageProcessor):
        try:
            return auto.from_pretrained(source, **_shared_kwargs(kwargs))
        except (OSError, ValueError, KeyError, TypeError):  # transformers' ways of saying "none here"
            continue
    return None


def _load_inspected(source: str, load_kwargs: dict[str, Any], class_name: str | None, **extra: Any) -> InspectedModel:
    from transformers import AutoConfig

    kwargs = _from_pretrained_kwargs(load_kwargs)
    config = AutoConfig.from_pretrained(source, **_shared_kwargs(kwargs))
    model_class = _model_class(config, class_name, "AutoModel")
    model, info = model_class.from_pretrained(source, output_loading_info=True, **kwargs, **extra)
    model.eval()
    if load_kwargs.get("device") and not kwargs.get("device_map"):
        model.to(load_kwargs["device"])
    return InspectedModel(model, info, _preprocessor(source, kwargs))


def _load_anatomy(source: str, load_kwargs: dict[str, Any]) -> InspectedModel:
    # From the entry's pipeline_kwargs: `model_class`, another class than the checkpoint's own;
    # `out_features`, the stages an AutoBackbone returns.
    extra = {"out_features": load_kwargs["out_features"]} if load_kwargs.get("out_features") else {}
    return _load_inspected(source, load_kwargs, load_kwargs.get("model_class"), **extra)


def _load_attention(source: str, load_kwargs: dict[str, Any]) -> InspectedModel:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(source, **_shared_kwargs(_from_pretrained_kwargs(load_kwargs)))
    # An encoder-decoder model writes its output before its cross-attention can be shown: it keeps its LM head.
    model_class = "AutoModelForSeq2SeqLM" if getattr(config, "is_encoder_decoder", False) else "AutoModel"
    return _load_inspected(source, load_kwargs, model_class, attn_implementation="eager")


AdapterLoader = Callable[[str, dict[str, Any]], Any]
# task -> loader(source, load_kwargs): the manager loads these tasks through their adapter instead of
# transformers.pipeline; the catalog accepts them because a tab lists them (playground.config.registry).
ADAPTERS: dict[str, AdapterLoader] = {
    "sentence-similarity": _load_sentence_embedder,
    "vqa-classifier": _load_vqa_classifier,
    "question-answering": _load_extractive_qa,
    "summarization": _load_seq2seq,
    "translation": _load_seq2seq,
    "model-anatomy": _load_anatomy,
    "attention": _load_attention,
}
