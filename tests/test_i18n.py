"""English and Korean everywhere: every string table is complete, every tab explains itself, and
server messages follow the language the browser (or the app's language switch) asks for."""

from __future__ import annotations

import ast
import importlib
import os
import re
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from page_helpers import SPECS, open_tab, tab_title, top_strip_titles
from test_browser import browser  # noqa: F401 - the shared chromium fixture

from playground.core.texts import LANGUAGE_COOKIE, LANGUAGES, Texts
from playground.loading.adapters import ADAPTERS
from playground.web.errors import OUT_OF_MEMORY, UNEXPECTED
from tabs import TAB_SPECS

ROOT = Path(__file__).resolve().parents[1]

# Every module that may hold a string table: the app, the whole shared package, every module of every tab.
TABLE_MODULES = [
    "app",
    *sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for folder in ("playground", "tabs")
        for path in (ROOT / folder).rglob("*.py")
        if path.name not in ("__init__.py", "test_models.py")
    ),
]
# A string may read the same in Korean only when it is one technical token (CSV, top_p, Id).
TECHNICAL_TOKEN = re.compile(r"^[\w.\-]{1,12}$")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def all_tables() -> list[Texts]:
    tables = []
    for name in TABLE_MODULES:
        module = importlib.import_module(name)
        tables += [value for value in vars(module).values() if isinstance(value, Texts) and value not in tables]
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


CODE_FILES = [ROOT / "app.py", *sorted((ROOT / "playground").rglob("*.py")), *sorted((ROOT / "tabs").rglob("*.py"))]


def string_uses(paths: list[Path]) -> tuple[set[str], list[re.Pattern[str]]]:
    """The string literals the code uses, and f-strings as patterns (`f"preset_{name}"` -> preset_.+),
    leaving out the keys of the string tables themselves ({"en": {key: text}, "ko": {...}})."""
    literals: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        definitions: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value in LANGUAGES and isinstance(value, ast.Dict):
                        definitions.update(id(k) for k in value.keys)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in definitions:
                literals.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values]
                # f"{kind}_{rank}" names no key: a pattern with no word of its own would match any key.
                if any(isinstance(v, ast.Constant) and re.search(r"[A-Za-z]", v.value) for v in node.values):
                    patterns.append(re.compile("".join(parts)))
    return literals, patterns


def test_string_uses_sees_keys_and_leaves_out_definitions(tmp_path: Path) -> None:
    code = tmp_path / "tab.py"
    code.write_text(
        'STRINGS = {"en": {"title": "T", "about": "A", "preset_x": "X"}, "ko": {"title": "T"}}\n'
        'TEXTS.ui("title")\nTEXTS.ui(f"preset_{name}")\n'
    )
    literals, patterns = string_uses([code])
    assert "title" in literals and "about" not in literals
    assert any(p.fullmatch("preset_x") for p in patterns) and not any(p.fullmatch("about") for p in patterns)


@pytest.mark.parametrize("texts", all_tables(), ids=lambda texts: texts.namespace)
def test_every_string_key_is_used(texts: Texts) -> None:
    literals, patterns = string_uses(CODE_FILES)
    unused = [key for key in texts.table["en"] if key not in literals and not any(p.fullmatch(key) for p in patterns)]
    assert not unused, f"{texts.namespace}: keys no code uses: {unused}"


LOCALE_FOLDERS = sorted({path.parent for path in ROOT.glob("**/locales/*.yaml") if ".venv" not in path.parts})


def test_locale_files_are_found() -> None:
    assert ROOT / "tabs" / "fill_mask" / "locales" in LOCALE_FOLDERS


@pytest.mark.parametrize("folder", LOCALE_FOLDERS, ids=lambda folder: str(folder.relative_to(ROOT)))
def test_every_locale_file_has_the_same_sections_and_each_is_loaded(folder: Path) -> None:
    """One file a language, nothing else; every namespace in them is some module's Texts (an unused
    section, or one only English has, fails)."""
    from playground.core.texts import read_locale

    assert sorted(path.name for path in folder.iterdir()) == sorted(f"{lang}.yaml" for lang in LANGUAGES)
    sections = {lang: set(read_locale(folder / f"{lang}.yaml")) for lang in LANGUAGES}
    assert sections["ko"] == sections["en"], f"{folder}: namespaces differ between en.yaml and ko.yaml"
    loaded = {texts.namespace for texts in all_tables() if texts.locales == folder}
    assert sections["en"] == loaded, f"{folder}: sections no module loads: {sorted(sections['en'] - loaded)}"


