"""Hugging Face sign-in (`defaults.sign_in.huggingface`): Gradio's real OAuth flow, run as on a Space
against a local OpenID provider (tests/fake_openid.py). Without an allowed account every route that
runs a model refuses: the page, queue join, the REST API, uploads, gradio_client, MCP and /metrics;
an account on the allow-list, by name or through its organization, is served; any other is refused
with its name and a way to sign out.

Gradio's session cookie is `Secure` (as it must be on a Space, served over HTTPS); httpx's cookie jar
would not send it back to http://127.0.0.1, so `Browser` carries it by hand, to the app only."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from conftest import ROOT, RunningApp, catalog_variant
from fake_openid import FakeOpenIDProvider
from gradio_client import Client
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_sign_in import FILL_MASK_DATA, MASKED, NAME, PASSWORD, basic, call_rest, hash_with_cli, join_body

from bench.common import app_command, wait_for_page

CLIENT_ID, CLIENT_SECRET = "fake-client-id", "fake-client-secret-never-shown"
ACCOUNTS = {"alice": [], "carol": ["my-class"], "mallory": ["other-org"]}
ALLOWED = {"users": ["Alice"], "organizations": ["my-class"]}  # names match whatever their case


def oauth_environment(provider: FakeOpenIDProvider) -> dict[str, str]:
    """What a Space with `hf_oauth: true` sets (SPACE_HOST left out: the callback stays on 127.0.0.1)."""
    return {
        "SYSTEM": "spaces",
        "SPACE_ID": "someone/pipeline-playground",
        "OAUTH_CLIENT_ID": CLIENT_ID,
        "OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "OAUTH_SCOPES": "openid profile",
        "OPENID_PROVIDER_URL": provider.url,
    }


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenIDProvider]:
    running = FakeOpenIDProvider(CLIENT_ID, CLIENT_SECRET, ACCOUNTS)
    yield running
    running.close()


@pytest.fixture(scope="module")
def hf_app(
    test_catalog: Path, provider: FakeOpenIDProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    root = tmp_path_factory.mktemp("hf-sign-in")
    catalog = catalog_variant(test_catalog, root / "models.yaml", sign_in={"huggingface": ALLOWED})
    command = app_command(catalog, "--tabs", "fill_mask", "--mcp", "--metrics")
    running = RunningApp(command, root, "app", wait=False, env=oauth_environment(provider))
    # The page answers 401 (the sign-in page) until one signs in: the health route says when it is up.
    wait_for_page(f"{running.url}healthz", running.process, 180, running.log_path)
    yield running
    running.stop()


class Browser:
    """An HTTP client that keeps the app's `session` cookie and follows redirects one by one, sending
    the cookie to the app only."""

    def __init__(self, app_url: str) -> None:
        self.app_url = app_url
        self.session: str | None = None
        self.http = httpx.Client(timeout=30)

    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"session={self.session}"} if self.session else {}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        url = urljoin(self.app_url, url)
        to_app = url.startswith(self.app_url)
        headers = {**(self.cookie() if to_app else {}), **kwargs.pop("headers", {})}
        response = self.http.request(method, url, headers=headers, **kwargs)
        for set_cookie in response.headers.get_list("set-cookie") if to_app else []:
            name, _, rest = set_cookie.partition("=")
            if name.strip() == "session":
                value = rest.split(";")[0]
                self.session = None if value in ("", "null") else value
        return response

    def follow(self, url: str, account: str | None = None) -> httpx.Response:
        """GET `url` and the redirects after it; at the provider's authorize page, `account` signs in."""
        response = self.request("GET", url)
        for _ in range(10):
            if response.status_code not in (302, 303, 307):
                return response
            location = urljoin(str(response.url), response.headers["location"])
            if "/oauth/authorize" in location and account:
                location += "&" + urlencode({"login_hint": account})
            response = self.request("GET", location)
        raise AssertionError("too many redirects")

    def sign_in(self, account: str) -> httpx.Response:
        return self.follow("/login/huggingface", account)


