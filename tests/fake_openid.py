"""A local stand-in for Hugging Face's OpenID provider, set as OPENID_PROVIDER_URL: enough of the
authorization-code flow for Gradio's real OAuth routes (authlib) to sign someone in.

- `/.well-known/openid-configuration`: the discovery document.
- `/oauth/authorize`: signs in the account named by `login_hint` and redirects back with a code;
  without one it answers a page of links, one per account, as the Hub's page lets a person choose,
  and a Cancel link (`cancel=1`), which redirects back with `error=access_denied`.
- `/oauth/token`: checks the client's credentials and the code, answers an access token and an ID
  token signed with RS256 by a key whose public half `/oauth/jwks` serves. Like the Hub's, the ID
  token names the account but not its organizations.
- `/oauth/userinfo`: the account and its organizations (`orgs[].preferred_username`) for a Bearer
  access token.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_ID = "fake-openid-key"


class FakeOpenIDProvider:
    """`accounts`: {name: [its organizations]}. `url` is OPENID_PROVIDER_URL; `requests` lists the
    paths asked for; `issued_tokens` the access tokens handed out."""

    def __init__(self, client_id: str, client_secret: str, accounts: Mapping[str, Sequence[str]]) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.accounts = {name: list(orgs) for name, orgs in accounts.items()}
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        self.requests: list[str] = []
        self.issued_tokens: list[str] = []
        self._codes: dict[str, tuple[str, str | None, str]] = {}  # code -> (account, nonce, redirect_uri)
        self._tokens: dict[str, str] = {}  # access token -> account
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                provider._answer(self)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- answers ----------------------------------------------------------------------------------

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        self.requests.append(parsed.path)
        query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
        routes = {
            "/.well-known/openid-configuration": self._discovery,
            "/oauth/authorize": self._authorize,
            "/oauth/token": self._token,
            "/oauth/userinfo": self._userinfo,
            "/oauth/jwks": self._jwks,
        }
        route = routes.get(parsed.path)
        if route is None:
            return self._json(request, 404, {"error": "not_found"})
        return route(request, query)

    def _discovery(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        self._json(
            request,
            200,
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/oauth/authorize",
                "token_endpoint": f"{self.url}/oauth/token",
                "userinfo_endpoint": f"{self.url}/oauth/userinfo",
                "jwks_uri": f"{self.url}/oauth/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            },
        )

    def _authorize(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        account = query.get("login_hint", "")
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return self._json(request, 400, {"error": "invalid_request"})
        separator = "&" if "?" in query["redirect_uri"] else "?"
        if query.get("cancel"):
            denied = {"error": "access_denied", "state": query.get("state", "")}
            return self._redirect(request, query["redirect_uri"] + separator + urlencode(denied))
        if not account:
            links = "".join(
                f'<li><a href="/oauth/authorize?{urlencode({**query, "login_hint": name})}">{name}</a></li>'
                for name in self.accounts
            )
            links += f'<li><a href="/oauth/authorize?{urlencode({**query, "cancel": "1"})}">Cancel</a></li>'
            body = f"<!doctype html><title>Choose an account</title><ul>{links}</ul>".encode()
            request.send_response(200)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
            return None
        if account not in self.accounts:
            return self._json(request, 400, {"error": "access_denied", "error_description": "unknown account"})
        code = secrets.token_urlsafe(16)
        self._codes[code] = (account, query.get("nonce"), query["redirect_uri"])
        location = query["redirect_uri"] + separator + urlencode({"code": code, "state": query.get("state", "")})
        self._redirect(request, location)

    def _token(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(request.rfile.read(length).decode()).items()}
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return self._json(request, 401, {"error": "invalid_client"})
        issued = self._codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or issued is None or issued[2] != form.get("redirect_uri"):
            return self._json(request, 400, {"error": "invalid_grant"})
        account, nonce, _ = issued
        access_token = "hf_oauth_" + secrets.token_urlsafe(24)
        self._tokens[access_token] = account
        self.issued_tokens.append(access_token)
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": f"sub-{account}",
            "aud": self.client_id,
            "iat": now,
            "exp": now + 3600,
            "auth_time": now,
            "name": account.title(),
            "preferred_username": account,
            "profile": f"https://huggingface.co/{account}",
            "picture": f"https://huggingface.co/avatars/{account}.png",
        }
        if nonce:
            claims["nonce"] = nonce
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, self.key)
        self._json(
            request,
            200,
            {
                "access_token": access_token,
                "token_type": "bearer",
                "expires_in": 3600,
                "scope": "openid profile",
                "id_token": id_token,
            },
        )

    def _userinfo(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        account = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if account is None:
            return self._json(request, 401, {"error": "invalid_token"})
        orgs = [{"sub": f"sub-{org}", "name": org.title(), "preferred_username": org} for org in self.accounts[account]]
        self._json(request, 200, {"sub": f"sub-{account}", "preferred_username": account, "orgs": orgs})

    def _jwks(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        self._json(request, 200, {"keys": [self.key.as_dict(private=False)]})

    @staticmethod
    def _redirect(request: BaseHTTPRequestHandler, location: str) -> None:
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    @staticmethod
    def _json(request: BaseHTTPRequestHandler, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
