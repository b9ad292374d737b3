"""scripts/make_test_models.py: every model it writes loads through the real transformers entry
point and runs one inference. Assertions are about structure only (random weights)."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw
from transformers import pipeline

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_test_models.py"
SAMPLING_RATE = 16000


def load_script() -> ModuleType:
    # Loaded by path so the test does not depend on the repo root being on sys.path.
    spec = importlib.util.spec_from_file_location("make_test_models", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


mtm = load_script()


def mtm_course_models() -> list[str]:
    """The course tabs' models: their tabs' recipes, and the visual QA tab's extractive QA models."""
    recipes = mtm.tab_recipes()
    course = ("text_classification", "named_entities", "summarization", "translation")
    return [*(name for key in course for name in recipes[key].BUILDERS), "distilbert-qa", "roberta-qa"]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Run the script as a user would (CLI, tiny size); return (out_dir, stdout)."""
    out = tmp_path_factory.mktemp("test-models")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True, timeout=120, check=True
    )
    return out, result.stdout


@pytest.fixture(scope="session")
def models(built: tuple[Path, str]) -> Path:
    return built[0]


def audio(seconds: float) -> dict:
    # A fresh dict per call: the ASR pipeline pops "raw"/"sampling_rate" out of its input.
    wave = np.random.default_rng(0).standard_normal(int(seconds * SAMPLING_RATE)).astype(np.float32) * 0.1
    return {"raw": wave, "sampling_rate": SAMPLING_RATE}


@pytest.fixture(scope="module")
def image() -> Image.Image:
    pixels = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def file_hashes(directory: Path) -> dict[str, str]:
    return {
        str(f.relative_to(directory)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(directory.rglob("*"))
        if f.is_file()
    }


# --- the script itself -------------------------------------------------------------------------


def test_prints_one_line_per_model_then_the_catalog(built: tuple[Path, str]) -> None:
    out, stdout = built
    lines = stdout.splitlines()
    assert [line.split()[0] for line in lines] == [*mtm.all_builders(), "catalog"]
    assert lines[-1].split()[1] == str(out / "models.yaml")


def test_each_tab_recipe_is_found_by_its_key(models: Path) -> None:
    """A tab's folder holds its test models' recipe; the script writes its models and its catalog block."""
    recipes = mtm.tab_recipes()
    assert "fill_mask" in recipes and set(recipes["fill_mask"].BUILDERS) <= set(mtm.all_builders())
    catalog = yaml.safe_load((models / "models.yaml").read_text())
    for key, recipe in recipes.items():
        written = [model["label"] for model in catalog["tabs"][key]["models"]]
        assert written[: len(recipe.CATALOG)] == [entry.label for entry in recipe.CATALOG], key
        assert all((models / name).is_dir() for name in recipe.BUILDERS if name != "minilm"), key


def test_rerun_overwrites_with_identical_files(models: Path, tmp_path: Path) -> None:
    names = ["whisper", "clip", "roberta-mlm", "llama-chat"]  # every tokenizer-training path
    before = {name: file_hashes(models / name) for name in names}
    (models / "clip" / "stale.txt").write_text("left over from an older run")
    mtm.build_models(models, "tiny", names)
    assert {name: file_hashes(models / name) for name in names} == before


def test_only_rejects_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nope"):
        mtm.build_models(tmp_path, "tiny", ["vit", "nope"])


def test_catalog_layout(models: Path) -> None:
    text = (models / "models.yaml").read_text()
    assert text.startswith("# Test catalog written by scripts/make_test_models.py")
    catalog = yaml.safe_load(text)
    assert catalog["defaults"] == {"device": "cpu", "max_loaded_models": 4, "allow_custom_models": False}
    # Every tab with a catalog block has one in the test catalog, in the tab strip's order.
    from playground.config.registry import TAB_SPECS

    assert list(catalog["tabs"]) == [spec.key for spec in TAB_SPECS if spec.catalogued]
    for tab, spec in catalog["tabs"].items():
        entries = spec["models"]
        assert any(entry.get("default") for entry in entries), tab
        for entry in entries:
            assert set(entry) <= {"id", "label", "task", "default", "description", "document", "prompt"}
            assert entry["label"] and entry["task"] and entry["description"]
            path = Path(entry["id"])
            if entry["id"].startswith("./"):
                path = models / entry["id"]
            else:
                assert path.is_absolute(), entry
            assert (path / "config.json").is_file(), entry
    fill_mask = {entry["label"]: entry for entry in catalog["tabs"]["fill_mask"]["models"]}
    assert fill_mask["Not a masked LM (test)"]["id"] == "./llama-base"


def test_vocab_size_matches_tokenizer(models: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    for name in [
        "whisper",
        "wav2vec2",
        "bert-mlm",
        "roberta-mlm",
        "nli",
        "clip",
        "vilt",
        "llava",
        "layoutlm",
        "llama-chat",
        "llama-base",
        "distilbert-mlm",
        "distilbert-nli",
        "albert-mlm",
        "xlm-roberta-mlm",
        "bart-mnli",
        "gpt2",
        "qwen2-chat",
        "idefics3",
        *mtm_course_models(),
    ]:
        config = AutoConfig.from_pretrained(models / name)
        vocab_size = getattr(config, "text_config", config).vocab_size
        assert vocab_size == len(AutoTokenizer.from_pretrained(models / name)), name


def test_fill_mask_words_are_single_tokens(models: Path) -> None:
    from transformers import AutoTokenizer

    bert = AutoTokenizer.from_pretrained(models / "bert-mlm")
    roberta = AutoTokenizer.from_pretrained(models / "roberta-mlm")
    for word in ["man", "woman", "doctor", "nurse", "carpenter", "works"]:
        assert len(bert.tokenize(word)) == 1, word
        assert len(roberta.tokenize(f" {word}")) == 1, word
    assert roberta.tokenize("a <mask>.") == ["a", " <mask>", "."]  # mask absorbs its space


# --- speech to text ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def whisper(models: Path):
    return pipeline("automatic-speech-recognition", model=str(models / "whisper"))


def test_whisper_special_token_layout(whisper) -> None:
    tokenizer, generation = whisper.tokenizer, whisper.model.generation_config
    no_timestamps = tokenizer.convert_tokens_to_ids("<|notimestamps|>")
    assert tokenizer.all_special_ids[-1] == no_timestamps == generation.no_timestamps_token_id
    first_and_last = tokenizer.convert_ids_to_tokens([no_timestamps + 1, no_timestamps + 1501])
    assert first_and_last == ["<|0.00|>", "<|30.00|>"]
    assert generation.lang_to_id["<|fr|>"] == tokenizer.convert_tokens_to_ids("<|fr|>")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"generate_kwargs": {"task": "translate", "language": "en"}},
        {"generate_kwargs": {"task": "transcribe", "language": "fr"}},
    ],
    ids=["plain", "translate-en", "transcribe-fr"],
)
def test_whisper_transcribes(whisper, kwargs: dict) -> None:
    assert isinstance(whisper(audio(2), **kwargs)["text"], str)


@pytest.mark.parametrize("return_timestamps", [True, "word"])
def test_whisper_timestamps(whisper, return_timestamps: bool | str) -> None:
    result = whisper(audio(2), return_timestamps=return_timestamps)
    assert result["chunks"]
    for chunk in result["chunks"]:
        # Random tokens can decode to odd segment times (or an open end: None); shape only.
        assert isinstance(chunk["text"], str) and len(chunk["timestamp"]) == 2


def test_whisper_chunked_batched(whisper) -> None:
    result = whisper(audio(40), chunk_length_s=30, batch_size=4, return_timestamps=True)
    assert isinstance(result["text"], str) and isinstance(result["chunks"], list)


def test_wav2vec2_chunked(models: Path) -> None:
    asr = pipeline("automatic-speech-recognition", model=str(models / "wav2vec2"))
    assert isinstance(asr(audio(1))["text"], str)
    assert isinstance(asr(audio(25), chunk_length_s=10, batch_size=2)["text"], str)


# --- images ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vit", "convnext", "resnet", "mobilenet-v2"])
def test_image_classification(models: Path, image: Image.Image, name: str) -> None:
    result = pipeline("image-classification", model=str(models / name))(image, top_k=3)
    assert len(result) == 3
    assert {item["label"] for item in result} <= set(mtm.IMAGE_LABELS)


def test_zero_shot_image_classification(models: Path, image: Image.Image) -> None:
    classifier = pipeline("zero-shot-image-classification", model=str(models / "clip"))
    labels = ["a photo of a cat", "a photo of a dog", "a car"]
    result = classifier(image, candidate_labels=labels)
    assert sorted(item["label"] for item in result) == sorted(labels)
    assert sum(item["score"] for item in result) == pytest.approx(1, abs=1e-4)


# --- text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "targets"),
    [
        ("bert-mlm", "This man works as a [MASK].", ["doctor", "nurse"]),
        ("roberta-mlm", "This man works as a <mask>.", [" doctor", " nurse"]),
    ],
)
def test_fill_mask(models: Path, name: str, text: str, targets: list[str]) -> None:
    fill = pipeline("fill-mask", model=str(models / name))
    assert len(fill(text, top_k=5)) == 5
    result = fill(text, targets=targets)
    assert sorted(item["token_str"].strip() for item in result) == ["doctor", "nurse"]


def test_causal_lm_is_not_a_masked_lm(models: Path) -> None:
    with pytest.raises(Exception, match="mask_token"):
        pipeline("fill-mask", model=str(models / "llama-base"))


def test_zero_shot_classification(models: Path) -> None:
    classifier = pipeline("zero-shot-classification", model=str(models / "nli"))
    labels = ["sports", "politics", "music"]
    result = classifier("The team won the game.", candidate_labels=labels)
    assert sorted(result["labels"]) == sorted(labels) and len(result["scores"]) == 3


def test_sentence_similarity(models: Path) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    model_id = next(
        entry["id"]
        for entry in yaml.safe_load((models / "models.yaml").read_text())["tabs"]["zero_shot"]["models"]
        if entry["task"] == "sentence-similarity"
    )
    path = models / model_id if model_id.startswith("./") else Path(model_id)
    embeddings = sentence_transformers.SentenceTransformer(str(path), device="cpu").encode(["a cat", "a dog"])
    assert embeddings.shape[0] == 2


def test_minilm_stand_in_without_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    monkeypatch.setattr(mtm, "installed_minilm_path", lambda: None)
    path = mtm.build_models(tmp_path, "tiny", ["minilm"])["minilm"]
    assert path == tmp_path / "minilm-random"
    catalog = yaml.safe_load(mtm.write_catalog(tmp_path, "tiny").read_text())
    assert "./minilm-random" in [entry["id"] for entry in catalog["tabs"]["zero_shot"]["models"]]
    embeddings = sentence_transformers.SentenceTransformer(str(path), device="cpu").encode(["a", "b c"])
    assert embeddings.shape == (2, 32)
    assert np.linalg.norm(embeddings, axis=1) == pytest.approx([1, 1], abs=1e-5)


@pytest.mark.parametrize("name", ["llama-chat", "llama-base"])
def test_text_generation(models: Path, name: str) -> None:
    generator = pipeline("text-generation", model=str(models / name))
    result = generator("Once upon a time", max_new_tokens=5)
    assert result[0]["generated_text"].startswith("Once upon a time")
    assert (generator.tokenizer.chat_template is not None) == (name == "llama-chat")


def test_chat_template(models: Path) -> None:
    generator = pipeline("text-generation", model=str(models / "llama-chat"))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}]
    prompt = generator.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n") and "Be brief." in prompt
    reply = generator(messages, max_new_tokens=5)[0]["generated_text"]
    assert [message["role"] for message in reply] == ["system", "user", "assistant"]


# --- visual question answering -----------------------------------------------------------------


def test_vilt_classifier(models: Path, image: Image.Image) -> None:
    from transformers import ViltForQuestionAnswering, ViltProcessor

    processor = ViltProcessor.from_pretrained(models / "vilt")
    model = ViltForQuestionAnswering.from_pretrained(models / "vilt")
    logits = model(**processor(images=image, text="What color is it?", return_tensors="pt")).logits
    assert logits.shape == (1, len(model.config.id2label))
    assert set(model.config.id2label.values()) == set(mtm.tab_recipes()["visual_qa"].VQA_ANSWERS)


def test_image_text_to_text(models: Path, image: Image.Image) -> None:
    chat = pipeline("image-text-to-text", model=str(models / "llava"))
    content = [{"type": "image", "image": image}, {"type": "text", "text": "What is this?"}]
    messages = [{"role": "user", "content": content}]
    reply = chat(text=messages, max_new_tokens=3)[0]["generated_text"]
    assert reply[-1]["role"] == "assistant" and isinstance(reply[-1]["content"], str)


def test_donut_through_image_text_to_text(models: Path, image: Image.Image) -> None:
    reader = pipeline("image-text-to-text", model=str(models / "donut"))
    assert type(reader.model).__name__ == "VisionEncoderDecoderModel"
    prompt = "<s_docvqa><s_question>What is the total?</s_question><s_answer>"
    reply = reader(image, text=prompt, max_new_tokens=3, return_full_text=False)[0]["generated_text"]
    assert isinstance(reply, str) and "<s_docvqa>" not in reply
    assert reader.model.config.decoder.vocab_size == len(reader.tokenizer)


@pytest.fixture(scope="module")
def document() -> Image.Image:
    page = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(page).text((20, 80), "Invoice total 42 dollars", fill="black", font_size=32)
    return page


def test_document_qa_with_word_boxes(models: Path, document: Image.Image) -> None:
    qa = pipeline("document-question-answering", model=str(models / "layoutlm"))
    boxes = [("Invoice", [20, 80, 140, 115]), ("total", [150, 80, 230, 115]), ("42", [240, 80, 280, 115])]
    answers = qa(image=document, question="What is the total?", word_boxes=boxes, top_k=2)
    assert answers and {"score", "answer", "start", "end"} <= set(answers[0])


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_document_qa_with_ocr(models: Path, document: Image.Image) -> None:
    qa = pipeline("document-question-answering", model=str(models / "layoutlm"))
    answers = qa(image=document, question="What is the total?")
    assert answers and isinstance(answers[0]["answer"], str)
