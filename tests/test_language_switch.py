"""The header's language switch in a real browser: the whole page, the tab strip included, changes
language in place, server messages follow it although the browser itself asks for English, and
the choice is remembered."""

from __future__ import annotations

import os

from page_helpers import tab_title
from playwright.sync_api import expect
from test_browser import browser  # noqa: F401 - the shared chromium fixture

from playground.config.registry import TAB_GROUPS, tab_strip
from tabs import TAB_SPECS
from tabs.models import ui as models_view


def tab_titles(lang: str) -> list[str]:
    """The tabs a freshly loaded page shows: the top strip (groups and tabs in none), then the tabs of
    its first entry when that is a group."""
    shown = os.environ.get("PLAYGROUND_TEST_TABS")
    keys = [s.key for s in TAB_SPECS if not shown or not s.catalogued or s.key in shown.split(",")]
    strip = tab_strip(keys)
    top = [TAB_GROUPS.get(group, lang) if group else tab_title(members[0], lang) for group, members in strip]
    first_group, first_members = strip[0]
    return top + ([tab_title(key, lang) for key in first_members] if first_group else [])


def wait_for_tab_titles(page, titles: list[str]) -> None:  # noqa: ANN001
    page.wait_for_function(
        "titles => [...document.querySelectorAll('[role=tab]')].map(t => t.innerText.trim()).join('|') === titles.join('|')",
        arg=titles,
        polling=250,
        timeout=60_000,
    )


def test_switching_language_changes_tab_titles_and_messages(app, browser) -> None:  # noqa: ANN001, F811
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(app.url, wait_until="networkidle")
    tabs = page.get_by_role("tab")
    tabs.first.wait_for(timeout=30_000)
    assert tabs.all_inner_texts() == tab_titles("en")
    # The page's load events set the switch; "networkidle" can come before they are sent.
    expect(page.get_by_label("English", exact=True)).to_be_checked(timeout=30_000)

    page.get_by_label("한국어", exact=True).check()
    page.get_by_text("파이프라인 놀이터").first.wait_for(timeout=30_000)
    wait_for_tab_titles(page, tab_titles("ko"))

    # A message made on the server: the browser still sends Accept-Language: en-US.
    page.get_by_role("tab", name=models_view.TEXTS.get("title", "ko"), exact=True).click()
    target = page.get_by_label(models_view.TEXTS.get("unload_target", "ko"))
    target.fill("nothing-like-this")
    target.blur()  # the page sends the field's value once it has taken it (an empty one unloads everything)
    expect(target).to_have_value("nothing-like-this")
    page.wait_for_timeout(300)
    page.get_by_role("button", name=models_view.TEXTS.get("unload", "ko"), exact=True).click()
    page.get_by_text("불러온 모델이 없습니다").first.wait_for(timeout=30_000)

    page.reload(wait_until="networkidle")
    wait_for_tab_titles(page, tab_titles("ko"))
    expect(page.get_by_label("한국어", exact=True), "the choice is remembered").to_be_checked(timeout=30_000)
    assert not errors, errors
    context.close()


def test_a_link_can_choose_the_language(app, browser) -> None:  # noqa: ANN001, F811
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(app.url + "?lang=ko", wait_until="networkidle")
    wait_for_tab_titles(page, tab_titles("ko"))
    context.close()


def test_no_server_event_outputs_a_tab_or_other_layout_block(app) -> None:  # noqa: ANN001
    """Gradio's browser refreshes every output of every server event it has run on each streamed
    update, walking all of a layout block's components: a tab as a server output made each token cost
    a walk of the whole page. The tab labels are relabelled by browser-side functions instead."""
    import json
    import urllib.request

    config = json.load(urllib.request.urlopen(app.url + "config"))
    kinds = {component["id"]: component["type"] for component in config["components"]}
    layout = {"tabitem", "tabs", "row", "column", "group", "accordion", "form", "sidebar"}
    relabelled = []
    for dependency in config["dependencies"]:
        outputs = {kinds[output] for output in dependency["outputs"]}
        if dependency["backend_fn"]:
            assert not outputs & layout, (dependency["api_name"], outputs & layout)
        elif "tabitem" in outputs:
            relabelled.append(dependency["id"])
    assert len(relabelled) == 2, "on load and on a language switch"