def test_a_missing_korean_string_fails_to_load(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text("tab:\n  title: Tab\n  about: What it does\n", encoding="utf-8")
    (tmp_path / "ko.yaml").write_text("tab:\n  title: 탭\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"Korean strings missing for \['about'\]"):
        Texts.load("tab", tmp_path)
    with pytest.raises(ValueError, match="no 'other' section"):
        Texts.load("other", tmp_path)


def test_shared_error_messages_are_translated() -> None:
    for messages in (OUT_OF_MEMORY, UNEXPECTED):
        assert HANGUL.search(messages["ko"]) and messages["ko"] != messages["en"]


@pytest.mark.parametrize("spec", TAB_SPECS, ids=lambda spec: spec.key)
def test_every_tab_explains_which_pipeline_runs(spec) -> None:  # noqa: ANN001
    module = importlib.import_module(spec.module)
    pipelines = [task for task in spec.tasks if task not in ADAPTERS]
    assert "about" in module.TEXTS.table["en"], f"{spec.key}: no 'about' note"
    for lang in ("en", "ko"):
        about = module.TEXTS.get("about", lang)
        missing = [task for task in pipelines if task not in about]
        assert not missing, f"{spec.key} ({lang}): the 'what is happening' note does not name {missing}"


def test_every_shown_tab_has_its_collapsible_note(app, client) -> None:  # noqa: ANN001
    import json
    import urllib.request

    with urllib.request.urlopen(app.url + "config", timeout=10) as response:
        components = json.load(response)["components"]
    top_level = {spec.key for spec in TAB_SPECS}  # tabs inside a tab have other ids
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
    korean = error_message(
        app.url, {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}, "nothing-like-this", api_name="/unload_model"
    )
    assert "불러온 모델이 없습니다" in korean
    english = error_message(app.url, {"Accept-Language": "en-US"}, "nothing-like-this", api_name="/unload_model")
    assert "No loaded model matches" in english


def test_server_messages_follow_accept_language(app) -> None:  # noqa: ANN001
    message, _ = Client(app.url, verbose=False, headers={"Accept-Language": "ko"}).predict(
        "all", api_name="/unload_model"
    )
    assert message.startswith("내린 모델"), message


def test_errors_follow_the_language_switch_over_the_browser(app) -> None:  # noqa: ANN001
    chose_korean = {"Accept-Language": "en-US", "Cookie": f"{LANGUAGE_COOKIE}=ko"}
    assert "불러온 모델이 없습니다" in error_message(
        app.url, chose_korean, "nothing-like-this", api_name="/unload_model"
    )
    chose_english = {"Accept-Language": "ko-KR", "Cookie": f"{LANGUAGE_COOKIE}=en"}
    assert "No loaded model matches" in error_message(
        app.url, chose_english, "nothing-like-this", api_name="/unload_model"
    )


def test_model_errors_are_translated(app, client, tmp_path) -> None:  # noqa: ANN001
    from gradio_client import handle_file
    from PIL import Image

    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    if "/classify_image" not in api:
        pytest.skip("image classification tab not shown in this run")
    picture = tmp_path / "red.png"
    Image.new("RGB", (32, 32), "red").save(picture)
    message = error_message(
        app.url, {"Accept-Language": "ko"}, handle_file(str(picture)), model="no/such-model", api_name="/classify_image"
    )
    assert "카탈로그에 없습니다" in message and "no/such-model" in message


# What a Korean page may show in Latin letters: names, code and technical terms that read the same in
# Korean teaching material (lower case; model names, ids and descriptions come from the catalog).
TECHNICAL_WORDS = {
    "english",
    "hugging",
    "face",
    "hub",
    "transformers",
    "pipeline",
    "pipelines",
    "python",
    "gradio",
    "api",
    "id",
    "json",
    "csv",
    "pdf",
    "png",
    "ocr",
    "gpu",
    "cpu",
    "cuda",
    "mps",
    "dtype",
    "device_map",
    "top-k",
    "top-p",
    "k",
    "p",
    "log",
    "mask",
    "cls",
    "sep",
    "bos",
    "eos",
    "rtf",
    "srt",
    "vtt",
    "whisper",
    "clip",
    "vilt",
    "llava",
    "bert",
    "roberta",
    "gpt",
    "llama",
    "minilm",
    "nli",
    "vqa",
    "ms",
    "mb",
    "gb",
    "s",
}
# Code, JSON and the example inputs (sample data, not UI words: Gradio's example gallery and rows).
HIDDEN_FROM_CHECK = (
    "code, pre, .cm-editor, [data-testid=json], .json-holder, script, style, textarea, .gallery-item, tr.tr-body"
)
# The text of each visible element that holds text, whole (a word in <em> is read with its sentence).
VISIBLE_TEXT_JS = f"""() => {{
  const blocks = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {{
    const element = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !element || element.closest({HIDDEN_FROM_CHECK!r})) continue;
    if (!element.checkVisibility()) continue;
    blocks.add(element.closest("p, li, td, th, h1, h2, h3, h4, h5, h6, label, button, legend") || element);
  }}
  const out = [...blocks].map((element) => element.innerText.trim()).filter(Boolean);
  for (const input of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {{
    if (input.placeholder.trim() && input.checkVisibility()) out.push(input.placeholder.trim());
  }}
  return out;
}}"""
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.'’\-]*")


def catalog_words(catalog_path: Path) -> set[str]:
    """Words of what the catalog's author wrote (labels, ids, descriptions, tasks): not UI strings."""
    from playground.config.catalog import load_catalog

    catalog = load_catalog(catalog_path)
    texts = [key for key in catalog.tabs]
    for tab in catalog.tabs.values():
        texts += [text for m in tab.models for text in (m.id, m.label, m.described("ko"), m.task)]
    return {word.rstrip(".'’-").lower() for text in texts for word in WORD.findall(text)}


def english_words(text: str, allowed: set[str]) -> list[str]:
    """The English words of a visible text that should have been translated ([] when it has Korean)."""
    if "__i18n__" in text:
        return ["untranslated i18n marker"]  # a Texts.ui() label where Gradio does not translate
    if HANGUL.search(text):
        return []
    text = re.sub(r"\S+=\S+", " ", text)  # settings as code: device_map=auto
    words = [w.rstrip(".'’-") for w in WORD.findall(text)]
    return [w for w in words if len(w) > 1 and w.lower() not in allowed and not re.search(r"[\d_.]", w)]


def test_english_words_finds_untranslated_text() -> None:
    allowed = TECHNICAL_WORDS | {"bert"}
    assert english_words("Show code", allowed) == ["Show", "code"]
    assert english_words("코드 보기: top-k", allowed) == []
    assert english_words("BERT · top-k · float32 · 12.5 ms · device_map=auto", allowed) == []
    assert english_words('__i18n__{"__type__": "translation_metadata", "key": "tab.image"}', allowed)


@pytest.fixture(scope="module")
def korean_page(app, browser):  # noqa: ANN001, ANN201, F811
    """The app opened with ?lang=ko by a browser that itself asks for English."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(app.url + "?lang=ko", wait_until="networkidle")
    page.get_by_text("파이프라인 놀이터").first.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('[role=tab]')?.innerText.trim() && "
        "/[\\uac00-\\ud7a3]/.test(document.querySelector('[role=tab]').innerText)",
        timeout=60_000,
    )
    yield page
    context.close()


def visible_texts_of_tab(page, key: str) -> list[str]:  # noqa: ANN001
    """Open a tab (through its group), then each of its sub-tabs; the visible texts seen on the way
    (accordions open)."""
    open_tab(page, key, "ko")
    page.wait_for_timeout(500)
    group = SPECS[key].group
    top_level = {
        *top_strip_titles(page),
        *(tab_title(k, "ko") for k, spec in SPECS.items() if group and spec.group == group),
    }
    seen: list[str] = []

    def collect() -> None:
        closed = page.locator("button.label-wrap:not(.open)").locator("visible=true")
        for _ in range(20):  # opening one may reveal others inside it
            if not closed.count():
                break
            closed.first.click()
        page.wait_for_timeout(300)
        seen.extend(page.evaluate(VISIBLE_TEXT_JS))

    collect()
    sub_tabs = [
        tab
        for tab in page.get_by_role("tab").locator("visible=true").all()
        if tab.inner_text().strip() not in top_level
    ]
    for sub_tab in sub_tabs:
        sub_tab.click()
        page.wait_for_timeout(500)
        collect()
    return seen


@pytest.mark.parametrize("spec", TAB_SPECS, ids=lambda spec: spec.key)
def test_a_korean_page_shows_no_english_ui_text(korean_page, test_catalog, spec) -> None:  # noqa: ANN001
    shown = os.environ.get("PLAYGROUND_TEST_TABS")
    if spec.catalogued and shown and spec.key not in shown.split(","):
        pytest.skip("tab not shown in this run")
    allowed = TECHNICAL_WORDS | catalog_words(test_catalog)
    found = {
        text: words
        for text in dict.fromkeys(visible_texts_of_tab(korean_page, spec.key))
        if (words := english_words(text, allowed))
    }
    assert not found, f"{spec.key}: English on the Korean page: {found}"
