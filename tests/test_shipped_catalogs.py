"""Every entry of the shipped catalogs (models.yaml, models.space.yaml) loads and answers a request.

There is no Hub here, so each entry points at a random-weight model of the same architecture
(scripts/make_test_models.py) and keeps every other setting of its own: dtype, device_map,
max_memory (GPU numbers this machine lacks are left out by the manager), offload_folder,
pipeline_kwargs, generate_kwargs, task. One app serves all of them; each gets one request through
its tab's endpoint, and /loaded_models shows it was loaded with those settings.
"""

from __future__ import annotations

import json
import os
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import RunningApp, launch_app
from PIL import Image, ImageDraw

from playground.config.catalog import ModelEntry, load_catalog
from playground.loading.model_manager import ModelManager
from playground.loading.precision import choose_dtype
from scripts.published_settings import PUBLISHED, apply_published

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("models.yaml", "models.space.yaml")

# Shipped Hub id -> (the test model standing in for it, the architecture the real model has).
STAND_INS: dict[str, tuple[str, str]] = {
    "openai/whisper-base": ("whisper", "WhisperForConditionalGeneration"),
    "openai/whisper-tiny": ("whisper", "WhisperForConditionalGeneration"),
    "openai/whisper-small": ("whisper", "WhisperForConditionalGeneration"),
    "openai/whisper-large-v3-turbo": ("whisper", "WhisperForConditionalGeneration"),
    "facebook/wav2vec2-base-960h": ("wav2vec2", "Wav2Vec2ForCTC"),
    "google/mobilenet_v2_1.0_224": ("mobilenet-v2", "MobileNetV2ForImageClassification"),
    "google/vit-base-patch16-224": ("vit", "ViTForImageClassification"),
    "facebook/convnext-tiny-224": ("convnext", "ConvNextForImageClassification"),
    "microsoft/resnet-50": ("resnet", "ResNetForImageClassification"),
    "microsoft/swin-tiny-patch4-window7-224": ("swin", "SwinForImageClassification"),
    "google-bert/bert-base-uncased": ("bert-mlm", "BertForMaskedLM"),
    "google-bert/bert-base-multilingual-cased": ("bert-mlm", "BertForMaskedLM"),
    "distilbert/distilbert-base-uncased": ("distilbert-mlm", "DistilBertForMaskedLM"),
    "FacebookAI/roberta-base": ("roberta-mlm", "RobertaForMaskedLM"),
    "albert/albert-base-v2": ("albert-mlm", "AlbertForMaskedLM"),
    "FacebookAI/xlm-roberta-base": ("xlm-roberta-mlm", "XLMRobertaForMaskedLM"),
    "sentence-transformers/all-MiniLM-L6-v2": ("minilm", "BertModel"),
    "facebook/bart-large-mnli": ("bart-mnli", "BartForSequenceClassification"),
    "typeform/distilbert-base-uncased-mnli": ("distilbert-nli", "DistilBertForSequenceClassification"),
    "openai/clip-vit-base-patch32": ("clip", "CLIPModel"),
    "dandelin/vilt-b32-finetuned-vqa": ("vilt", "ViltForQuestionAnswering"),
    "HuggingFaceTB/SmolVLM-256M-Instruct": ("idefics3", "Idefics3ForConditionalGeneration"),
    "HuggingFaceTB/SmolVLM-500M-Instruct": ("idefics3", "Idefics3ForConditionalGeneration"),
    "impira/layoutlm-document-qa": ("layoutlm", "LayoutLMForQuestionAnswering"),
    "naver-clova-ix/donut-base-finetuned-docvqa": ("donut", "VisionEncoderDecoderModel"),
    "Qwen/Qwen2.5-0.5B-Instruct": ("qwen2-chat", "Qwen2ForCausalLM"),
    "HuggingFaceTB/SmolLM2-360M": ("llama-base", "LlamaForCausalLM"),
    "openai-community/gpt2": ("gpt2", "GPT2LMHeadModel"),
    "meta-llama/Llama-3.1-8B-Instruct": ("llama-chat", "LlamaForCausalLM"),
    "distilbert/distilbert-base-uncased-finetuned-sst-2-english": (
        "distilbert-sentiment",
        "DistilBertForSequenceClassification",
    ),
    "tabularisai/multilingual-sentiment-analysis": ("distilbert-sentiment", "DistilBertForSequenceClassification"),
    "FacebookAI/roberta-large-mnli": ("roberta-nli", "RobertaForSequenceClassification"),
    "SamLowe/roberta-base-go_emotions": ("roberta-nli", "RobertaForSequenceClassification"),
    "BAAI/bge-reranker-v2-m3": ("xlmr-reranker", "XLMRobertaForSequenceClassification"),
    "ProsusAI/finbert": ("bert-emotions", "BertForSequenceClassification"),
    "dslim/bert-base-NER": ("bert-ner", "BertForTokenClassification"),
    "Davlan/bert-base-multilingual-cased-ner-hrl": ("bert-ner", "BertForTokenClassification"),
    "Leo97/KoELECTRA-small-v3-modu-ner": ("electra-ner", "ElectraForTokenClassification"),
    "distilbert/distilbert-base-cased-distilled-squad": ("distilbert-qa", "DistilBertForQuestionAnswering"),
    "deepset/roberta-base-squad2": ("roberta-qa", "RobertaForQuestionAnswering"),
    "facebook/bart-large-cnn": ("bart-cnn", "BartForConditionalGeneration"),
    "sshleifer/distilbart-cnn-12-6": ("bart-cnn", "BartForConditionalGeneration"),
    "google/flan-t5-small": ("t5", "T5ForConditionalGeneration"),
    "Helsinki-NLP/opus-mt-fr-en": ("opus-mt-fr-en", "MarianMTModel"),
    "Helsinki-NLP/opus-mt-ko-en": ("opus-mt-fr-en", "MarianMTModel"),
    "facebook/nllb-200-distilled-600M": ("nllb", "M2M100ForConditionalGeneration"),
    "facebook/dinov2-small": ("dinov2", "Dinov2Model"),
    "MIT/ast-finetuned-audioset-10-10-0.4593": ("ast-audioset", "ASTForAudioClassification"),
    "superb/wav2vec2-base-superb-ks": ("wav2vec2-keywords", "Wav2Vec2ForSequenceClassification"),
    "laion/clap-htsat-unfused": ("clap", "ClapModel"),
    "facebook/mms-tts-eng": ("vits-eng", "VitsModel"),
    "facebook/mms-tts-kor": ("vits-kor", "VitsModel"),
    "facebook/musicgen-small": ("musicgen", "MusicgenForConditionalGeneration"),
    "google/tapas-base-finetuned-wtq": ("tapas-wtq", "TapasForQuestionAnswering"),
    "google/tapas-small-finetuned-wtq": ("tapas-wtq", "TapasForQuestionAnswering"),
    "google/tapas-base-finetuned-sqa": ("tapas-sqa", "TapasForQuestionAnswering"),
    "MCG-NJU/videomae-base-finetuned-kinetics": ("videomae", "VideoMAEForVideoClassification"),
    "facebook/timesformer-base-finetuned-k400": ("timesformer", "TimesformerForVideoClassification"),
    "hustvl/yolos-tiny": ("yolos", "YolosForObjectDetection"),
    "facebook/detr-resnet-50": ("detr", "DetrForObjectDetection"),
    "PekingU/rtdetr_r50vd": ("rt-detr", "RTDetrForObjectDetection"),
    "google/owlv2-base-patch16-ensemble": ("owlv2", "Owlv2ForObjectDetection"),
    "IDEA-Research/grounding-dino-tiny": ("grounding-dino", "GroundingDinoForObjectDetection"),
    "nvidia/segformer-b0-finetuned-ade-512-512": ("segformer", "SegformerForSemanticSegmentation"),
    "facebook/mask2former-swin-tiny-coco-panoptic": ("mask2former", "Mask2FormerForUniversalSegmentation"),
    "depth-anything/Depth-Anything-V2-Small-hf": ("depth-anything", "DepthAnythingForDepthEstimation"),
    "Intel/dpt-large": ("dpt", "DPTForDepthEstimation"),
    "facebook/sam-vit-base": ("sam", "SamModel"),
    "nielsr/slimsam-50-uniform": ("sam", "SamModel"),
    "magic-leap-community/superglue_outdoor": ("superglue", "SuperGlueForKeypointMatching"),
    "ETH-CVG/lightglue_superpoint": ("lightglue", "LightGlueForKeypointMatching"),
}
# Settings that do not change how a model loads or runs (labels and descriptions are kept too).
_NOT_SETTINGS = ("label", "description", "default", "params")


