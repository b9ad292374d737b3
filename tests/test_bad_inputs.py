"""Bad input on every endpoint gets a clear message, and the app keeps serving.

One table of cases over all endpoints, sent to the launched app (tight limits: 1 MB uploads, 30 s of
audio, 3 PDF pages) through `gradio_client`, or through the plain HTTP API for what gradio_client
cannot send (NaN, server paths, uploads over the limit). Each case names the message it expects; no
answer may carry a traceback, an exception class or the catch-all "something went wrong". The last
test checks that every tab still answers a normal request afterwards.
"""

from __future__ import annotations

import io
import json
import re
import struct
import wave
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from api_helpers import FILEDATA_META, positional, raw_predict, upload
from conftest import RunningApp, catalog_variant, launch_app
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from playground.media.images import EXAMPLES_DIR

# What a clear message never contains: stack traces, exception class dumps, Gradio/pydantic internals,
# or the catch-all for unexpected failures (the table must find none of those).
UNCLEAR = re.compile(
    r"Traceback|File \"|\b[A-Z]\w*(Error|Exception)\b:|validation error for|pydantic|Could not preprocess"
    r"|The model failed on this input"
)


@dataclass(frozen=True)
class Upload:
    """A file from the bad-files folder, uploaded the way a client does."""

    name: str


@dataclass(frozen=True)
class ServerPath:
    """A path on the server sent as a file value without uploading anything (an attack, not a client)."""

    path: str
    with_meta: bool = False


@dataclass
class Case:
    id: str
    api: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    expect: str = ""  # regex the error message must match
    raw: bool = False  # send through the plain HTTP API instead of gradio_client


NAN, INF = float("nan"), float("inf")
MASKED = "Paris is the [MASK] of France."
GENERATE = dict(
    model="",
    max_new_tokens=4,
    temperature=0.7,
    top_p=0.9,
    top_k=5,
    repetition_penalty=1.0,
    do_sample=True,
    seed=0,
    stop="",
)
FILL = dict(model="", top_k=5, targets="")
BIAS = dict(model="", targets="", top_k=5)
ZS_TEXT = dict(
    model="", labels="positive, negative", hypothesis_template="This example is {}.", multi_label=False, batch=False
)
ZS_IMAGE = dict(model="", labels="circle, square", hypothesis_template="a photo of a {}.")
VQA = dict(question="What colour is it?", model="", top_k=3, max_new_tokens=4)
DOC = dict(question="What is the total?", model="", ocr_language="eng")
ASR = dict(model="", task="transcribe", language="auto", timestamps="segment", max_chars_per_line=42)
SOUNDS = dict(model="", top_k=5, window_seconds=10)
SOUNDS_ZS = dict(model="", labels="speech, music", hypothesis_template="This is a sound of {}.", window_seconds=10)
SPEAK = dict(model="", seed=0, music_seconds=1)
NOT_AN_IMAGE = r"not an image Pillow can open"
NOT_AUDIO = r"could not be read as audio"
NOT_IN_CATALOG = r"not in this app's catalog\. Choose one of"
NOT_UPLOADED = r"was not uploaded to this app"
UPLOAD_NEEDED = r"expected an uploaded file"


def case(id: str, api: str, *args: Any, expect: str, raw: bool = False, **kwargs: Any) -> Case:
    return Case(id, api, args, kwargs, expect, raw)


