"""User-facing strings: kept as data in locale files (one per language), looked up by key.

A folder's `locales/en.yaml` and `locales/ko.yaml` map namespaces to their strings
(`fill_mask: {title: ..., about: ...}`); a module takes its namespace with
`Texts.load("fill_mask", LOCALES)`. Each tab folder keeps its own files (its namespace is the tab
key, its task logic's is `<key>.task`); the shared package and the app keep theirs, one namespace a
concern, in `playground/locales/` (`SHARED_LOCALES`). UI labels go through Gradio's own i18n
(`Texts.ui`, resolved in the browser from its language); messages computed on the server (errors, notes) are rendered with `Texts.render` in the
request's language. The language is the one picked with the app's language switch (a cookie), else
the browser's (Accept-Language). Errors that reach the user carry their message in every language
(`LocalizedError`); this module imports nothing else of the package, so every other module may use it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

import yaml

# The shared package's strings, namespaced by concern (common widgets, loading, audio, datasets...).
SHARED_LOCALES = Path(__file__).resolve().parents[1] / "locales"

LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"
# Set by the language switch in the page header; sent with every request, so server messages follow it.
LANGUAGE_COOKIE = "playground_lang"

StringTable = Mapping[str, Mapping[str, str]]

# libyaml's safe loader where PyYAML was built with it: the same data as the pure-Python one, parsed
# about 9x faster (the page's locale files took a third of a second of start-up with the latter).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """A YAML document as plain data (a safe loader: no Python objects)."""
    return yaml.load(text, Loader=_YAML_LOADER)


def language_from_header(accept_language: str | None) -> str:
    """The first supported language in an Accept-Language header ("ko-KR,ko;q=0.9,en" -> "ko")."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def language_from_cookie(cookie_header: str | None) -> str | None:
    """The language chosen with the switch, if the Cookie header carries a supported one."""
    try:
        chosen = SimpleCookie(cookie_header or "").get(LANGUAGE_COOKIE)
    except CookieError:
        return None
    return chosen.value if chosen is not None and chosen.value in LANGUAGES else None


def request_language(request: Any) -> str:
    """The language of a gr.Request (None outside a request -> English)."""
    if request is None:
        return DEFAULT_LANGUAGE
    headers = getattr(request, "headers", None) or {}
    return language_from_cookie(headers.get("cookie")) or language_from_header(headers.get("accept-language"))


def size_text(count: float) -> str:
    """A byte count as people read it: MB below a GB (KB below a MB), else GB; the same in every language."""
    if count < 2**20:
        return f"{count / 2**10:.0f} KB"
    return f"{count / 2**20:.1f} MB" if count < 2**30 else f"{count / 2**30:.2f} GB"


class LocalizedError(Exception):
    """An error whose message exists in every UI language; `in_language` picks the caller's."""

    def __init__(self, messages: Mapping[str, str] | str):
        if isinstance(messages, str):
            messages = {DEFAULT_LANGUAGE: messages}
        super().__init__(messages.get(DEFAULT_LANGUAGE) or next(iter(messages.values())))
        self.messages = dict(messages)

    def in_language(self, lang: str) -> str:
        return self.messages.get(lang) or str(self)


class UserError(LocalizedError):
    """A problem with the user's input or choice."""


@functools.cache
def read_locale(path: Path) -> dict[str, dict[str, str]]:
    """One locale file: {namespace: {key: text}} (read once; the files do not change while the app runs)."""
    sections = parse_yaml(path.read_text(encoding="utf-8")) or {}
    if not isinstance(sections, dict) or not all(isinstance(keys, dict) for keys in sections.values()):
        raise ValueError(f"{path}: a locale file maps namespaces to {{key: text}} tables")
    return sections


class Texts:
    """One namespace's strings in every language."""

    def __init__(self, namespace: str, table: StringTable, locales: Path | None = None):
        missing = set(table[DEFAULT_LANGUAGE]) - set(table.get("ko", {}))
        if missing:
            raise ValueError(f"{namespace}: Korean strings missing for {sorted(missing)}")
        self.namespace = namespace
        self.table = table
        # The folder of the locale files the strings came from (None: built in code, as tests do).
        self.locales = locales

    @classmethod
    def load(cls, namespace: str, locales: Path) -> Texts:
        """The `namespace` section of the locale files in the folder `locales` (`en.yaml`, `ko.yaml`)."""
        table = {}
        for lang in LANGUAGES:
            path = locales / f"{lang}.yaml"
            sections = read_locale(path)
            if namespace not in sections:
                raise ValueError(f"{path}: no {namespace!r} section")
            table[lang] = sections[namespace]
        return cls(namespace, table, locales)

    def get(self, key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
        template = self.table.get(lang, {}).get(key) or self.table[DEFAULT_LANGUAGE][key]
        return template.format(**params) if params else template

    def render(self, key: str, **params: Any) -> dict[str, str]:
        """The message in every language (the caller picks one once it knows the request)."""
        return {lang: self.get(key, lang, **params) for lang in LANGUAGES}

    def ui(self, key: str) -> Any:
        """A label that the browser translates (Gradio i18n); the key must exist in the table."""
        from gradio.i18n import I18nData

        if key not in self.table[DEFAULT_LANGUAGE]:
            raise KeyError(f"{self.namespace}: no string {key!r}")
        return I18nData(f"{self.namespace}.{key}")

    def error(self, key: str, **params: Any) -> UserError:
        return UserError(self.render(key, **params))


def merged_tables(texts: Iterable[Texts]) -> dict[str, dict[str, str]]:
    """All tabs' tables as Gradio i18n wants them: {lang: {"namespace.key": text}}."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for item in texts:
        for lang in LANGUAGES:
            for key, value in item.table.get(lang, {}).items():
                merged[lang][f"{item.namespace}.{key}"] = value
    return merged