def stand_in_path(test_models: Path, hub_id: str) -> Path:
    name = STAND_INS[hub_id][0]
    if name == "minilm":  # the real MiniLM from PyPI when installed, else a random stand-in
        catalog = load_catalog(test_models / "models.yaml")
        return Path(catalog.resolve_path(catalog.default_model("zero_shot", "sentence-similarity")))
    return test_models / name


def linked_copy(source: Path, target: Path) -> None:
    """A copy of a model folder made of hard links where the file system allows (no bytes copied)."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if not target.exists():
        shutil.copytree(source, target, copy_function=link)


def mirrored_catalog(test_models: Path, out: Path) -> tuple[Path, list[tuple[str, dict[str, Any]]]]:
    """One catalog holding every shipped entry (models.yaml first; a models.space.yaml entry only when
    its settings differ), each on its stand-in; returns the path and the (tab, entry) list."""
    merged: dict[str, dict[str, Any]] = {}
    entries: list[tuple[str, dict[str, Any]]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    defaults = yaml.safe_load((ROOT / SHIPPED[0]).read_text())["defaults"]
    for index, name in enumerate(SHIPPED):
        for tab, spec in yaml.safe_load((ROOT / name).read_text())["tabs"].items():
            for shipped in spec["models"]:
                entry = {**shipped, "task": shipped.get("task") or spec.get("task")}
                settings = {k: v for k, v in entry.items() if k not in _NOT_SETTINGS}
                if seen.get((tab, entry["id"])) == settings:
                    continue
                # A folder per entry (several entries share a stand-in): each loads as a model of its own.
                folder = out / "models" / (entry["id"].replace("/", "--") + (f"-{index}" if index else ""))
                if (tab, entry["id"]) in seen:  # the same model with other settings
                    entry["label"] = f"{entry.get('label', entry['id'])} ({name})"
                seen[(tab, entry["id"])] = settings
                linked_copy(stand_in_path(test_models, entry["id"]), folder)
                # Random weights, the real checkpoint's generation settings (scripts/published_settings.py).
                apply_published(folder, entry["id"])
                entry["id"] = str(folder)
                if index:
                    entry.pop("default", None)  # the first catalog's defaults stay the defaults
                merged.setdefault(tab, {"models": []})["models"].append(entry)
                entries.append((tab, entry))
    catalog = out / "models.yaml"
    catalog.write_text(yaml.safe_dump({"defaults": defaults, "tabs": merged}, allow_unicode=True, sort_keys=False))
    return catalog, entries


def test_every_shipped_model_has_a_stand_in_of_its_architecture(test_models: Path) -> None:
    for name in SHIPPED:
        for tab in load_catalog(ROOT / name).tabs.values():
            for entry in tab.models:
                assert entry.id in STAND_INS, f"{name}: {entry.id} has no stand-in in STAND_INS"
    for hub_id, (_, architecture) in STAND_INS.items():
        config = json.loads((stand_in_path(test_models, hub_id) / "config.json").read_text())
        assert config["architectures"] == [architecture], hub_id


def test_every_generating_stand_in_carries_its_checkpoints_settings(tmp_path: Path, test_models: Path) -> None:
    """The table covers every generating model the catalogs ship, and applying it really changes the
    stand-in's files (a copy, not the shared test model)."""
    generating = {"summarization", "translation", "text-generation", "image-text-to-text"}
    for name in SHIPPED:
        for tab in load_catalog(ROOT / name).tabs.values():
            for entry in tab.models:
                if entry.task in generating:
                    assert entry.id in PUBLISHED, f"{name}: {entry.id} has no row in scripts/published_settings.py"
    catalog, entries = mirrored_catalog(test_models, tmp_path)
    marian = next(Path(e["id"]) for _, e in entries if e["id"].endswith("opus-mt-ko-en"))
    assert json.loads((marian / "generation_config.json").read_text())["num_beams"] == 4
    bart = next(Path(e["id"]) for _, e in entries if e["id"].endswith("bart-large-cnn"))
    assert json.loads((bart / "config.json").read_text())["task_specific_params"]["summarization"]["min_length"] == 56
    assert "task_specific_params" not in json.loads((test_models / "bart-cnn" / "config.json").read_text())