CASES = [
    # ---- /classify_image ------------------------------------------------------------------------
    case("image-empty-file", "/classify_image", Upload("empty.png"), expect=NOT_AN_IMAGE),
    case("image-text-file", "/classify_image", Upload("text.png"), expect=NOT_AN_IMAGE),
    case("image-truncated", "/classify_image", Upload("truncated.png"), expect=r"damaged or truncated"),
    case("image-bomb-900mp", "/classify_image", Upload("bomb.png"), expect=r"too large: 900 MP"),
    case("image-bomb-100mp", "/classify_image", Upload("bomb100.png"), expect=r"too large: 100 MP"),
    case("image-48mp-over-limit", "/classify_image", Upload("big48.png"), expect=r"8000×6000 pixels .* limit is 40 MP"),
    case("image-zero-width", "/classify_image", Upload("zero.png"), expect=NOT_AN_IMAGE),
    case("image-audio-file", "/classify_image", Upload("garbage.mp3"), expect=NOT_AN_IMAGE),
    case("image-none", "/classify_image", None, expect=r"provide an image"),
    # ---- /classify_video ------------------------------------------------------------------------
    case("video-none", "/classify_video", None, expect=r"Upload a video clip first"),
    case("video-text-file", "/classify_video", Upload("text.mp4"), expect=r"text\.mp4 could not be read as a video"),
    case("video-audio-file", "/classify_video", Upload("ok.wav"), expect=r"ok\.wav has no video track"),
    case("video-still-picture", "/classify_video", Upload("noise.png"), expect=r"noise\.png is a still picture"),
    case("video-truncated", "/classify_video", Upload("truncated.mp4"), expect=r"truncated\.mp4 is damaged"),
    case(
        "video-rate-nan",
        "/classify_video",
        Upload("truncated.mp4"),
        model="",
        top_k=5,
        frame_sampling_rate=NAN,
        raw=True,
        expect=r"frame_sampling_rate: nan is not a finite number",
    ),
    case(
        "image-top-k-negative",
        "/classify_image",
        Upload("noise.png"),
        top_k=-1,
        expect=r"top_k: -1 is below the minimum of 1",
    ),
    case(
        "image-top-k-huge",
        "/classify_image",
        Upload("noise.png"),
        top_k=10**6,
        expect=r"top_k: 1000000 is above the maximum",
    ),
    case(
        "image-top-k-string", "/classify_image", Upload("noise.png"), top_k="five", expect=r"top_k: expected a number"
    ),
    case(
        "image-top-k-nan",
        "/classify_image",
        Upload("noise.png"),
        top_k=NAN,
        raw=True,
        expect=r"top_k: nan is not a finite number",
    ),
    case(
        "image-unknown-model",
        "/classify_image",
        Upload("noise.png"),
        model="someone/100GB-model",
        expect=NOT_IN_CATALOG,
    ),
    case("image-model-path", "/classify_image", Upload("noise.png"), model="../../etc/passwd", expect=NOT_IN_CATALOG),
    case(
        "image-model-other-tab", "/classify_image", Upload("noise.png"), model="BERT MLM (test)", expect=NOT_IN_CATALOG
    ),
    case("image-string-path", "/classify_image", "/etc/passwd", expect=UPLOAD_NEEDED),
    case("image-server-path", "/classify_image", ServerPath("/etc/passwd"), raw=True, expect=NOT_UPLOADED),
    case(
        "image-server-image",
        "/classify_image",
        ServerPath(str(Path(__file__).parents[1] / "assets/examples/house.png")),
        raw=True,
        expect=NOT_UPLOADED,
    ),
    case(
        "image-server-path-meta",
        "/classify_image",
        ServerPath("/etc/hostname", with_meta=True),
        raw=True,
        expect=NOT_UPLOADED,
    ),
    case(
        "image-upload-over-limit",
        "/classify_image",
        Upload("big.png"),
        raw=True,
        expect=r"File size exceeded maximum allowed size of 1048576 bytes",
    ),
    # ---- /zero_shot_image -----------------------------------------------------------------------
    case("zs-image-bomb", "/zero_shot_image", Upload("bomb.png"), **ZS_IMAGE, expect=r"too large"),
    case("zs-image-text-file", "/zero_shot_image", Upload("text.png"), **ZS_IMAGE, expect=NOT_AN_IMAGE),
    case(
        "zs-image-no-labels",
        "/zero_shot_image",
        Upload("noise.png"),
        **{**ZS_IMAGE, "labels": " , \n,"},
        expect=r"at least one label",
    ),
    case(
        "zs-image-template-braces",
        "/zero_shot_image",
        Upload("noise.png"),
        **{**ZS_IMAGE, "hypothesis_template": "a {name} of {}"},
        expect=r"must contain \{\}",
    ),
    case(
        "zs-image-labels-type",
        "/zero_shot_image",
        Upload("noise.png"),
        **{**ZS_IMAGE, "labels": ["a", "b"]},
        expect=r"labels: expected text",
    ),
    # ---- /detect_objects, /detect_objects_zero_shot --------------------------------------------
    case("detect-none", "/detect_objects", None, expect=r"provide an image"),
    case("detect-text-file", "/detect_objects", Upload("text.png"), expect=NOT_AN_IMAGE),
    case("detect-truncated", "/detect_objects", Upload("truncated.png"), expect=r"damaged or truncated"),
    case("detect-bomb", "/detect_objects", Upload("bomb.png"), expect=r"too large"),
    case("detect-threshold-nan", "/detect_objects", Upload("noise.png"), threshold=NAN, raw=True, expect=r"threshold"),
    case(
        "detect-zs-no-labels", "/detect_objects_zero_shot", Upload("noise.png"), " , \n", expect=r"at least one object"
    ),
    case("detect-zs-none", "/detect_objects_zero_shot", None, "cat", expect=r"provide an image"),
    case("detect-zs-bomb", "/detect_objects_zero_shot", Upload("bomb.png"), "cat", expect=r"too large"),
    case("segment-text-file", "/segment_image", Upload("text.png"), expect=NOT_AN_IMAGE),
    case(
        "segment-subtask-unsupported",
        "/segment_image",
        Upload("noise.png"),
        subtask="panoptic",
        expect=r"cannot do panoptic segmentation: choose one of auto, semantic",
    ),
    case("depth-truncated", "/estimate_depth", Upload("truncated.png"), expect=r"damaged or truncated"),
    case("depth-bomb", "/estimate_depth", Upload("bomb.png"), expect=r"too large"),
    case("mask-none", "/generate_mask", None, expect=r"provide an image"),
    case(
        "mask-point-outside",
        "/generate_mask",
        Upload("noise.png"),
        x=5000,
        y=1,
        expect=r"point must lie in the picture",
    ),
    case(
        "mask-point-negative",
        "/generate_mask",
        Upload("noise.png"),
        x=-1,
        y=1,
        expect=r"x: -1 is below the minimum of 0",
    ),
    case("match-second-missing", "/match_keypoints", Upload("noise.png"), None, expect=r"Upload the second picture"),
    case("match-text-file", "/match_keypoints", Upload("noise.png"), Upload("text.png"), expect=NOT_AN_IMAGE),
    # ---- /transcribe ----------------------------------------------------------------------------
    case("audio-empty-file", "/transcribe", Upload("empty.wav"), **ASR, expect=r"audio file is empty"),
    case("audio-text-file", "/transcribe", Upload("text.wav"), **ASR, expect=NOT_AUDIO),
    case("audio-truncated-header", "/transcribe", Upload("truncated.wav"), **ASR, expect=NOT_AUDIO),
    case("audio-no-samples", "/transcribe", Upload("silent0.wav"), **ASR, expect=r"no samples"),
    case(
        "audio-too-long",
        "/transcribe",
        Upload("long.wav"),
        **ASR,
        expect=r"1\.0 minutes long; the limit is 0\.5 minutes",
    ),
    case("audio-nan-samples", "/transcribe", Upload("nan.wav"), **ASR, expect=NOT_AUDIO),
    case("audio-garbage-mp3", "/transcribe", Upload("garbage.mp3"), **ASR, expect=NOT_AUDIO),
    case("audio-image-file", "/transcribe", Upload("noise.png"), **ASR, expect=NOT_AUDIO),
    case("audio-none", "/transcribe", None, **ASR, expect=r"record or upload"),
    case(
        "audio-unknown-task",
        "/transcribe",
        Upload("ok.wav"),
        **{**ASR, "task": "exfiltrate"},
        expect=r"task: 'exfiltrate' is not one of: transcribe, translate",
    ),
    case(
        "audio-unknown-language",
        "/transcribe",
        Upload("ok.wav"),
        **{**ASR, "language": "klingon"},
        expect=r"does not know the language 'klingon'",
    ),
    case(
        "audio-line-width-zero",
        "/transcribe",
        Upload("ok.wav"),
        **{**ASR, "max_chars_per_line": 0},
        expect=r"max_chars_per_line: 0 is below the minimum",
    ),
    case(
        "audio-server-path",
        "/transcribe",
        ServerPath("/etc/passwd", with_meta=True),
        **ASR,
        raw=True,
        expect=NOT_UPLOADED,
    ),
    # ---- /classify_audio, /classify_audio_zero_shot -----------------------------------------------
    case("sounds-none", "/classify_audio", None, **SOUNDS, expect=r"record or upload"),
    case("sounds-text-file", "/classify_audio", Upload("text.wav"), **SOUNDS, expect=NOT_AUDIO),
    case("sounds-image-file", "/classify_audio", Upload("noise.png"), **SOUNDS, expect=NOT_AUDIO),
    case("sounds-empty-file", "/classify_audio", Upload("empty.wav"), **SOUNDS, expect=r"audio file is empty"),
    case(
        "sounds-too-long",
        "/classify_audio",
        Upload("long.wav"),
        **SOUNDS,
        expect=r"1\.0 minutes long; the limit is 0\.5 minutes",
    ),
    case("sounds-top-k-zero", "/classify_audio", Upload("ok.wav"), **{**SOUNDS, "top_k": 0}, expect=r"top_k"),
    case(
        "sounds-window-too-long",
        "/classify_audio",
        Upload("ok.wav"),
        **{**SOUNDS, "window_seconds": 31},
        expect=r"window_seconds",
    ),
    case(
        "sounds-server-path",
        "/classify_audio",
        ServerPath("/etc/passwd", with_meta=True),
        **SOUNDS,
        raw=True,
        expect=NOT_UPLOADED,
    ),
    case(
        "sounds-zs-no-labels",
        "/classify_audio_zero_shot",
        Upload("ok.wav"),
        **{**SOUNDS_ZS, "labels": " , \n"},
        expect=r"at least one label",
    ),
    case(
        "sounds-zs-duplicate-labels",
        "/classify_audio_zero_shot",
        Upload("ok.wav"),
        **{**SOUNDS_ZS, "labels": "dog, Dog"},
        expect=r"more than once: Dog",
    ),
    case(
        "sounds-zs-bad-template",
        "/classify_audio_zero_shot",
        Upload("ok.wav"),
        **{**SOUNDS_ZS, "hypothesis_template": "{} and {}"},
        expect=r"exactly once",
    ),
    case("sounds-zs-truncated", "/classify_audio_zero_shot", Upload("truncated.wav"), **SOUNDS_ZS, expect=NOT_AUDIO),
    case("sounds-zs-none", "/classify_audio_zero_shot", None, **SOUNDS_ZS, expect=r"record or upload"),
    # ---- /synthesize_speech ---------------------------------------------------------------------
    case("speak-empty", "/synthesize_speech", "", **SPEAK, expect=r"type a text"),
    case("speak-whitespace", "/synthesize_speech", "  \n\t ", **SPEAK, expect=r"type a text"),
    case(
        "speak-too-long",
        "/synthesize_speech",
        "word " * 300,
        **SPEAK,
        expect=r"1499 characters long; the limit is 1000",
    ),
    case("speak-seed-negative", "/synthesize_speech", "Hello.", **{**SPEAK, "seed": -1}, expect=r"seed"),
    case("speak-music-zero", "/synthesize_speech", "Hello.", **{**SPEAK, "music_seconds": 0}, expect=r"music_seconds"),
    case(
        "speak-unreadable-script",
        "/synthesize_speech",
        "안녕하세요",
        **SPEAK,
        expect=r"reads none of these characters",
    ),
    case("speak-unknown-model", "/synthesize_speech", "Hello.", **{**SPEAK, "model": "nope"}, expect=NOT_IN_CATALOG),
    # ---- /fill_mask -----------------------------------------------------------------------------
    case("fill-empty", "/fill_mask", "", **FILL, expect=r"Write a sentence first"),
    case("fill-control-chars", "/fill_mask", "\x00\x01\x1b[31m\x7f", **FILL, expect=r"Write a mask in the sentence"),
    case("fill-no-mask", "/fill_mask", "Paris is the capital of France.", **FILL, expect=r"Write a mask"),
    case(
        "fill-two-masks",
        "/fill_mask",
        "[MASK] is the [MASK].",
        **FILL,
        expect=r"Exactly one mask per sentence is supported; found 2",
    ),
    case(
        "fill-very-long",
        "/fill_mask",
        "word " * 20000 + "[MASK]",
        **FILL,
        expect=r"100006 characters; the limit is 5000",
    ),
    case(
        "fill-top-k-negative", "/fill_mask", MASKED, **{**FILL, "top_k": -3}, expect=r"top_k: -3 is below the minimum"
    ),
    case(
        "fill-top-k-inf",
        "/fill_mask",
        MASKED,
        **{**FILL, "top_k": INF},
        raw=True,
        expect=r"top_k: inf is not a finite number",
    ),
    case("fill-text-number", "/fill_mask", 12345, **FILL, expect=r"text: expected text, got int"),
    case("fill-model-list", "/fill_mask", MASKED, **{**FILL, "model": ["x"]}, expect=r"model: expected text, got list"),
    case(
        "fill-not-a-masked-lm",
        "/fill_mask",
        MASKED,
        **{**FILL, "model": "Not a masked LM (test)"},
        expect=r"is not a masked language model, so it cannot fill a mask",
    ),
    case("fill-model-etc-passwd", "/fill_mask", MASKED, **{**FILL, "model": "/etc/passwd"}, expect=NOT_IN_CATALOG),
    case("fill-model-traversal", "/fill_mask", MASKED, **{**FILL, "model": "../../etc/passwd"}, expect=NOT_IN_CATALOG),
    # ---- /compare_bias --------------------------------------------------------------------------
    case("bias-no-templates", "/compare_bias", "  \n ", "he, she", **BIAS, expect=r"at least one template"),
    case("bias-no-group-slot", "/compare_bias", "The [MASK] one.", "he, she", **BIAS, expect=r"has no \{group\} slot"),
    case("bias-one-group", "/compare_bias", "The {group} is [MASK].", "he", **BIAS, expect=r"at least 2 groups"),
    case("bias-no-mask", "/compare_bias", "The {group} is here.", "he, she", **BIAS, expect=r"Write a mask"),
    case(
        "bias-too-many-templates",
        "/compare_bias",
        "\n".join(f"The {{group}} {i} is [MASK]." for i in range(21)),
        "he, she",
        **BIAS,
        expect=r"Too many templates: 21",
    ),
    case(
        "bias-too-many-groups",
        "/compare_bias",
        "The {group} is [MASK].",
        ",".join(f"g{i}" for i in range(200)),
        **BIAS,
        expect=r"Too many groups: 200",
    ),
    case(
        "bias-top-k-huge",
        "/compare_bias",
        "The {group} is [MASK].",
        "he, she",
        **{**BIAS, "top_k": 999},
        expect=r"top_k: 999 is above the maximum",
    ),
    # ---- /zero_shot_text ------------------------------------------------------------------------
    case("zs-text-empty", "/zero_shot_text", " \n\t ", **ZS_TEXT, expect=r"enter some text"),
    case(
        "zs-text-no-labels", "/zero_shot_text", "I loved it.", **{**ZS_TEXT, "labels": ""}, expect=r"at least one label"
    ),
    case(
        "zs-text-duplicate-labels",
        "/zero_shot_text",
        "I loved it.",
        **{**ZS_TEXT, "labels": "good, GOOD"},
        expect=r"more than once: GOOD",
    ),
    case(
        "zs-text-template-no-slot",
        "/zero_shot_text",
        "I loved it.",
        **{**ZS_TEXT, "hypothesis_template": "no slot"},
        expect=r"must contain \{\}",
    ),
    case(
        "zs-text-template-bad-braces",
        "/zero_shot_text",
        "I loved it.",
        **{**ZS_TEXT, "hypothesis_template": "{} {0} {"},
        expect=r"must contain \{\}",
    ),
    case(
        "zs-text-many-labels",
        "/zero_shot_text",
        "I loved it.",
        **{**ZS_TEXT, "labels": ",".join(f"l{i}" for i in range(500))},
        expect=r"Too many labels: 500",
    ),
    case(
        "zs-text-many-lines",
        "/zero_shot_text",
        "\n".join(f"line {i}" for i in range(1000)),
        **{**ZS_TEXT, "batch": True},
        expect=r"Too many lines in batch mode: 1000",
    ),
    case(
        "zs-text-image-model",
        "/zero_shot_text",
        "I loved it.",
        **{**ZS_TEXT, "model": "CLIP (test)"},
        expect=r"cannot classify text",
    ),
    case(
        "zs-text-multi-label-string",
        "/zero_shot_text",
        "I loved it.",
        **{**ZS_TEXT, "multi_label": "yes"},
        expect=r"multi_label: expected true or false",
    ),
    case(
        "zs-text-unknown-model",
        "/zero_shot_text",
        "I loved it.",
        **{**ZS_TEXT, "model": "facebook/bart-large-mnli"},
        expect=NOT_IN_CATALOG,
    ),
    # ---- /answer_image_question -----------------------------------------------------------------
    case("vqa-no-image", "/answer_image_question", None, **VQA, expect=r"Upload an image or a document first"),
    case(
        "vqa-empty-question",
        "/answer_image_question",
        Upload("noise.png"),
        **{**VQA, "question": "   "},
        expect=r"Type a question",
    ),
    case(
        "vqa-long-question",
        "/answer_image_question",
        Upload("noise.png"),
        **{**VQA, "question": "why " * 1000},
        expect=r"too long \(3999 characters\); the limit is 500",
    ),
    case("vqa-bomb", "/answer_image_question", Upload("bomb.png"), **VQA, expect=r"too large"),
    case(
        "vqa-document-model",
        "/answer_image_question",
        Upload("noise.png"),
        **{**VQA, "model": "LayoutLM document QA (test)"},
        expect=r"answers questions about documents",
    ),
    case(
        "vqa-max-new-tokens-huge",
        "/answer_image_question",
        Upload("noise.png"),
        **{**VQA, "max_new_tokens": 10**6},
        expect=r"max_new_tokens: 1000000 is above the maximum",
    ),
    case("vqa-string-path", "/answer_image_question", "/etc/passwd", **VQA, expect=UPLOAD_NEEDED),
    # ---- /answer_document_question --------------------------------------------------------------
    case(
        "doc-empty-pdf",
        "/answer_document_question",
        Upload("empty.pdf"),
        **DOC,
        expect=r"The file is empty \(empty\.pdf\)",
    ),
    case("doc-corrupt-pdf", "/answer_document_question", Upload("corrupt.pdf"), **DOC, expect=r"PDF could not be read"),
    case(
        "doc-truncated-pdf",
        "/answer_document_question",
        Upload("truncated.pdf"),
        **DOC,
        expect=r"PDF could not be read",
    ),
    case(
        "doc-too-many-pages",
        "/answer_document_question",
        Upload("five_pages.pdf"),
        **DOC,
        expect=r"5 pages; the limit is 3",
    ),
    case("doc-blank-pdf", "/answer_document_question", Upload("blank.pdf"), **DOC, expect=r"No text was found"),
    case("doc-not-a-document", "/answer_document_question", Upload("text.wav"), **DOC, expect=NOT_AN_IMAGE),
    case(
        "doc-ocr-language-path",
        "/answer_document_question",
        Upload("noise.png"),
        **{**DOC, "ocr_language": "../../etc/passwd"},
        expect=r"ocr_language: '\.\./\.\./etc/passwd' is not one of: eng",
    ),
    case(
        "doc-server-path",
        "/answer_document_question",
        ServerPath("/etc/passwd", with_meta=True),
        **DOC,
        raw=True,
        expect=NOT_UPLOADED,
    ),
    # ---- /generate ------------------------------------------------------------------------------
    case("gen-empty-prompt", "/generate", "  ", **GENERATE, expect=r"enter a prompt"),
    case(
        "gen-temperature-nan",
        "/generate",
        "Hello",
        **{**GENERATE, "temperature": NAN},
        raw=True,
        expect=r"temperature: nan is not a finite number",
    ),
    case(
        "gen-temperature-inf",
        "/generate",
        "Hello",
        **{**GENERATE, "temperature": INF},
        raw=True,
        expect=r"temperature: inf is not a finite number",
    ),
    case(
        "gen-temperature-string",
        "/generate",
        "Hello",
        **{**GENERATE, "temperature": "hot"},
        expect=r"temperature: expected a number",
    ),
    case(
        "gen-temperature-negative",
        "/generate",
        "Hello",
        **{**GENERATE, "temperature": -1},
        expect=r"Temperature must be a number of 0 or more",
    ),
    case(
        "gen-temperature-zero-sampling",
        "/generate",
        "Hello",
        **{**GENERATE, "temperature": 0},
        expect=r"Temperature 0 with sampling on",
    ),
    case(
        "gen-max-new-tokens-huge",
        "/generate",
        "Hello",
        **{**GENERATE, "max_new_tokens": 10**9},
        expect=r"Max new tokens must be between 1 and",
    ),
    case(
        "gen-max-new-tokens-zero",
        "/generate",
        "Hello",
        **{**GENERATE, "max_new_tokens": 0},
        expect=r"Max new tokens must be between 1 and",
    ),
    case(
        "gen-top-k-negative",
        "/generate",
        "Hello",
        **{**GENERATE, "top_k": -5},
        expect=r"top_k: -5 is below the minimum of 0",
    ),
    case(
        "gen-top-p-above-one", "/generate", "Hello", **{**GENERATE, "top_p": 5}, expect=r"top_p: 5 is above the maximum"
    ),
    case(
        "gen-repetition-penalty-zero",
        "/generate",
        "Hello",
        **{**GENERATE, "repetition_penalty": 0},
        expect=r"repetition_penalty: 0 is below the minimum",
    ),
    case(
        "gen-seed-overflow",
        "/generate",
        "Hello",
        **{**GENERATE, "seed": 2**70},
        expect=r"seed: \d+ is above the maximum",
    ),
    case("gen-prompt-list", "/generate", ["Hello"], **GENERATE, expect=r"prompt: expected text, got list"),
    case(
        "gen-do-sample-string",
        "/generate",
        "Hello",
        **{**GENERATE, "do_sample": "sometimes"},
        expect=r"do_sample must be true \(sample\), false \(greedy\) or empty",
    ),
    case(
        "gen-unknown-model",
        "/generate",
        "Hello",
        **{**GENERATE, "model": "meta-llama/Llama-3.1-405B"},
        expect=NOT_IN_CATALOG,
    ),
    case("gen-model-etc-passwd", "/generate", "Hello", **{**GENERATE, "model": "/etc/passwd"}, expect=NOT_IN_CATALOG),
    # ---- /loaded_models and /unload_model -------------------------------------------------------
    case("unload-unknown", "/unload_model", "no-such-model", expect=r"No loaded model matches 'no-such-model'"),
    case("unload-empty", "/unload_model", "", expect=r"No loaded model matches"),
    case("unload-traversal", "/unload_model", "../../etc", expect=r"No loaded model matches '\.\./\.\./etc'"),
    case("unload-list", "/unload_model", ["all"], expect=r"model: expected text, got list"),
    case("loaded-models-stray-input", "/loaded_models", "junk", raw=True, expect=r"^\[\]$|^\[\{"),
    # ---- the course tabs: what gradio_client cannot send, and mistyped values -----------
    case(
        "tc-top-k-nan",
        "/classify_text",
        "Hello",
        model="",
        top_k=NAN,
        text_pair="",
        function_to_apply="auto",
        raw=True,
        expect=r"top_k: nan is not a finite number",
    ),
    case("tc-text-list", "/classify_text", ["Hello"], expect=r"text: expected text, got list"),
    case(
        "tc-function-unknown",
        "/classify_text",
        "Hello",
        function_to_apply="relu",
        expect=r"function_to_apply: 'relu' is not one of",
    ),
    case("tc-dataset-server-path", "/classify_dataset", ServerPath("/etc/passwd"), raw=True, expect=NOT_UPLOADED),
    case(
        "tc-dataset-picture",
        "/classify_dataset",
        Upload("noise.png"),
        expect=r"noise.png is not a CSV, JSONL or TXT file",
    ),
    case(
        "ner-aggregation-unknown",
        "/extract_entities",
        "Hello",
        aggregation="grouped",
        expect=r"aggregation: 'grouped' is not one of",
    ),
    case(
        "ner-dataset-server-path",
        "/extract_entities_dataset",
        ServerPath("/etc/hostname", with_meta=True),
        raw=True,
        expect=NOT_UPLOADED,
    ),
    case("fm-dataset-server-path", "/fill_mask_dataset", ServerPath("/etc/passwd"), raw=True, expect=NOT_UPLOADED),
    case(
        "fm-dataset-hub-path",
        "/fill_mask_dataset",
        None,
        hub_dataset="/etc/passwd",
        expect=r"'/etc/passwd' is not a Hub dataset id",
    ),
    case(
        "zs-dataset-picture",
        "/zero_shot_text_dataset",
        Upload("noise.png"),
        labels="a, b",
        expect=r"noise.png is not a CSV, JSONL or TXT file",
    ),
    case(
        "zs-dataset-hub-url",
        "/zero_shot_text_dataset",
        None,
        labels="a, b",
        hub_dataset="file:///etc/passwd",
        expect=r"Paths and URLs are not accepted",
    ),
    case("qa-empty-question", "/answer_question", " ", "Some context.", expect=r"Type a question"),
    case("table-qa-no-question", "/answer_table_question", "", expect=r"Type a question about the table"),
    case(
        "table-qa-empty-table",
        "/answer_table_question",
        "How many?",
        {"headers": ["a"], "data": [[""]]},
        expect=r"The table is empty",
    ),
    case(
        "table-qa-csv-not-text",
        "/answer_table_question",
        "How many?",
        csv_file=Upload("binary.csv"),
        expect=r"binary\.csv is not UTF-8 text",
    ),
    case(
        "qa-top-k-nan",
        "/answer_question",
        "Who?",
        "Some context.",
        model="",
        top_k=NAN,
        max_answer_length=30,
        allow_no_answer=False,
        raw=True,
        expect=r"top_k: nan is not a finite number",
    ),
    case(
        "sum-max-new-tokens-inf",
        "/summarize",
        "Some text.",
        model="",
        max_new_tokens=INF,
        min_new_tokens=0,
        num_beams=1,
        raw=True,
        expect=r"max_new_tokens: inf is not a finite number",
    ),
    case(
        "sum-min-over-max",
        "/summarize",
        "Some text.",
        max_new_tokens=4,
        min_new_tokens=8,
        expect=r"cannot be more than",
    ),
    case(
        "tr-language-unknown",
        "/translate",
        "Bonjour.",
        source_language="xx",
        expect=r"'xx' is not a language this model knows",
    ),
    case("tr-model-etc-passwd", "/translate", "Bonjour.", model="/etc/passwd", expect=NOT_IN_CATALOG),
    # ---- /model_anatomy -------------------------------------------------------------------------
    case("anatomy-unknown-model", "/model_anatomy", model="someone/100GB-model", expect=NOT_IN_CATALOG),
    case(
        "anatomy-class-unknown",
        "/model_anatomy",
        model_class="BertForEverything",
        expect=r"'BertForEverything' is not one of",
    ),
    case(
        "anatomy-class-does-not-fit",
        "/model_anatomy",
        model="ViT (test)",
        model_class="AutoModelForMaskedLM",
        expect=r"AutoModelForMaskedLM has no class for this model's architecture \(vit\)",
    ),
    case("anatomy-depth-huge", "/model_anatomy", depth=99, expect=r"depth: 99 is above the maximum of 4"),
    case(
        "anatomy-image-text-file",
        "/model_anatomy",
        model="ResNet (test)",
        image=Upload("text.png"),
        expect=NOT_AN_IMAGE,
    ),
    # ---- /attention -----------------------------------------------------------------------------
    case("attention-empty", "/attention", "", expect=r"Please enter a sentence"),
    case("attention-too-long", "/attention", "x" * 2001, expect=r"2001 characters long; the limit is 2000"),
    case(
        "attention-cross-on-an-encoder",
        "/attention",
        "A short sentence.",
        kind="cross",
        expect=r"only in encoder-decoder models",
    ),
    case(
        "attention-kind-unknown", "/attention", "A short sentence.", kind="sideways", expect=r"'sideways' is not one of"
    ),
    case(
        "attention-layer-past-the-model",
        "/attention",
        "A short sentence.",
        layer=99,
        expect=r"There is no layer 99: this model has 2 layers",
    ),
    case(
        "attention-unknown-model", "/attention", "A short sentence.", model="someone/100GB-model", expect=NOT_IN_CATALOG
    ),
    # ---- the steps views ------------------------------------------------------------------------
    case("steps-text-list", "/text_classification_steps", ["Hello"], expect=r"text: expected text, got list"),
    case(
        "steps-unknown-model",
        "/named_entities_steps",
        "A short sentence.",
        model="someone/100GB-model",
        expect=NOT_IN_CATALOG,
    ),
    case(
        "steps-fill-mask-two-masks",
        "/fill_mask_steps",
        "[MASK] and [MASK].",
        expect=r"Exactly one mask per sentence is supported; found 2",
    ),
    case("steps-image-text-file", "/image_classification_steps", Upload("text.png"), expect=NOT_AN_IMAGE),
    case("steps-audio-text-file", "/speech_to_text_steps", Upload("text.wav"), expect=NOT_AUDIO),
    # ---- /fine_tune (its data checks: tests/test_fine_tune.py) --------------------------------------
    case("fine-tune-unknown-model", "/fine_tune", None, model="someone/100GB-model", expect=NOT_IN_CATALOG),
    case(
        "fine-tune-epochs-huge", "/fine_tune", None, epochs=10**6, expect=r"epochs: 1000000 is above the maximum of 20"
    ),
    case(
        "fine-tune-unknown-example",
        "/fine_tune",
        None,
        example="nope",
        expect=r"example: 'nope' is not one of: topics_en, topics_ko, entities_en, entities_ko",
    ),
    case(
        "fine-tune-image-as-data",
        "/fine_tune",
        Upload("noise.png"),
        expect=r"Invalid file type\. Please upload a file that is one of these formats: "
        r"\['\.csv', '\.jsonl', '\.conll', '\.txt', '\.tsv'\]",
    ),
]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int, height: int) -> bytes:
    """A greyscale PNG whose header claims width x height: a few bytes on disk, huge if decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1), 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype(np.int16).tobytes())
    return buffer.getvalue()


def write_bad_files(folder: Path) -> Path:
    import pypdfium2 as pdfium
    import soundfile as sf
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    noise = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(noise, "PNG")
    png = noise.getvalue()
    tone = (np.sin(np.arange(16000) / 5) * 8000).astype(np.int16)
    files = {
        "noise.png": png,
        "empty.png": b"",
        "text.png": b"hello, I am not a picture\n",
        "truncated.png": png[: len(png) // 2],
        "bomb.png": bomb_png(30000, 30000),
        "bomb100.png": bomb_png(10000, 10000),
        "big48.png": bomb_png(8000, 6000),
        "zero.png": bomb_png(0, 10),
        "big.png": b"\x89PNG" + bytes(2 * 2**20),
        "ok.wav": wav_bytes(tone, 16000),
        "empty.wav": b"",
        "text.wav": b"RIFF not really a wave file",
        "truncated.wav": wav_bytes(tone, 16000)[:30],
        "silent0.wav": wav_bytes(np.zeros(0), 16000),
        "long.wav": wav_bytes(np.zeros(200 * 60), 200),  # 60 s at 200 Hz: tiny file, over the 30 s limit
        "garbage.mp3": rng.integers(0, 255, 4000, dtype=np.uint8).tobytes(),
        "empty.pdf": b"",
        "corrupt.pdf": b"%PDF-1.7\n" + rng.integers(0, 255, 2000, dtype=np.uint8).tobytes(),
        "binary.csv": b"\xff\xfe\x00" + rng.integers(0, 255, 200, dtype=np.uint8).tobytes(),
        "text.mp4": b"hello, I am not a video\n",
        "truncated.mp4": (EXAMPLES_DIR / "video" / "bouncing_ball.mp4").read_bytes()[:3000],
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    sf.write(folder / "nan.wav", np.full(16000, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    five = pdfium.PdfDocument.new()
    for _ in range(5):
        five.new_page(200, 200)
    five.save(str(folder / "five_pages.pdf"))
    blank = pdfium.PdfDocument.new()
    blank.new_page(200, 200)
    blank.save(str(folder / "blank.pdf"))
    whole = (folder / "five_pages.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    return folder


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bad_files(tmp_path_factory.mktemp("bad-files"))


@pytest.fixture(scope="module")
def strict_app(test_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app on the test models with tight limits, so "too big" cases stay small and quick."""
    folder = tmp_path_factory.mktemp("strict-app")
    catalog = catalog_variant(
        test_catalog, folder / "models.yaml", max_upload_mb=1, max_audio_minutes=0.5, max_pdf_pages=3
    )
    running = launch_app(catalog, folder)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def strict_client(strict_app: RunningApp):  # noqa: ANN201
    return strict_app.client()


