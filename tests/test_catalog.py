"""The catalog: the shipped file and the test catalog validate; broken ones stop the app clearly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from playground.config.catalog import CatalogError, load_catalog, parse_catalog
from tabs import TAB_SPECS

ROOT = Path(__file__).resolve().parents[1]


def minimal() -> dict:
    return {"tabs": {"fill_mask": {"models": [{"id": "google-bert/bert-base-uncased"}]}}}


def test_shipped_catalog_is_valid_and_covers_every_tab() -> None:
    catalog = load_catalog(ROOT / "models.yaml")
    assert set(catalog.tabs) == {spec.key for spec in TAB_SPECS if spec.catalogued}
    for key, tab in catalog.tabs.items():
        for task in {m.task for m in tab.models}:
            assert catalog.default_model(key, task).task == task
    big = [m for tab in catalog.tabs.values() for m in tab.models if m.device_map == "auto"]
    assert any(m.gated for m in big), "a large gated model with device_map auto is listed"
    assert not any(m.trust_remote_code for tab in catalog.tabs.values() for m in tab.models)


def test_test_catalog_resolves_local_paths(test_catalog: Path) -> None:
    catalog = load_catalog(test_catalog)
    entry = catalog.default_model("fill_mask")
    assert entry.is_local
    assert Path(catalog.resolve_path(entry)).is_dir()


def test_defaults_and_inherited_task() -> None:
    catalog = parse_catalog(minimal())
    entry = catalog.default_model("fill_mask")
    assert entry.task == "fill-mask" and entry.label == "bert-base-uncased"
    assert catalog.defaults.allow_custom_models is False
    assert entry.trust_remote_code is False and entry.allow_pickle_weights is False
    assert catalog.find("fill_mask", "BERT-BASE-UNCASED") is entry


BROKEN = [
    ("not a mapping", "- just\n- a list\n", "must be a mapping"),
    ("bad yaml", "tabs: {fill_mask: [\n", "not valid YAML at line"),
    ("no tabs", "defaults: {}\n", "tabs: Field required"),
    ("unknown tab", "tabs: {sound: {models: [{id: a/b}]}}\n", "tabs.sound: unknown tab"),
    ("no models", "tabs: {fill_mask: {models: []}}\n", "tabs.fill_mask.models: List should have at least 1 item"),
    ("missing id", "tabs: {fill_mask: {models: [{label: x}]}}\n", "tabs.fill_mask.models[0].id: Field required"),
    ("bad dtype", "tabs: {fill_mask: {models: [{id: a/b, dtype: float8}]}}\n", "tabs.fill_mask.models[0].dtype"),
    (
        "wrong task",
        "tabs: {fill_mask: {models: [{id: a/b, task: text-generation}]}}\n",
        "task 'text-generation' is not served by this tab",
    ),
    (
        "typo field",
        "tabs: {fill_mask: {models: [{id: a/b, trust_remote: true}]}}\n",
        "trust_remote: Extra inputs are not permitted",
    ),
    (
        "two defaults",
        "tabs: {fill_mask: {models: [{id: a/b, default: true}, {id: c/d, default: true}]}}\n",
        "a second default",
    ),
    ("duplicate id", "tabs: {fill_mask: {models: [{id: a/b}, {id: a/b}]}}\n", "the same id is listed twice"),
    (
        "document flag",
        "tabs: {visual_qa: {models: [{id: a/b, task: vqa-classifier, document: true}]}}\n",
        "document: true only applies to image-text-to-text models",
    ),
    (
        "prompt on a classifier",
        "tabs: {visual_qa: {models: [{id: a/b, task: vqa-classifier, prompt: Describe this picture.}]}}\n",
        "prompt only applies to image-text-to-text picture models",
    ),
    ("bad device", "defaults: {device: tpu}\ntabs: {fill_mask: {models: [{id: a/b}]}}\n", "defaults.device"),
    ("bad device_map", "tabs: {fill_mask: {models: [{id: a/b, device_map: everywhere}]}}\n", "device_map must be"),
    (
        "max_memory alone",
        "tabs: {fill_mask: {models: [{id: a/b, max_memory: {cpu: 1GB}}]}}\n",
        "max_memory only applies with device_map",
    ),
    (
        "max_memory device",
        "tabs: {fill_mask: {models: [{id: a/b, device_map: auto, max_memory: {gpu: 1GB}}]}}\n",
        "max_memory: 'gpu' is not a device",
    ),
    (
        "max_memory size",
        "tabs: {fill_mask: {models: [{id: a/b, device_map: auto, max_memory: {0: lots}}]}}\n",
        "max_memory[0]: 'lots' is not a size",
    ),
    (
        "negative limit",
        "defaults: {max_loaded_models: 0}\ntabs: {fill_mask: {models: [{id: a/b}]}}\n",
        "defaults.max_loaded_models",
    ),
    ("zero-shot without task", "tabs: {zero_shot: {models: [{id: a/b}]}}\n", "task '(missing)' is not served"),
]


@pytest.mark.parametrize("name,text,expected", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_catalog_messages(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message, message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="catalog file not found"):
        load_catalog(tmp_path / "nope.yaml")


# A sample of BROKEN, started as a user starts the app: each is refused before anything loads.
APP_REFUSES = [
    "bad yaml",
    "unknown tab",
    "bad dtype",
    "typo field",
    "wrong task",
    "max_memory device",
    "zero-shot without task",
]


@pytest.mark.parametrize("name,text,expected", [b for b in BROKEN if b[0] in APP_REFUSES], ids=APP_REFUSES)
def test_app_exits_2_on_broken_catalog_without_traceback(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--catalog", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {path}") and expected in result.stderr, result.stderr


def test_app_exits_2_on_a_missing_catalog(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--catalog", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nope.yaml: catalog file not found" in result.stderr


def test_max_memory_keys_are_read_as_devices() -> None:
    """YAML reads `0:` as an int: keys are kept as strings, so entries compare and serialise alike."""
    data = {
        "tabs": {
            "text_generation": {
                "models": [
                    {"id": "a/b", "device_map": "auto", "max_memory": {0: "14GiB", "cpu": "24GiB ", "Disk": 10**9}}
                ]
            }
        }
    }
    entry = parse_catalog(data).default_model("text_generation")
    assert entry.max_memory == {"0": "14GiB", "cpu": "24GiB", "disk": 10**9}


def test_unknown_tabs_flag_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(minimal()))
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--catalog", str(path), "--tabs", "sound"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "unknown or uncatalogued tab(s) sound" in result.stderr


def remote(endpoint: dict, task: str = "text-generation", tab: str = "text_generation", **entry: object) -> dict:
    return {
        "tabs": {tab: {"models": [{"id": "Qwen/Qwen2.5-7B-Instruct", "task": task, "endpoint": endpoint, **entry}]}}
    }


def test_endpoint_entries_validate() -> None:
    catalog = parse_catalog(remote({"url": "http://gpu-server:8000/v1/", "api_key_env": "VLLM_API_KEY", "timeout": 30}))
    entry = catalog.default_model("text_generation")
    assert entry.is_remote and not entry.is_local
    assert entry.endpoint.url == "http://gpu-server:8000/v1" and entry.endpoint.api_key_env == "VLLM_API_KEY"
    asr = parse_catalog(
        remote({"url": "https://router.huggingface.co/v1"}, "automatic-speech-recognition", "speech_to_text")
    )
    assert asr.default_model("speech_to_text").endpoint.max_retries == 2


@pytest.mark.parametrize(
    "endpoint, message",
    [
        ({"url": "ftp://gpu/v1"}, "http:// or https://"),
        ({"url": "http://user:secret@gpu/v1"}, "must not carry credentials"),
        ({"url": "http://gpu/v1?key=abc"}, "query"),
        ({"url": "http://gpu/v1", "api_key_env": "sk-abc123 xyz"}, "name of an environment variable"),
        ({"url": "http://gpu/v1", "api_key": "sk-abc"}, "Extra inputs are not permitted"),
        ({"url": "http://gpu/v1", "timeout": 0}, "greater than 0"),
    ],
)
def test_bad_endpoints_are_refused(endpoint: dict, message: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(remote(endpoint))
    assert message in str(caught.value) and "endpoint" in str(caught.value)
    assert "secret" not in str(caught.value) and "sk-abc" not in str(caught.value), (
        "a key typed in the file is never echoed"
    )


def test_endpoints_only_for_generation_and_speech_and_without_loading_options() -> None:
    with pytest.raises(CatalogError, match="an endpoint serves only"):
        parse_catalog(remote({"url": "http://gpu/v1"}, "fill-mask", "fill_mask"))
    with pytest.raises(CatalogError, match="device_map, dtype: loading options do not apply"):
        parse_catalog(remote({"url": "http://gpu/v1"}, dtype="bfloat16", device_map="auto"))


def test_a_description_is_one_text_or_one_per_language() -> None:
    data = minimal()
    data["tabs"]["fill_mask"]["models"] += [
        {"id": "a/korean", "description": {"en": "English words.", "ko": "한국어 설명."}},
        {"id": "a/english", "description": {"en": "Only English."}},
    ]
    data["tabs"]["fill_mask"]["models"][0]["description"] = "One text."
    plain, both, english = parse_catalog(data).tabs["fill_mask"].models
    assert plain.described("ko") == plain.described("en") == "One text."
    assert (both.described("en"), both.described("ko")) == ("English words.", "한국어 설명.")
    assert english.described("ko") == "Only English."


@pytest.mark.parametrize(
    "description, message",
    [
        ({"ko": "설명만."}, "description: the en text is required"),
        ({"en": "Text.", "fr": "Texte."}, "description: unknown language fr (use en, ko)"),
    ],
)
def test_bad_descriptions_are_refused(description: dict, message: str) -> None:
    data = minimal()
    data["tabs"]["fill_mask"]["models"][0]["description"] = description
    with pytest.raises(CatalogError, match=re.escape(message)):
        parse_catalog(data)


def test_descriptions_are_shown_in_the_page_language() -> None:
    """The picker's note is one i18n marker (the browser translates only a string's first marker) whose
    table entry holds every description in that language."""
    import gradio as gr

    from playground.core.texts import merged_tables
    from playground.engines.generation_engines import Engines
    from playground.loading.model_manager import ModelManager
    from playground.web.ui import TabContext, model_picker

    data = minimal()
    data["tabs"]["fill_mask"]["models"][0]["description"] = {"en": "Masked words.", "ko": "가려진 단어."}
    data["tabs"]["fill_mask"]["models"].append({"id": "a/b", "label": "Second", "description": "Plain text."})
    catalog = parse_catalog(data)
    context = TabContext(key="fill_mask", catalog=catalog, manager=ModelManager(catalog), engines=Engines())
    with gr.Blocks():
        picker = model_picker(context)
    [(key, english)] = merged_tables([context.picker_notes])["en"].items()
    korean = merged_tables([context.picker_notes])["ko"][key]
    assert str(picker.info).count("__i18n__") == 1 and key in str(picker.info)
    assert "Masked words." in english and "Plain text." in english and "가려진 단어." not in english
    assert "가려진 단어." in korean and "Plain text." in korean and "Masked words." not in korean


def test_hugging_face_sign_in_names_who_may_sign_in() -> None:
    data = minimal()
    data["defaults"] = {"sign_in": {"huggingface": {"users": ["alice", "Bob.Smith"], "organizations": ["my-class"]}}}
    settings = parse_catalog(data).defaults.sign_in.huggingface
    assert settings is not None and settings.users == ["alice", "Bob.Smith"] and settings.organizations == ["my-class"]
    assert parse_catalog(minimal()).defaults.sign_in.huggingface is None, "off unless the catalog names someone"


@pytest.mark.parametrize(
    "sign_in, message",
    [
        ({"huggingface": {}}, "list the users or organizations that may sign in"),
        ({"huggingface": {"users": [], "organizations": []}}, "list the users or organizations that may sign in"),
        ({"huggingface": {"users": ["alice smith"]}}, "not Hugging Face account names: ['alice smith']"),
        ({"huggingface": {"organizations": ["-class"]}}, "not Hugging Face account names: ['-class']"),
        ({"huggingface": {"users": ["alice"], "teams": ["x"]}}, "teams: Extra inputs are not permitted"),
        ({"github": {"users": ["alice"]}}, "github: Extra inputs are not permitted"),
    ],
)
def test_bad_sign_in_settings_are_refused(sign_in: dict, message: str) -> None:
    data = minimal()
    data["defaults"] = {"sign_in": sign_in}
    with pytest.raises(CatalogError, match=re.escape(message)):
        parse_catalog(data)


def test_cpu_packed_linears_is_a_switch_for_local_models() -> None:
    def generation(**entry: object) -> dict:
        return {"tabs": {"text_generation": {"models": [{"id": "Qwen/Qwen2.5-0.5B-Instruct", **entry}]}}}

    assert parse_catalog(generation()).default_model("text_generation").cpu_packed_linears is True
    assert (
        parse_catalog(generation(cpu_packed_linears=False)).default_model("text_generation").cpu_packed_linears is False
    )
    with pytest.raises(CatalogError, match="cpu_packed_linears"):
        parse_catalog(generation(cpu_packed_linears="sometimes"))
    with pytest.raises(CatalogError, match="cpu_packed_linears: loading options do not apply"):
        parse_catalog(remote({"url": "http://gpu/v1"}, cpu_packed_linears=False))
