"""Sign-in with Hugging Face accounts on a Space, limited to an allow-list of users and organizations.

The catalog's `defaults.sign_in.huggingface` turns it on. The page then carries a gr.LoginButton, so
Gradio attaches its OAuth routes (/login/huggingface, /login/callback, /logout) and Starlette's
SessionMiddleware; after the Hub's sign-in, the session holds `oauth_info` (the tokens, and the ID
token's claims as `userinfo`). `HuggingFaceAccess.verdict` reads that session for the credentials
gate (playground.operations.auth): an account on the allow-list, by name or through one of its
organizations, is signed in; anyone else gets the sign-in page or a refusal.

Gradio runs its real OAuth flow only on a Space with `hf_oauth: true` in the README front matter:
the Space then sets SPACE_ID, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_SCOPES and
OPENID_PROVIDER_URL. Anywhere else Gradio would sign everyone in as the machine's own Hub account,
so the app refuses to start instead.

The Hub's ID token names the account; its organizations come from the provider's userinfo endpoint
(`orgs[].preferred_username`), asked once per access token and only when an organization could
admit someone not listed by name.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playground.config.catalog import CatalogError, HuggingFaceSignIn
from playground.core.texts import SHARED_LOCALES, Texts

logger = logging.getLogger(__name__)

TEXTS = Texts.load("sign_in", SHARED_LOCALES)
# What a Space with `hf_oauth: true` sets, and Gradio's real OAuth routes read (the OAuth settings
# when gradio.oauth is imported; SYSTEM=spaces and SPACE_ID tell it it runs on a Space).
OAUTH_VARIABLES = ("OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "OAUTH_SCOPES", "OPENID_PROVIDER_URL")
# Gradio's OAuth routes: open to anyone, since they are how one signs in.
OAUTH_PATHS = ("/login/huggingface", "/login/callback", "/logout")
_USERINFO_TIMEOUT_S = 10
_KNOWN_TOKENS_MAX = 1024


@dataclass(frozen=True)
class Verdict:
    """What a session proves: `user` when it may use the app; else `account` (the signed-in name, if
    any) and `refusal` (a `sign_in` string key)."""

    user: str | None = None
    account: str | None = None
    refusal: str | None = None


def _name_key(name: str) -> str:
    # The Hub treats account names case-insensitively (one account per name whatever its case).
    return name.casefold()


class HuggingFaceAccess:
    """The allow-list, and the provider it asks about organizations."""

    def __init__(self, settings: HuggingFaceSignIn, provider_url: str):
        self.users = {_name_key(name) for name in settings.users}
        self.organizations = {_name_key(name) for name in settings.organizations}
        self.provider_url = provider_url.rstrip("/")
        self._userinfo_url: str | None = None
        # sha256 of an access token -> the question of its account's organizations (asked on the server's
        # event loop, where every request's check runs).
        self._lookups: dict[str, asyncio.Future[list[str] | None]] = {}

    @classmethod
    def from_environment(
        cls, settings: HuggingFaceSignIn, environ: Mapping[str, str] = os.environ
    ) -> HuggingFaceAccess:
        """The access check for this process; raises CatalogError where Hugging Face's OAuth is not set up."""
        missing = [name for name in ("SPACE_ID", *OAUTH_VARIABLES) if not environ.get(name)]
        if environ.get("SYSTEM") != "spaces":
            missing.insert(0, "SYSTEM=spaces")
        if missing:
            raise CatalogError(
                "defaults.sign_in.huggingface: Hugging Face sign-in runs on a Space whose README front matter has "
                "`hf_oauth: true` (`python app.py space-files` writes it from this catalog); here "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Elsewhere, sign in with a "
                "users file (--auth-file)."
            )
        return cls(settings, environ["OPENID_PROVIDER_URL"])

    def allows(self, name: str, organizations: list[str]) -> bool:
        return _name_key(name) in self.users or any(_name_key(org) in self.organizations for org in organizations)

    async def verdict(self, session: Mapping[str, Any] | None) -> Verdict:
        """Who the request's OAuth session (Starlette's `scope["session"]`) signs in, if anyone may."""
        info = (session or {}).get("oauth_info")
        if not isinstance(info, Mapping):
            return Verdict(refusal="not_authenticated")
        claims = info.get("userinfo")
        name = claims.get("preferred_username") if isinstance(claims, Mapping) else None
        expires_at = info.get("expires_at")
        if not isinstance(name, str) or not name or (isinstance(expires_at, int | float) and expires_at < time.time()):
            return Verdict(refusal="not_authenticated")  # Gradio, too, treats an expired session as signed out
        if _name_key(name) in self.users:
            return Verdict(user=name)
        if not self.organizations:
            return Verdict(account=name, refusal="not_allowed")
        organizations = await self._organizations(claims, info.get("access_token"))
        if organizations is None:
            return Verdict(account=name, refusal="membership_unknown")
        return Verdict(user=name) if self.allows(name, organizations) else Verdict(account=name, refusal="not_allowed")

    async def _organizations(self, claims: Mapping[str, Any], access_token: Any) -> list[str] | None:
        """The account's organizations: from the ID token's claims when they list them, else from the
        userinfo endpoint, asked once per access token (the many requests of one page load share the
        question); None when it cannot be asked (asked again next time)."""
        if isinstance(claims.get("orgs"), list):
            return _org_names(claims["orgs"])
        if not isinstance(access_token, str) or not access_token:
            return None
        digest = hashlib.sha256(access_token.encode()).hexdigest()
        lookup = self._lookups.get(digest)
        if lookup is None:
            if len(self._lookups) >= _KNOWN_TOKENS_MAX:
                self._lookups.clear()
            lookup = self._lookups[digest] = asyncio.ensure_future(self._ask_userinfo(access_token))
        # Shielded: a caller that goes away does not cancel the question the others wait for.
        organizations = await asyncio.shield(lookup)
        if organizations is None and self._lookups.get(digest) is lookup:
            del self._lookups[digest]
        return organizations

    async def _ask_userinfo(self, access_token: str) -> list[str] | None:
        import httpx

        try:
            async with httpx.AsyncClient(timeout=_USERINFO_TIMEOUT_S) as http:
                if self._userinfo_url is None:
                    discovery = await http.get(f"{self.provider_url}/.well-known/openid-configuration")
                    discovery.raise_for_status()
                    self._userinfo_url = str(discovery.json()["userinfo_endpoint"])
                answer = await http.get(self._userinfo_url, headers={"Authorization": f"Bearer {access_token}"})
                answer.raise_for_status()
                return _org_names(answer.json().get("orgs"))
        except (httpx.HTTPError, ValueError, KeyError, AttributeError) as exc:
            # Named by type only: the answer or URL could carry the token.
            logger.warning("Hugging Face userinfo could not be read (%s)", type(exc).__name__)
            return None


