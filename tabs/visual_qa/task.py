"""Questions about pictures: ViLT-style answer classifiers and vision-language (image-text-to-text) models.

A VQA classifier (`vqa-classifier`, served by playground.loading.adapters.VqaClassifier) picks answers from
its fixed list with independent sigmoid scores; a vision-language model writes a free answer. Donut-
style OCR-free readers (also `image-text-to-text`) take a task prompt instead of chat messages; the
document task (`document_task`) asks them about pages through `ask_vision_language_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playground.core.snippets import Raw, format_call
from playground.core.texts import Texts
from playground.engines.generation_settings import bounded_new_tokens

if TYPE_CHECKING:  # annotations only: task logic needs neither the catalog nor, through it, the tab registry
    from playground.config.catalog import ModelEntry

CLASSIFIER_TASK = "vqa-classifier"
CHAT_TASK = "image-text-to-text"
MAX_QUESTION = 500
MAX_TOP_K = 20
MAX_NEW_TOKENS = 512
# Donut's DocVQA prompt (the same one the document-question-answering pipeline builds for Donut).
DONUT_PROMPT = "<s_docvqa><s_question>{question}</s_question><s_answer>"
DONUT_ANSWER_END = "</s_answer>"

TEXTS = Texts.load("visual_qa.task", Path(__file__).with_name("locales"))


def check_question(question: str | None) -> str:
    """The question with its whitespace collapsed; a clear error when it is empty or too long."""
    question = " ".join((question or "").split())
    if not question:
        raise TEXTS.error("no_question")
    if len(question) > MAX_QUESTION:
        raise TEXTS.error("long_question", length=len(question), limit=MAX_QUESTION)
    return question


def is_donut(pipe: Any) -> bool:
    """Donut-style encoder-decoder readers take a task prompt, not chat messages."""
    return pipe.model.config.model_type == "vision-encoder-decoder"


def generation_options(
    pipe: Any, entry: ModelEntry, question: str, max_new_tokens: int
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The catalog entry's generation settings with the request's token limit, lowered to what the
    decoder can still write after its prompt (Donut's decoder has 128 positions); with the note
    that says so, in every language (None when nothing was lowered)."""
    prompt_tokens = 0
    if is_donut(pipe):
        tokenizer = getattr(pipe, "tokenizer", None) or pipe.processor.tokenizer
        # The decoder start token, then the task prompt.
        prompt_tokens = 1 + len(tokenizer(DONUT_PROMPT.format(question=question), add_special_tokens=False).input_ids)
    kept, note = bounded_new_tokens(pipe.model, entry.label, max_new_tokens, prompt_tokens)
    return {**entry.generate_kwargs, "max_new_tokens": kept}, note


def ask_vision_language_model(pipe: Any, image: Any, question: str, generate_kwargs: dict[str, Any]) -> str:
    """The answer an image-text-to-text pipeline writes to `question` about `image`."""
    if is_donut(pipe):
        out = pipe(image, text=DONUT_PROMPT.format(question=question), return_full_text=False, **generate_kwargs)
        return out[0]["generated_text"].split(DONUT_ANSWER_END)[0].strip()
    messages = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": question}]}]
    out = pipe(text=messages, return_full_text=False, **generate_kwargs)
    return out[0]["generated_text"]


def answer_image(
    pipe: Any, entry: ModelEntry, image: Any, question: str, top_k: int, max_new_tokens: int, lang: str
) -> dict[str, Any]:
    """{answer: score} from a classifier, {"answer": text} from a vision-language model (with a
    "note" when the answer's length was lowered to what the model can write)."""
    if entry.task == CLASSIFIER_TASK:
        return {r["answer"]: r["score"] for r in pipe(image, question, top_k=top_k)}
    # A JSON object either way, so the output component and API clients get one shape per kind.
    options, note = generation_options(pipe, entry, question, max_new_tokens)
    answer = {"answer": ask_vision_language_model(pipe, image, question, options)}
    return {**answer, "note": note[lang]} if note else answer


# ---- "show code" ----------------------------------------------------------------------------------


def image_setup(image_name: str) -> tuple[list[str], list[str]]:
    """(imports, set-up lines) that open the picture into `image`."""
    return ["from PIL import Image"], [f'image = Image.open({image_name!r}).convert("RGB")']


def classifier_snippet(
    model_id: str, model_kwargs: dict[str, Any], device: str | None, image_name: str, question: str, top_k: int
) -> str:
    """A script that asks a ViLT-style classifier as the app's adapter did.

    `model_kwargs` and `device` are what the model was loaded with (playground.core.snippets.from_pretrained_kwargs).
    """
    processor_kwargs = {k: model_kwargs[k] for k in ("revision", "trust_remote_code") if k in model_kwargs}
    model = format_call("AutoModelForVisualQuestionAnswering.from_pretrained", [model_id], model_kwargs)
    return (
        "\n".join(
            [
                "import torch",
                "from PIL import Image",
                "from transformers import AutoModelForVisualQuestionAnswering, AutoProcessor",
                "",
                "processor = " + format_call("AutoProcessor.from_pretrained", [model_id], processor_kwargs),
                f"model = {model}.eval()",
                *([f"model.to({device!r})"] if device else []),
                "",
                f'image = Image.open({image_name!r}).convert("RGB")',
                f'inputs = processor(images=image, text={question!r}, return_tensors="pt", truncation=True).to(model.device)',
                "with torch.inference_mode():",
                "    # One independent probability per answer (VQA classifiers are trained with a sigmoid loss).",
                "    probs = model(**inputs).logits[0].float().sigmoid()",
                f"scores, ids = probs.topk({top_k})",
                'result = [{"answer": model.config.id2label[i], "score": s} for s, i in zip(scores.tolist(), ids.tolist())]',
                "print(result)",
            ]
        )
        + "\n"
    )


def vision_language_snippet(
    model_id: str,
    load_kwargs: dict[str, Any],
    imports: list[str],
    setup: list[str],
    question: str,
    generate_kwargs: dict[str, Any],
    donut: bool,
) -> str:
    """A script that asks an image-text-to-text pipeline (chat messages, or Donut's prompt) about `image`."""
    options = {**generate_kwargs, "return_full_text": False}
    if donut:
        call = format_call("pipe", [Raw("image")], {"text": DONUT_PROMPT.format(question=question), **options})
        show = f'print(result[0]["generated_text"].split({DONUT_ANSWER_END!r})[0].strip())'
    else:
        setup = [
            *setup,
            'messages = [{"role": "user", "content": [{"type": "image", "image": image}, '
            f'{{"type": "text", "text": {question!r}}}]}}]',
        ]
        call = format_call("pipe", [], {"text": Raw("messages"), **options})
        show = 'print(result[0]["generated_text"])'
    lines = [
        *imports,
        "from transformers import pipeline",
        "",
        "pipe = " + format_call("pipeline", [CHAT_TASK], {"model": model_id, **load_kwargs}),
        "",
        *setup,
        "",
        "result = " + call,
        show,
    ]
    return "\n".join(lines) + "\n"