def resolve(value: Any, files: Path, url: str, raw: bool) -> Any:
    if isinstance(value, Upload):
        return upload(url, files / value.name) if raw else handle_file(str(files / value.name))
    if isinstance(value, ServerPath):
        return {"path": value.path, **({"meta": FILEDATA_META} if value.with_meta else {})}
    return value


def call(app: RunningApp, client: Any, files: Path, item: Case) -> Any:
    args = tuple(resolve(a, files, app.url, item.raw) for a in item.args)
    kwargs = {k: resolve(v, files, app.url, item.raw) for k, v in item.kwargs.items()}
    if item.raw:
        return raw_predict(app.url, item.api, positional(client, item.api, args, kwargs))
    return client.predict(*args, api_name=item.api, **kwargs)


def test_the_table_covers_every_endpoint_with_enough_cases() -> None:
    endpoints = {
        "/transcribe",
        "/classify_audio",
        "/classify_audio_zero_shot",
        "/synthesize_speech",
        "/classify_image",
        "/fill_mask",
        "/compare_bias",
        "/zero_shot_text",
        "/zero_shot_image",
        "/answer_image_question",
        "/answer_document_question",
        "/generate",
        "/loaded_models",
        "/unload_model",
        "/classify_text",
        "/classify_dataset",
        "/extract_entities",
        "/extract_entities_dataset",
        "/answer_question",
        "/answer_table_question",
        "/classify_video",
        "/summarize",
        "/translate",
        "/fill_mask_dataset",
        "/zero_shot_text_dataset",
        "/model_anatomy",
        "/attention",
        "/text_classification_steps",
        "/named_entities_steps",
        "/fill_mask_steps",
        "/image_classification_steps",
        "/speech_to_text_steps",
        "/detect_objects",
        "/detect_objects_zero_shot",
        "/segment_image",
        "/estimate_depth",
        "/generate_mask",
        "/match_keypoints",
        "/fine_tune",
    }
    assert {c.api for c in CASES} == endpoints
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("item", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_clear_message(
    strict_app: RunningApp, strict_client: Any, bad_files: Path, item: Case
) -> None:
    if item.id == "loaded-models-stray-input":
        # Not an error: an endpoint without parameters ignores stray data and still answers.
        result = call(strict_app, strict_client, bad_files, item)
        assert isinstance(result, list) and re.search(item.expect, json.dumps(result[0]))
        return
    with pytest.raises(AppError) as info:
        call(strict_app, strict_client, bad_files, item)
    message = str(info.value)
    assert re.search(item.expect, message), f"{item.id}: unexpected message {message!r}"
    assert not UNCLEAR.search(message), f"{item.id}: not a clear message: {message!r}"
    assert strict_app.process.poll() is None, "the app must keep running"


def test_unicode_and_control_characters_are_served(strict_client: Any, bad_files: Path) -> None:
    """Odd but valid text is answered normally, not refused or crashed on."""
    text = "Zürich 🤗 مرحبا\u200f [MASK] 中文 Z̴a̸l̷g̶o\x00\x1b[0m"
    scores, seen, _note, _code = strict_client.predict(text, **FILL, api_name="/fill_mask")
    assert scores["confidences"] and "[MASK]" in seen
    labels = strict_client.predict(
        "😀 " * 50 + "\u202e rtl \x07", **{**ZS_TEXT, "labels": "😀, 한국어, ε"}, api_name="/zero_shot_text"
    )[0]
    assert {c["label"] for c in labels["confidences"]} == {"😀", "한국어", "ε"}
    text, *_rest = strict_client.predict("안녕 \x00 🤗", **GENERATE, api_name="/generate")
    assert isinstance(text, str)


def test_every_tab_still_answers_after_the_bad_inputs(
    strict_app: RunningApp, strict_client: Any, bad_files: Path
) -> None:
    c, f = strict_client, bad_files
    labels, _code = c.predict(handle_file(str(f / "noise.png")), "", 3, api_name="/classify_image")
    assert len(labels["confidences"]) == 3
    scores, _seen, _note, _code = c.predict(MASKED, **FILL, api_name="/fill_mask")
    assert len(scores["confidences"]) == 5
    top, _targets, csv_file, _note, _code, *_rest = c.predict(
        "The {group} is [MASK].", "he, she", **BIAS, api_name="/compare_bias"
    )
    # One row per model and template, one column of completions per group.
    assert len(top["data"]) == 1 and len(top["data"][0]) == 2 + 2 and Path(csv_file).is_file()
    scores = c.predict("I loved it.", **ZS_TEXT, api_name="/zero_shot_text")[0]
    assert {x["label"] for x in scores["confidences"]} == {"positive", "negative"}
    scores, _code = c.predict(handle_file(str(f / "noise.png")), **ZS_IMAGE, api_name="/zero_shot_image")
    assert {x["label"] for x in scores["confidences"]} == {"circle", "square"}
    text, segments, srt, vtt, _stats, _code = c.predict(handle_file(str(f / "ok.wav")), **ASR, api_name="/transcribe")
    assert isinstance(text, str) and segments["data"] and Path(srt).read_text().startswith("1\n")
    answers, _code = c.predict(handle_file(str(f / "noise.png")), **VQA, api_name="/answer_image_question")
    assert len(answers) == 3
    generated, *_rest = c.predict("Hello", **GENERATE, api_name="/generate")
    assert isinstance(generated, str)
    assert isinstance(c.predict(api_name="/loaded_models"), list)
    assert strict_app.process.poll() is None
