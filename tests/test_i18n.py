"""English and Korean everywhere: every string table is complete, every tab explains itself, and
server messages follow the language the browser (or the app's language switch) asks for."""

from __future__ import annotations

import importlib
import re

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from playground.catalog import ADAPTER_TASKS
from playground.errors import OUT_OF_MEMORY, UNEXPECTED
from playground.texts import LANGUAGE_COOKIE, Texts
from tabs import TAB_SPECS

TABLE_MODULES = [
    "app", "playground.ui", "playground.audio", "playground.images", "playground.model_manager", "tabs.models_view",
    "playground.remote_engine",
    *(spec.module for spec in TAB_SPECS),
]
# A string may read the same in Korean only when it is one technical token (CSV, top_p, Id).
TECHNICAL_TOKEN = re.compile(r"^[\w.\-]{1,12}$")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def all_tables() -> list[Texts]:
    tables = []
    for name in TABLE_MODULES:
        module = importlib.import_module(name)
        tables += [value for value in vars(module).values() if isinstance(value, Texts)]
    return tables


@pytest.mark.parametrize("texts", all_tables(), ids=lambda texts: texts.namespace)
def test_every_string_has_a_korean_translation(texts: Texts) -> None:
    english, korean = texts.table["en"], texts.table["ko"]
    assert set(korean) == set(english), f"{texts.namespace}: keys differ between en and ko"
    for key, text in english.items():
        translated = korean[key]
        assert translated.strip(), f"{texts.namespace}.{key}: empty Korean text"
        if translated == text:
            assert TECHNICAL_TOKEN.match(text), f"{texts.namespace}.{key}: Korean text is the English one: {text!r}"
        elif re.search(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", text):
            assert HANGUL.search(translated), f"{texts.namespace}.{key}: no Korean in {translated!r}"
        placeholders = set(re.findall(r"\{(\w+)", text))
        assert placeholders == set(re.findall(r"\{(\w+)", translated)), f"{texts.namespace}.{key}: placeholders differ"


def test_shared_error_messages_are_translated() -> None:
    for messages in (OUT_OF_MEMORY, UNEXPECTED):
        assert HANGUL.search(messages["ko"]) and messages["ko"] != messages["en"]


@pytest.mark.parametrize("spec", TAB_SPECS, ids=lambda spec: spec.key)
def test_every_tab_explains_which_pipeline_runs(spec) -> None:  # noqa: ANN001
    module = importlib.import_module(spec.module)
    pipelines = [task for task in spec.tasks if task not in ADAPTER_TASKS]
    assert "about" in module.STRINGS["en"], f"{spec.key}: no 'about' note"
    for lang in ("en", "ko"):
        about = module.STRINGS[lang]["about"]
        missing = [task for task in pipelines if task not in about]
        assert not missing, f"{spec.key} ({lang}): the 'what is happening' note does not name {missing}"


def test_every_shown_tab_has_its_collapsible_note(app, client) -> None:  # noqa: ANN001
    import json
    import urllib.request

    with urllib.request.urlopen(app.url + "config", timeout=10) as response:
        components = json.load(response)["components"]
    top_level = {spec.key for spec in TAB_SPECS} | {"models"}  # tabs inside a tab have other ids
    shown = {c["props"].get("id") for c in components if c["type"] == "tabitem"} & top_level
    accordions = [c for c in components if c["type"] == "accordion" and "common.about" in str(c["props"].get("label"))]
    notes = {str(c["props"].get("value")) for c in components if c["type"] == "markdown"}
    for spec in TAB_SPECS:
        if spec.key in shown:
            assert any(f'"{spec.key}.about"' in note for note in notes), f"{spec.key}: no 'what is happening' note"
    assert len(accordions) >= len(shown), "every tab's note sits in a collapsible accordion"
    assert all(not c["props"].get("open") for c in accordions), "notes start collapsed"


def error_message(url: str, headers: dict[str, str], *args: object, api_name: str, **kwargs: object) -> str:
    client = Client(url, verbose=False, headers=headers)
    with pytest.raises(AppError) as caught:
        client.predict(*args, api_name=api_name, **kwargs)
    return str(caught.value)


def test_errors_follow_accept_language(app) -> None:  # noqa: ANN001
    korean = error_message(app.url, {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}, "nothing-like-this", api_name="/unload_model")
    assert "불러온 모델이 없습니다" in korean
    english = error_message(app.url, {"Accept-Language": "en-US"}, "nothing-like-this", api_name="/unload_model")
    assert "No loaded model matches" in english


def test_errors_follow_the_language_switch_over_the_browser(app) -> None:  # noqa: ANN001
    chose_korean = {"Accept-Language": "en-US", "Cookie": f"{LANGUAGE_COOKIE}=ko"}
    assert "불러온 모델이 없습니다" in error_message(app.url, chose_korean, "nothing-like-this", api_name="/unload_model")
    chose_english = {"Accept-Language": "ko-KR", "Cookie": f"{LANGUAGE_COOKIE}=en"}
    assert "No loaded model matches" in error_message(app.url, chose_english, "nothing-like-this", api_name="/unload_model")


def test_model_errors_are_translated(app, client, tmp_path) -> None:  # noqa: ANN001
    from gradio_client import handle_file
    from PIL import Image

    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    if "/classify_image" not in api:
        pytest.skip("image classification tab not shown in this run")
    picture = tmp_path / "red.png"
    Image.new("RGB", (32, 32), "red").save(picture)
    message = error_message(app.url, {"Accept-Language": "ko"}, handle_file(str(picture)), model="no/such-model",
                            api_name="/classify_image")
    assert "카탈로그에 없습니다" in message and "no/such-model" in message
