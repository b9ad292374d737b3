"""Finding a tab in the page's tab strip, where tabs sit in groups (playground.config.registry)."""

from __future__ import annotations

import importlib
from typing import Any

from playground.config.registry import TAB_GROUPS, TAB_SPECS

SPECS = {spec.key: spec for spec in TAB_SPECS}


def tab_title(key: str, lang: str = "en") -> str:
    return importlib.import_module(SPECS[key].module).TEXTS.get("title", lang)


def top_strip(page: Any) -> Any:
    """The top tab strip's tabs (groups, and tabs that sit in no group)."""
    return page.locator("[role=tablist]").first.get_by_role("tab")


def top_strip_titles(page: Any) -> list[str]:
    top_strip(page).first.wait_for(timeout=30_000)
    return [text.strip() for text in top_strip(page).all_inner_texts()]


def shows_tab(page: Any, key: str, lang: str = "en") -> bool:
    """Whether the page shows the tab `key`, in the top strip or in its group."""
    top = top_strip_titles(page)
    group = SPECS[key].group
    return tab_title(key, lang) in top or bool(group) and TAB_GROUPS.get(group, lang) in top


def open_tab(page: Any, key: str, lang: str = "en") -> None:
    """Open the tab `key` as a user does: its group first when the strip shows it in one."""
    title = tab_title(key, lang)
    if title not in top_strip_titles(page):
        group = TAB_GROUPS.get(SPECS[key].group, lang)
        top_strip(page).filter(has_text=group).first.click()
    tab = page.get_by_role("tab", name=title, exact=True).first
    tab.click()
    selected = "tab => tab.getAttribute('aria-selected') === 'true'"
    page.wait_for_function(selected, arg=tab.element_handle(), timeout=10_000)