def _org_names(orgs: Any) -> list[str]:
    if not isinstance(orgs, list):
        return []
    return [
        org["preferred_username"]
        for org in orgs
        if isinstance(org, Mapping) and isinstance(org.get("preferred_username"), str)
    ]


def refusal_message(verdict: Verdict, lang: str, password_too: bool) -> str:
    """The message an API caller gets for a refused `verdict`."""
    if verdict.refusal == "not_allowed":
        return TEXTS.get("hf_not_allowed", lang, name=verdict.account)
    if verdict.refusal == "membership_unknown":
        return TEXTS.get("hf_membership_unknown", lang)
    return TEXTS.get("hf_not_authenticated_or_basic" if password_too else "hf_not_authenticated", lang)


def sign_in_page(verdict: Verdict, lang: str) -> str:
    """The page a browser gets instead of the app until its account may use it: a link to Hugging Face's
    sign-in, or why the signed-in account is refused and a link to sign out."""
    text = lambda key, **params: html.escape(TEXTS.get(key, lang, **params))  # noqa: E731 - local shorthand
    if verdict.account is None:
        body = f'<p>{text("hf_page_prompt")}</p>\n<p><a class="button" href="/login/huggingface">{text("hf_sign_in")}</a></p>'
    else:
        reason = "hf_membership_unknown" if verdict.refusal == "membership_unknown" else "hf_not_allowed"
        body = f'<p>{text(reason, name=verdict.account)}</p>\n<p><a class="button" href="/logout">{text("hf_sign_out")}</a></p>'
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{text("hf_page_title")}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5; }}
.button {{ display: inline-block; padding: .6rem 1.2rem; border-radius: .5rem; background: #ffd21e; color: #000;
  text-decoration: none; font-weight: 600; }}
</style>
</head>
<body>
<h1>Pipeline Playground</h1>
{body}
</body>
</html>
"""


def oauth_marker() -> Any:
    """A hidden gr.LoginButton, made before the app's gr.Blocks (so it registers none of its own
    events: its load event would be a public API endpoint and MCP tool), to render in it with
    `hugging_face_account`: its presence is what makes Gradio attach its OAuth routes and session."""
    import gradio as gr

    return gr.LoginButton(visible=False, render=False)


def hugging_face_account(demo: Any, marker: Any) -> None:
    """The page header's account widgets, inside `demo`'s layout: the signed-in account's name and a
    sign-out button, labelled in the page's language (a LoginButton's own labels cannot follow the
    language switch), and `marker` (from `oauth_marker`)."""
    import gradio as gr

    marker.render()
    account = gr.Textbox(label=TEXTS.ui("hf_signed_in_as"), interactive=False, scale=1, min_width=160)
    gr.Button(TEXTS.ui("hf_sign_out"), link="/logout", size="sm", scale=0, min_width=100)

    def signed_in_account(request: Any) -> str:
        # The gate hands Gradio the account's name as the request's user (without Gradio's patches, only
        # the session has it).
        if getattr(request, "username", None):
            return str(request.username)
        session = getattr(request.request, "session", None) or {}
        return str(((session.get("oauth_info") or {}).get("userinfo") or {}).get("preferred_username", ""))

    signed_in_account.__annotations__ = {"request": gr.Request}  # how Gradio knows to pass the request
    demo.load(signed_in_account, None, account, api_visibility="private", queue=False)
