"""Every endpoint is callable with its primary input alone, and every API example in the README runs.

Rule: an endpoint may require only what no call can do without (the audio, the image,
the sentence, the labels, the question); every other parameter has the UI's default.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Every named endpoint of the app: its tab key, and the parameters a call may be required to give.
REQUIRED: dict[str, tuple[str, set[str]]] = {
    "/transcribe": ("speech_to_text", {"audio"}),
    "/classify_audio": ("audio_classification", {"audio"}),
    "/classify_audio_zero_shot": ("audio_classification", {"audio", "labels"}),
    "/synthesize_speech": ("text_to_speech", {"text"}),
    "/classify_image": ("image_classification", {"image"}),
    "/classify_image_batch": ("image_classification", {"images"}),
    "/fill_mask": ("fill_mask", {"text"}),
    "/compare_bias": ("fill_mask", {"templates", "groups"}),
    "/fill_mask_dataset": ("fill_mask", {"file"}),
    "/zero_shot_text": ("zero_shot", {"text", "labels"}),
    "/zero_shot_image": ("zero_shot", {"image", "labels"}),
    "/zero_shot_text_dataset": ("zero_shot", {"file", "labels"}),
    "/answer_image_question": ("visual_qa", {"image", "question"}),
    "/answer_document_question": ("visual_qa", {"document", "question"}),
    "/generate": ("text_generation", {"prompt"}),
    "/chat": ("text_generation", {"message"}),
    "/stop_generation": ("text_generation", set()),
    "/classify_text": ("text_classification", {"text"}),
    "/classify_dataset": ("text_classification", {"file"}),
    "/extract_entities": ("named_entities", {"text"}),
    "/extract_entities_dataset": ("named_entities", {"file"}),
    "/answer_question": ("visual_qa", {"question", "context"}),
    "/answer_table_question": ("visual_qa", {"question", "table"}),
    "/summarize": ("summarization", {"text"}),
    "/translate": ("translation", {"text"}),
    "/model_anatomy": ("anatomy", set()),
    "/attention": ("attention", {"text"}),
    "/tokenize": ("tokenizer", {"text"}),
    "/compare_tokenizers": ("tokenizer", {"text"}),
    "/tokenize_batch": ("tokenizer", {"texts"}),
    "/decode_ids": ("tokenizer", {"ids"}),
    "/chat_template": ("tokenizer", {"conversation"}),
    "/embed": ("embeddings", {"texts"}),
    "/embed_images": ("embeddings", {"images"}),
    "/classify_video": ("video_classification", {"video"}),
    "/detect_objects": ("detect_segment", {"image"}),
    "/detect_objects_zero_shot": ("detect_segment", {"image", "labels"}),
    "/segment_image": ("detect_segment", {"image"}),
    "/estimate_depth": ("detect_segment", {"image"}),
    "/generate_mask": ("detect_segment", {"image"}),
    "/fine_tune": ("fine_tune", set()),
    "/stop_fine_tune": ("fine_tune", set()),
    "/push_to_hub": ("fine_tune", {"model_id", "repo_id"}),
    "/match_keypoints": ("detect_segment", {"first", "second"}),
    "/loaded_models": ("models", set()),
    "/unload_model": ("models", set()),
    "/generation_activity": ("models", set()),
    "/remote_models": ("models", set()),
    "/text_classification_steps": ("text_classification", {"text"}),
    "/named_entities_steps": ("named_entities", {"text"}),
    "/fill_mask_steps": ("fill_mask", {"text"}),
    "/zero_shot_steps": ("zero_shot", {"text"}),
    "/image_classification_steps": ("image_classification", {"image"}),
    "/speech_to_text_steps": ("speech_to_text", {"audio"}),
}


def shown_tabs() -> set[str] | None:
    """The tab keys the shared app shows (None: every tab of the test catalog)."""
    narrowed = os.environ.get("PLAYGROUND_TEST_TABS")
    return {key.strip() for key in narrowed.split(",")} | {"models"} if narrowed else None


def skip_unless_shown(endpoint: str) -> None:
    tabs = shown_tabs()
    if tabs is not None and REQUIRED[endpoint][0] not in tabs:
        pytest.skip(f"the {REQUIRED[endpoint][0]} tab is not shown in this run (PLAYGROUND_TEST_TABS)")


@pytest.fixture(scope="module")
def api(client) -> dict[str, Any]:  # noqa: ANN001
    return client.view_api(return_format="dict", print_info=False)["named_endpoints"]


def test_every_endpoint_is_in_the_table(api: dict[str, Any]) -> None:
    unknown = sorted(set(api) - set(REQUIRED))
    assert not unknown, f"endpoints missing from REQUIRED (say which parameters they may require): {unknown}"


@pytest.mark.parametrize("endpoint", sorted(REQUIRED))
def test_only_primary_inputs_are_required(api: dict[str, Any], endpoint: str) -> None:
    skip_unless_shown(endpoint)
    assert endpoint in api, f"{endpoint} is not served"
    required = [p["parameter_name"] for p in api[endpoint]["parameters"] if not p["parameter_has_default"]]
    extra = [name for name in required if name not in REQUIRED[endpoint][1]]
    assert not extra, f"{endpoint} requires {extra}; give them the UI's default"


# ---- the primary inputs alone answer ------------------------------------------------------


def test_fill_mask_and_compare_bias_with_their_inputs_alone(client) -> None:  # noqa: ANN001
    skip_unless_shown("/fill_mask")
    label, seen, note, code = client.predict("This man works as a [MASK].", api_name="/fill_mask")
    assert len(label["confidences"]) == 5 and seen == "This man works as a [MASK]." and note == ""
    top, table, csv_path, note, code, heatmap = client.predict(
        "This {group} works as a [MASK].", "man, woman", api_name="/compare_bias"
    )
    assert top["headers"][-2:] == ["man", "woman"] and Path(csv_path).is_file()


def test_zero_shot_with_its_inputs_alone(client) -> None:  # noqa: ANN001
    from gradio_client import handle_file

    from playground.media.images import EXAMPLES_DIR

    skip_unless_shown("/zero_shot_text")
    label, table, csv_file, code = client.predict(
        "This is a course about the Transformers library",
        labels="education, politics, business",
        api_name="/zero_shot_text",
    )
    assert {c["label"] for c in label["confidences"]} == {"education", "politics", "business"} and csv_file is None
    label, code = client.predict(
        handle_file(str(EXAMPLES_DIR / "house.png")), labels="house, circle", api_name="/zero_shot_image"
    )
    assert {c["label"] for c in label["confidences"]} == {"house", "circle"}


def test_image_classification_with_its_image_alone(client) -> None:  # noqa: ANN001
    from gradio_client import handle_file

    from playground.media.images import EXAMPLES_DIR

    skip_unless_shown("/classify_image")
    labels, code = client.predict(handle_file(str(EXAMPLES_DIR / "house.png")), api_name="/classify_image")
    assert len(labels["confidences"]) == 5 and "top_k=5" in code
    batched = client.predict(handle_file(str(EXAMPLES_DIR / "house.png")), api_name="/classify_image_batch")
    assert [c["label"] for c in batched["confidences"]] == [c["label"] for c in labels["confidences"]]


def test_video_classification_with_its_clip_alone(client) -> None:  # noqa: ANN001
    from gradio_client import handle_file

    from playground.media.images import EXAMPLES_DIR

    skip_unless_shown("/classify_video")
    labels, frames, note, code = client.predict(
        handle_file(str(EXAMPLES_DIR / "video" / "bouncing_ball.mp4")), api_name="/classify_video"
    )
    assert len(labels["confidences"]) == 5 and len(frames) == 16 and "top_k=5" in code


def test_table_question_answering_with_its_question_and_table_alone(client) -> None:  # noqa: ANN001
    skip_unless_shown("/answer_table_question")
    table = {"headers": ["Repository", "Stars"], "data": [["Transformers", "36542"], ["Datasets", "4512"]]}
    text, shown, details, code = client.predict("How many stars?", table, api_name="/answer_table_question")
    assert shown["headers"] == ["Repository", "Stars"] and "rows_read" in details and "pd.DataFrame" in code


def test_tokenizer_endpoints_with_their_inputs_alone(client) -> None:  # noqa: ANN001
    skip_unless_shown("/tokenize")
    *_, details, code = client.predict("Hello world", api_name="/tokenize")
    assert details["input_ids"] and "AutoTokenizer" in code
    table, html, code = client.predict("Hello world", api_name="/compare_tokenizers")
    assert len(table["data"]) >= 1
    ids, masks, note, code = client.predict("Hello world\nHi", api_name="/tokenize_batch")
    assert len(ids["data"]) == 2
    plain, skipped, html, code = client.predict(", ".join(map(str, details["input_ids"])), api_name="/decode_ids")
    assert skipped.strip()
    prompt, html, summary, code = client.predict("user: Hello!", api_name="/chat_template")
    assert "Hello!" in prompt


def test_embeddings_with_their_inputs_alone(client) -> None:  # noqa: ANN001
    from gradio_client import handle_file

    from playground.media.images import EXAMPLES_DIR

    skip_unless_shown("/embed")
    vectors, similarity, projection, note, code = client.predict("A cat.\nA dog.", api_name="/embed")
    assert len(vectors["data"]) == 2
    vectors, similarity, note, code = client.predict(
        [handle_file(str(EXAMPLES_DIR / "house.png"))], api_name="/embed_images"
    )
    assert len(vectors["data"]) == 1


def test_steps_views_with_their_inputs_alone(client) -> None:  # noqa: ANN001
    from gradio_client import handle_file

    from playground.media.images import EXAMPLES_DIR

    calls = {
        "/text_classification_steps": ("A fine day.",),
        "/named_entities_steps": ("Sylvain works at Hugging Face.",),
        "/fill_mask_steps": ("Paris is the [MASK] of France.",),
        "/zero_shot_steps": ("A fine film.",),
        "/image_classification_steps": (handle_file(str(EXAMPLES_DIR / "house.png")),),
        "/speech_to_text_steps": (handle_file(str(EXAMPLES_DIR / "speech" / "welcome.ogg")),),
    }
    for endpoint, args in calls.items():
        if REQUIRED[endpoint][0] not in (shown_tabs() or {REQUIRED[endpoint][0]}):
            continue
        *_, details, code = client.predict(*args, api_name=endpoint)
        assert details["forward"]["shape"] and "from_pretrained" in code, endpoint


# ---- the README's gradio_client examples -------------------------------------------------------


def readme_api_blocks() -> list[str]:
    """Every ```python block of the README that talks to the app through gradio_client."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M)
    return [block for block in blocks if "gradio_client" in block or "client." in block]


README_BLOCKS = readme_api_blocks()


def label_map(test_catalog: Path) -> dict[str, str]:
    """Each shipped catalog's model labels -> the test catalog's model for the same tab and task."""
    from playground.config.catalog import load_catalog

    test = load_catalog(test_catalog)
    mapping = {}
    for shipped in ("models.yaml", "models.space.yaml"):
        for tab, config in load_catalog(ROOT / shipped).tabs.items():
            if tab not in test.tabs:
                continue
            for entry in config.models:
                candidates = test.models_for(tab, entry.task)
                candidates = [m for m in candidates if m.document == entry.document] or candidates
                # The same family when the test catalog has one ("NLLB-200 …" -> "NLLB … (test)"), else the default.
                family = [
                    m
                    for m in candidates
                    if re.match(r"[a-z]+", m.label.lower())[0] == re.match(r"[a-z]+", entry.label.lower())[0]
                ]
                if candidates:
                    mapping[entry.label] = (family or [next((m for m in candidates if m.default), candidates[0])])[
                        0
                    ].label
    return mapping


def sample_file(name: str, folder: Path) -> None:
    """Put the file a README example names into `folder`: the repository's own (as written, or a file
    of that name under assets/), else a small one made for the test from its extension."""
    from PIL import Image, ImageDraw

    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shipped = [ROOT / name, *sorted((ROOT / "assets").rglob(Path(name).name))]
    source = next((path for path in shipped if path.is_file()), None)
    suffix = Path(name).suffix.lower()
    if source is not None:
        shutil.copy(source, target)
    elif suffix in (".wav", ".mp3", ".flac", ".ogg"):
        import soundfile as sf

        from bench.inputs import write_tone

        tone = write_tone(folder / "tone-source.wav")
        samples, rate = sf.read(tone)
        sf.write(target, samples, rate)
    elif suffix in (".png", ".jpg", ".jpeg", ".webp", ".pdf"):
        page = Image.new("RGB", (600, 300), "white")
        ImageDraw.Draw(page).text((40, 40), "INVOICE 1042\nTotal: 42.00 EUR", fill="black", font_size=36)
        page.save(target, **({"resolution": 100.0} if suffix == ".pdf" else {}))
    else:
        raise AssertionError(f"the README names {name!r}; add a sample file for it to this test")


@pytest.mark.parametrize("index", range(len(README_BLOCKS)))
def test_readme_api_example_runs(app, client, test_catalog: Path, tmp_path: Path, monkeypatch, index: int) -> None:  # noqa: ANN001
    from gradio_client import Client, handle_file

    code = README_BLOCKS[index]
    for endpoint in re.findall(r"api_name=\"(/\w+)\"", code):
        assert endpoint in REQUIRED, f"README block {index} calls {endpoint}, which the app does not serve"
        skip_unless_shown(endpoint)
    code = code.replace("http://127.0.0.1:7860/", app.url)
    for shipped, test in sorted(label_map(test_catalog).items(), key=lambda item: -len(item[0])):
        code = code.replace(f'"{shipped}"', f'"{test}"')
    for name in re.findall(r"handle_file\(\"([^\"]+)\"\)", code):
        sample_file(name, tmp_path)
    monkeypatch.chdir(tmp_path)
    # Blocks after the first use the `client` the first one made, as a reader's notebook would.
    namespace: dict[str, Any] = {"Client": Client, "handle_file": handle_file, "client": client}
    exec(compile(code, f"README.md python block {index}", "exec"), namespace)  # noqa: S102 - the README's own code


# ---- docstrings: the API page's and the MCP tools' descriptions ---------------------------

# Every tab: their docstrings are the API page's and the MCP tools' descriptions.
DOCUMENTED_TABS = tuple(dict.fromkeys(tab for tab, _ in REQUIRED.values()))


def test_endpoints_document_every_parameter(test_catalog: Path) -> None:
    from gradio.utils import get_function_description

    import app
    from playground.config.catalog import load_catalog
    from playground.loading.model_manager import ModelManager

    catalog = load_catalog(test_catalog)
    demo, _ = app.build_app(catalog, ModelManager(catalog), app.tab_modules(app.selected_tabs(catalog, None)))
    api = demo.get_api_info()["named_endpoints"]
    documented = [name for name, (tab, _) in REQUIRED.items() if tab in DOCUMENTED_TABS]
    for block_fn in demo.fns.values():
        name = f"/{block_fn.api_name}"
        if name not in documented or block_fn.api_visibility != "public":
            continue
        description, parameters, _ = get_function_description(block_fn.fn)
        assert description and len(description) < 160, f"{name}: a one-line description, got {description!r}"
        for param in api[name]["parameters"]:
            assert parameters.get(param["parameter_name"]), (
                f"{name}: parameter {param['parameter_name']} is not documented"
            )
        documented.remove(name)
    assert not documented, f"not found: {documented}"