async def mcp_fill_mask(url: str, headers: dict[str, str]) -> Any:
    """Fill a mask through the app's MCP tool (on a Space its name starts with the Space's)."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = [tool.name for tool in (await session.list_tools()).tools]
        fill_mask = next(name for name in tools if name.endswith("_fill_mask"))
        return await session.call_tool(fill_mask, {"text": MASKED, "top_k": 2, "targets": ""})


def signed_in(app: RunningApp, account: str) -> Browser:
    browser = Browser(app.url)
    page = browser.sign_in(account)
    assert browser.session, f"{account}: no session after the sign-in ({page.status_code})"
    return browser


# ---- without an account -----------------------------------------------------------------------------
def test_the_page_offers_hugging_face_sign_in_in_the_browsers_language(hf_app: RunningApp) -> None:
    page = httpx.get(hf_app.url, timeout=30)
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
    assert 'href="/login/huggingface"' in page.text and "Sign in with Hugging Face" in page.text
    korean = httpx.get(hf_app.url, headers={"Accept-Language": "ko-KR,ko;q=0.9"}, timeout=30)
    assert "Hugging Face로 로그인" in korean.text
    assert httpx.get(f"{hf_app.url}config", timeout=30).status_code == 401


def test_every_model_route_refuses_a_caller_who_has_not_signed_in(hf_app: RunningApp, tmp_path: Path) -> None:
    for response in (
        httpx.post(f"{hf_app.url}gradio_api/queue/join", json={**join_body("anonymous"), "fn_index": 0}, timeout=30),
        call_rest(hf_app.url, {}),
        httpx.get(f"{hf_app.url}gradio_api/info", timeout=30),
        httpx.get(f"{hf_app.url}gradio_api/mcp/schema", timeout=30),
        httpx.get(f"{hf_app.url}gradio_api/mcp/", headers={"Accept": "text/event-stream"}, timeout=30),
        httpx.get(f"{hf_app.url}metrics", timeout=30),
    ):
        assert response.status_code == 401, response.request.url
        assert "sign in with Hugging Face" in response.json()["detail"]
    note = tmp_path / "note.txt"
    note.write_text("hello")
    with note.open("rb") as handle:
        upload = httpx.post(f"{hf_app.url}gradio_api/upload", files=[("files", ("note.txt", handle))], timeout=30)
    assert upload.status_code == 401
    korean = httpx.get(f"{hf_app.url}metrics", headers={"Accept-Language": "ko"}, timeout=30)
    assert "Hugging Face로 로그인하세요" in korean.json()["detail"]
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError):
        Client(hf_app.url, verbose=False)
    # The balancers' health routes stay open, without naming models.
    assert httpx.get(f"{hf_app.url}healthz", timeout=30).json() == {"status": "ok"}
    assert httpx.get(f"{hf_app.url}readyz", timeout=30).json() == {"status": "ready"}


# ---- an allowed account -----------------------------------------------------------------------------
def test_an_allowed_user_signs_in_with_hugging_face_and_runs_models(
    hf_app: RunningApp, provider: FakeOpenIDProvider
) -> None:
    browser = signed_in(hf_app, "alice")
    page = browser.request("GET", "/")
    assert page.status_code == 200 and "gradio" in page.text.lower()
    config = browser.request("GET", "config").json()
    assert config["username"] == "alice", "Gradio knows the account: the queue's fair share is per account"
    fn_index = next(i for i, dep in enumerate(config["dependencies"]) if dep.get("api_name") == "fill_mask")
    joined = browser.request("POST", "gradio_api/queue/join", json={**join_body("alice-page"), "fn_index": fn_index})
    assert joined.status_code == 200 and joined.json()["event_id"]
    assert "event: complete" in call_rest(hf_app.url, browser.cookie())
    label, *_ = Client(hf_app.url, headers=browser.cookie(), verbose=False).predict(MASKED, api_name="/fill_mask")
    assert len(label["confidences"]) == 5
    result = asyncio.run(mcp_fill_mask(f"{hf_app.url}gradio_api/mcp/", browser.cookie()))
    text = " ".join(part.text for part in result.content if getattr(part, "type", "") == "text")
    assert not result.isError and "confidences" in text, text
    assert browser.request("GET", "metrics").status_code == 200
    endpoints = browser.request("GET", "gradio_api/info").json()["named_endpoints"]
    assert "/fill_mask" in endpoints and not [name for name in endpoints if "login" in name], "no sign-in endpoint"
    assert "/oauth/userinfo" not in provider.requests, "an account listed by name needs no organizations"


def test_signing_out_closes_the_app_again(hf_app: RunningApp) -> None:
    browser = signed_in(hf_app, "alice")
    assert browser.request("GET", "config").status_code == 200
    assert browser.follow("/logout").status_code == 401
    assert call_rest(hf_app.url, browser.cookie()).status_code == 401


def test_declining_at_hugging_face_comes_back_to_the_sign_in_page(hf_app: RunningApp) -> None:
    browser = Browser(hf_app.url)
    chooser = browser.follow("/login/huggingface")  # no account chosen: the provider's page
    cancel = re.search(r'href="([^"]*cancel=1[^"]*)"', chooser.text)
    assert chooser.status_code == 200 and cancel, chooser.text
    back = browser.follow(urljoin(str(chooser.url), cancel.group(1).replace("&amp;", "&")))
    assert back.status_code == 401 and 'href="/login/huggingface"' in back.text


def test_an_allowed_organization_admits_its_member(hf_app: RunningApp, provider: FakeOpenIDProvider) -> None:
    asked = provider.requests.count("/oauth/userinfo")
    browser = signed_in(hf_app, "carol")
    with ThreadPoolExecutor(8) as pool:  # a page load's many requests at once
        pages = list(
            pool.map(lambda _: httpx.get(f"{hf_app.url}config", headers=browser.cookie(), timeout=30), range(8))
        )
    assert all(page.status_code == 200 and page.json()["username"] == "carol" for page in pages)
    lines = call_rest(hf_app.url, browser.cookie())
    assert "event: complete" in lines, lines
    assert provider.requests.count("/oauth/userinfo") - asked == 1, "the organizations come from the userinfo, once"


def test_in_a_real_browser_one_signs_in_sees_the_account_runs_a_model_and_signs_out(hf_app: RunningApp) -> None:
    """Chromium takes Gradio's Secure session cookie from http://127.0.0.1 (a secure context), so the
    whole flow runs as a person goes through it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (as root, `make test` installs it: apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(hf_app.url)
            page.get_by_role("link", name="Sign in with Hugging Face").click()
            page.get_by_role("link", name="alice", exact=True).click()  # the provider's account chooser
            account = page.get_by_label("Signed in as")
            expect(account).to_have_value("alice", timeout=60_000)
            page.get_by_role("button", name="Run").first.click()
            expect(page.get_by_label("Sentence as the model saw it")).to_have_value(MASKED, timeout=90_000)
            assert not page.get_by_role("button", name=re.compile("Logout")).count(), "Gradio's own button stays hidden"
            korean = context.new_page()
            korean.goto(f"{hf_app.url}?lang=ko")
            expect(korean.get_by_label("로그인한 계정")).to_have_value("alice", timeout=60_000)
            korean.close()
            page.get_by_text("Sign out", exact=True).click()  # a link styled as a button
            # The Korean page's language switch set the language: the sign-in page follows it.
            expect(page.get_by_role("link", name="Hugging Face로 로그인")).to_be_visible(timeout=30_000)
            assert not errors, errors
        finally:
            browser.close()


# ---- an account that is not allowed -------------------------------------------------------------------
def test_an_account_neither_listed_nor_in_an_allowed_organization_is_refused(hf_app: RunningApp) -> None:
    browser = signed_in(hf_app, "mallory")
    page = browser.request("GET", "/")
    assert page.status_code == 403 and "mallory may not use this app" in page.text and 'href="/logout"' in page.text
    refused = call_rest(hf_app.url, browser.cookie())
    assert refused.status_code == 403 and "mallory may not use this app" in refused.json()["detail"]
    korean = browser.request("GET", "config", headers={"Accept-Language": "ko"})
    assert korean.status_code == 403 and "mallory은(는) 이 앱을 쓸 수 없습니다" in korean.json()["detail"]
    joined = browser.request("POST", "gradio_api/queue/join", json={**join_body("mallory"), "data": FILL_MASK_DATA})
    assert joined.status_code == 403
    with pytest.raises(ValueError, match="Could not fetch config"):
        Client(hf_app.url, headers=browser.cookie(), verbose=False)


def test_no_oauth_secret_or_token_reaches_pages_or_the_log(hf_app: RunningApp, provider: FakeOpenIDProvider) -> None:
    browser = signed_in(hf_app, "alice")
    answers = [browser.request("GET", path).text for path in ("", "config", "gradio_api/info", "metrics")]
    answers.append(httpx.get(hf_app.url, timeout=30).text)
    assert provider.issued_tokens
    for text in [*answers, hf_app.log()]:
        for secret in (CLIENT_SECRET, *provider.issued_tokens):
            assert secret not in text


# ---- with a users file as well: scripts sign in with a password ---------------------------------------
def test_a_users_file_alongside_lets_scripts_sign_in_while_browsers_use_hugging_face(
    test_catalog: Path, provider: FakeOpenIDProvider, tmp_path: Path
) -> None:
    users = tmp_path / "users.txt"
    users.write_text(f"{NAME}:{hash_with_cli(PASSWORD)}\n")
    catalog = catalog_variant(test_catalog, tmp_path / "models.yaml", sign_in={"huggingface": ALLOWED})
    command = app_command(catalog, "--tabs", "fill_mask", "--auth-file", str(users))
    running = RunningApp(command, tmp_path, "app", wait=False, env=oauth_environment(provider))
    try:
        wait_for_page(f"{running.url}healthz", running.process, 180, running.log_path)
        refused = call_rest(running.url, {})
        assert refused.status_code == 401 and "Authorization: Basic" in refused.json()["detail"]
        assert call_rest(running.url, basic(password="wrong")).status_code == 401
        assert "event: complete" in call_rest(running.url, basic())
        label, *_ = Client(running.url, auth=(NAME, PASSWORD), verbose=False).predict(MASKED, api_name="/fill_mask")
        assert len(label["confidences"]) == 5
        browser = signed_in(running, "alice")
        assert browser.request("GET", "config").json()["username"] == "alice"
        assert "event: complete" in call_rest(running.url, browser.cookie())
        assert call_rest(running.url, signed_in(running, "mallory").cookie()).status_code == 403
    finally:
        running.stop()


# ---- the allow-list's decisions ------------------------------------------------------------------------
def session_of(name: str, expires_in: float = 3600, access_token: str = "unknown-token") -> dict[str, Any]:
    info = {"access_token": access_token, "expires_at": time.time() + expires_in}
    return {"oauth_info": {**info, "userinfo": {"preferred_username": name}}}


def test_an_expired_or_empty_session_signs_nobody_in_and_an_unknown_membership_is_not_a_yes() -> None:
    from playground.config.catalog import HuggingFaceSignIn
    from playground.operations.hf_sign_in import HuggingFaceAccess, Verdict

    access = HuggingFaceAccess(HuggingFaceSignIn(**ALLOWED), "http://127.0.0.1:9")  # nothing listens there
    assert asyncio.run(access.verdict(session_of("ALICE"))) == Verdict(user="ALICE")
    assert asyncio.run(access.verdict(session_of("alice", expires_in=-1))).refusal == "not_authenticated"
    for session in (None, {}, {"oauth_info": {"userinfo": {}}}, {"oauth_info": "forged"}):
        assert asyncio.run(access.verdict(session)) == Verdict(refusal="not_authenticated")
    unknown = asyncio.run(access.verdict(session_of("carol")))
    assert unknown == Verdict(account="carol", refusal="membership_unknown"), "the provider could not be asked"
    names_only = HuggingFaceAccess(HuggingFaceSignIn(users=["alice"]), "http://127.0.0.1:9")
    assert asyncio.run(names_only.verdict(session_of("carol"))) == Verdict(account="carol", refusal="not_allowed")


def test_hugging_face_sign_in_off_a_space_stops_the_app_with_a_clear_message(
    test_catalog: Path, tmp_path: Path
) -> None:
    """Off a Space, Gradio would sign everyone in as this machine's own Hub account: the app refuses."""
    catalog = catalog_variant(test_catalog, tmp_path / "models.yaml", sign_in={"huggingface": ALLOWED})
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--catalog", str(catalog)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "hf_oauth: true" in result.stderr and "OAUTH_CLIENT_ID" in result.stderr and "--auth-file" in result.stderr