def test_the_shipped_llama_entry_loads_through_the_manager(test_models: Path, tmp_path: Path) -> None:
    """YAML reads `max_memory: {0: 14GiB, cpu: 24GiB}` with an int key: it used to break cache_key."""
    catalog_path, entries = mirrored_catalog(test_models, tmp_path)
    catalog = load_catalog(catalog_path)
    llama = next(entry for tab, entry in entries if entry["label"] == "Llama 3.1 8B Instruct")
    assert llama["max_memory"] == {0: "14GiB", "cpu": "24GiB"}, "the shipped entry still has a GPU key"
    manager = ModelManager(catalog)
    loaded = manager.get("text_generation", "Llama 3.1 8B Instruct")
    assert loaded.dtype == "bfloat16" and str(loaded.model.model.dtype) == "torch.bfloat16"
    assert loaded.load_kwargs["device_map"] == "auto"
    # No GPU here: GPU 0's budget is left out rather than handed to accelerate for a missing device.
    assert loaded.load_kwargs["model_kwargs"]["max_memory"] == {"cpu": "24GiB"}
    assert loaded.load_kwargs["model_kwargs"]["offload_folder"] == str(tmp_path / "offload")
    assert manager.get("text_generation", "Llama 3.1 8B Instruct") is loaded


@pytest.fixture(scope="module")
def shipped_app(test_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningApp, list]]:
    root = tmp_path_factory.mktemp("shipped")
    catalog, entries = mirrored_catalog(test_models, root)
    running = launch_app(catalog, root)
    yield running, entries
    running.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("shipped-inputs")
    speech = root / "noise.wav"
    samples = (np.random.default_rng(0).standard_normal(16000) * 3000).astype(np.int16)
    with wave.open(str(speech), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(samples.tobytes())
    picture = root / "picture.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(picture)
    page = root / "page.png"
    image = Image.new("RGB", (480, 200), "white")
    ImageDraw.Draw(image).text((20, 80), "Invoice total 42 dollars", fill="black", font_size=32)
    image.save(page)
    clip = ROOT / "assets" / "examples" / "video" / "bouncing_ball.mp4"
    return {"audio": str(speech), "image": str(picture), "document": str(page), "video": str(clip)}


def request_for(tab: str, task: str, document: bool, inputs: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The endpoint that serves a tab's task and the inputs of one small request."""
    from gradio_client import handle_file

    if tab == "summarization":  # seq2seq models and chat models alike
        return "/summarize", {"text": "The course teaches transformers. It runs on a laptop. Every tab shows code."}
    if tab == "translation":
        return "/translate", {"text": "Ce cours est produit par Hugging Face."}  # each model's own default languages
    if task == "model-anatomy":
        return "/model_anatomy", {}
    if task == "attention":
        return "/attention", {"text": "The animal didn't cross the street because it was too tired."}
    if task == "text-classification":
        return "/classify_text", {"text": "I've been waiting for a HuggingFace course my whole life."}
    if task == "token-classification":
        return "/extract_entities", {"text": "My name is Sylvain and I work at Hugging Face in Brooklyn."}
    if task == "question-answering":
        return "/answer_question", {
            "question": "Where do I work?",
            "context": "My name is Sylvain and I work at Hugging Face in Brooklyn.",
        }
    if task == "table-question-answering":
        return "/answer_table_question", {
            "question": "How many stars does the transformers repository have?",
            "table": {"headers": ["Repository", "Stars"], "data": [["Transformers", "36542"], ["Datasets", "4512"]]},
        }

    if task == "tokenizer":
        return "/tokenize", {"text": "Hugging Face의 트랜스포머 강좌"}
    if task == "fine-tune-text-classification":  # one short epoch of the shipped example on the stand-in
        return "/fine_tune", {"epochs": 1, "max_length": 16, "batch_size": 32}
    if task == "feature-extraction":
        return "/embed", {"texts": "A man is playing a guitar.\nThe film was great."}
    if task == "image-feature-extraction":
        return "/embed_images", {"images": [handle_file(inputs["image"]), handle_file(inputs["image"])]}
    if task == "automatic-speech-recognition":
        return "/transcribe", {"audio": handle_file(inputs["audio"]), "language": "en", "timestamps": "off"}
    if task == "image-classification":
        return "/classify_image", {"image": handle_file(inputs["image"])}
    if task == "audio-classification":
        return "/classify_audio", {"audio": handle_file(inputs["audio"])}
    if task == "zero-shot-audio-classification":
        return "/classify_audio_zero_shot", {"audio": handle_file(inputs["audio"]), "labels": "speech, a dog barking"}
    if task == "text-to-audio":
        return "/synthesize_speech", {"text": "Welcome to the course."}
    if task == "video-classification":
        return "/classify_video", {"video": handle_file(inputs["video"])}
    if task == "fill-mask":
        return "/fill_mask", {"text": "This man works as a [MASK] ."}
    if task in ("zero-shot-classification", "sentence-similarity"):
        return "/zero_shot_text", {
            "text": "This is a course about the Transformers library",
            "labels": "education, politics",
        }
    if task == "zero-shot-image-classification":
        return "/zero_shot_image", {"image": handle_file(inputs["image"]), "labels": "cat, dog"}
    if task == "document-question-answering" or document:
        return "/answer_document_question", {
            "document": handle_file(inputs["document"]),
            "question": "What is the total?",
        }
    if task in ("vqa-classifier", "image-text-to-text"):
        return "/answer_image_question", {"image": handle_file(inputs["image"]), "question": "What is in the picture?"}
    if task == "text-generation":
        return "/generate", {"prompt": "In this course, we will teach you how to"}
    if task == "object-detection":
        return "/detect_objects", {"image": handle_file(inputs["image"])}
    if task == "zero-shot-object-detection":
        return "/detect_objects_zero_shot", {"image": handle_file(inputs["image"]), "labels": "cat, dog"}
    if task == "image-segmentation":
        return "/segment_image", {"image": handle_file(inputs["image"])}
    if task == "depth-estimation":
        return "/estimate_depth", {"image": handle_file(inputs["image"])}
    if task == "mask-generation":
        return "/generate_mask", {"image": handle_file(inputs["image"])}
    if task == "keypoint-matching":
        return "/match_keypoints", {"first": handle_file(inputs["image"]), "second": handle_file(inputs["image"])}
    raise AssertionError(f"no request for task {task}")


# Values for parameters an endpoint may still require although the UI has a default for them, and
# short outputs so every request stays quick; each is sent only to endpoints that have it.
FILL_INS = {"targets": "", "stop": "", "system_prompt": "", "max_new_tokens": 4, "music_seconds": 1}
SHORT_OUTPUTS = ("max_new_tokens", "music_seconds")  # sent even where the endpoint has a default


def call(client: Any, api: str, given: dict[str, Any]) -> Any:
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api]["parameters"]
    names = {p["parameter_name"]: p for p in params}
    kwargs = dict(given)
    for name, value in FILL_INS.items():
        if name in names and name not in kwargs and (name in SHORT_OUTPUTS or not names[name]["parameter_has_default"]):
            kwargs[name] = value
    return client.predict(**kwargs, api_name=api)


def test_every_shipped_entry_answers_a_request(shipped_app: tuple[RunningApp, list], inputs: dict[str, str]) -> None:
    running, entries = shipped_app
    client = running.client()
    for tab, entry in entries:
        api, given = request_for(tab, entry["task"], bool(entry.get("document")), inputs)
        if entry.get("prompt"):  # a captioner: the picture alone, and the entry asks its own prompt
            given.pop("question")
        result = call(client, api, {**given, "model": entry["label"]})
        assert result is not None and result != (), (tab, entry["label"])
        if entry.get("prompt"):
            assert repr(entry["prompt"]) in result[1], "the snippet asks the entry's prompt"
        if entry["task"] == "tokenizer":  # the tokenizer alone is read: no model is loaded
            assert result[4]["input_ids"], entry["label"]
            continue
        if entry["task"] == "fine-tune-text-classification":  # trained, not loaded: the report says so
            assert "Validation accuracy" in result[3], entry["label"]
            continue
        loaded = {m["label"]: m for m in client.predict(api_name="/loaded_models")}
        summary = loaded[entry["label"]]
        kwargs = summary["load_kwargs"]
        assert summary["task"] == entry["task"], entry["label"]
        # The dtype chosen for this CPU from what the entry asks (playground.loading.precision).
        expected = choose_dtype(ModelEntry.model_validate(entry), "cpu").dtype
        assert kwargs["dtype"] == expected, entry["label"]
        assert kwargs.get("device_map") == entry.get("device_map"), entry["label"]
        if entry.get("max_memory"):
            cpu_only = {str(k): v for k, v in entry["max_memory"].items() if not str(k).isdigit()}
            assert kwargs["model_kwargs"].get("max_memory") == cpu_only, entry["label"]
        if entry.get("offload_folder"):
            assert kwargs["model_kwargs"]["offload_folder"] == str(running.log_path.parent / entry["offload_folder"])
        for name, value in entry.get("pipeline_kwargs", {}).items():
            assert kwargs[name] == value, (entry["label"], name)
    assert "Traceback" not in running.log()
