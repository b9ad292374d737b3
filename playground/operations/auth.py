"""Sign-in from a users file of scrypt hashes, for the page, the API and MCP clients alike.

The file (`--auth-file` or `$PLAYGROUND_AUTH_FILE`) has one `name:hash` line per user; `python app.py
hash-password` makes the hash. Plain passwords are refused when the file is read, so one never sits
on disk. The page and gradio_client sign in through Gradio's own login (`launch(auth=...)`, a
session cookie). Clients that cannot fill in a form (MCP clients, curl, Prometheus) send
`Authorization: Basic base64(name:password)` with every request: `CredentialsGate` checks it and
hands Gradio a session of that user, so every Gradio route then treats the request as signed in.
The gate also closes what Gradio leaves open to anyone: its MCP transport and schema, and /metrics.
Gradio's sessions are reached through playground.web.gradio_patches; where those patches are off,
the gate refuses what it cannot check instead of letting it through.

With Hugging Face sign-in on (playground.operations.hf_sign_in), the gate also signs in an allowed
account's OAuth session, and lets nothing else through but the sign-in routes, the health routes and
a sign-in page at /: Gradio itself checks nobody then.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from playground.core.texts import SHARED_LOCALES, Texts, language_from_cookie, language_from_header
from playground.operations.hf_sign_in import OAUTH_PATHS, HuggingFaceAccess, Verdict, refusal_message, sign_in_page

# scrypt's recommended interactive cost (2^14, 8, 1): about 16 MB and a few tens of ms per check.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_KEY_BYTES = 32
_SCHEME = "scrypt"
# The header MCP's loopback client carries (Gradio's MCP server calls the app's own queue over HTTP).
INTERNAL_HEADER = "x-playground-internal"
# Signed-in clients that never sign out (scripts) get one session per user, not one per request.
_HEADER_SESSIONS_MAX = 1024

TEXTS = Texts.load("sign_in", SHARED_LOCALES)
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class AuthFileError(Exception):
    """A users file that cannot be used; the message names the line, never its secret."""


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$key` (base64 salt and key) for a users file line."""
    if not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=_KEY_BYTES)
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731 - two uses, one line
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt)}${encode(key)}"


@dataclass(frozen=True)
class _Hash:
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    @classmethod
    def parse(cls, text: str) -> _Hash | None:
        parts = text.strip().split("$")
        if len(parts) != 6 or parts[0] != _SCHEME:
            return None
        try:
            n, r, p = (int(part) for part in parts[1:4])
            salt, key = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
        except (ValueError, binascii.Error):
            return None
        # Bounds so a users file cannot make one check take all memory (n * r * 128 bytes).
        if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16 and salt and len(key) >= 16):
            return None
        return cls(n, r, p, salt, key)

    def matches(self, password: str) -> bool:
        key = hashlib.scrypt(
            password.encode(),
            salt=self.salt,
            n=self.n,
            r=self.r,
            p=self.p,
            dklen=len(self.key),
            maxmem=self.n * self.r * 256,
        )
        return hmac.compare_digest(key, self.key)


class Users:
    """The users of a users file; `check(name, password)` is what `launch(auth=...)` calls."""

    def __init__(self, hashes: dict[str, _Hash], source: str = "users"):
        if not hashes:
            raise AuthFileError(
                f"{source}: no users (add `name:hash` lines; make a hash with `python app.py hash-password`)"
            )
        self._hashes = hashes
        # Any name checks against some hash, so a wrong name takes as long as a wrong password.
        self._decoy = next(iter(hashes.values()))

    @classmethod
    def from_lines(cls, lines: Iterable[str], source: str = "users") -> Users:
        hashes: dict[str, _Hash] = {}
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, colon, value = line.partition(":")
            name = name.strip()
            if not colon or not name:
                raise AuthFileError(f"{source}, line {number}: expected `name:hash`")
            parsed = _Hash.parse(value)
            if parsed is None:
                raise AuthFileError(
                    f"{source}, line {number} ({name}): not a scrypt hash; passwords are never stored "
                    "as they are: make the hash with `python app.py hash-password`"
                )
            if name in hashes:
                raise AuthFileError(f"{source}, line {number}: {name} is listed twice")
            hashes[name] = parsed
        return cls(hashes, source)

    @classmethod
    def from_file(cls, path: str | Path) -> Users:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthFileError(f"{path}: cannot read the users file ({type(exc).__name__})") from None
        return cls.from_lines(text.splitlines(), str(path))

    @property
    def names(self) -> list[str]:
        return list(self._hashes)

    def check(self, name: str, password: str) -> bool:
        known = self._hashes.get(name)
        matched = (known or self._decoy).matches(password)
        return known is not None and matched


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(name, password) from an `Authorization: Basic ...` header, else None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, colon, password = decoded.partition(":")
    return (name, password) if colon and name else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _cookies(scope: Scope) -> dict[str, str]:
    from http.cookies import CookieError, SimpleCookie

    try:
        return {key: morsel.value for key, morsel in SimpleCookie(_header(scope, b"cookie") or "").items()}
    except CookieError:
        return {}


def scope_user(gradio_app: Any, scope: Scope) -> str | None:
    """The user of a request's Gradio sign-in cookie (set by its /login), if it has a valid one (None
    also where the Gradio patch this needs is off)."""
    from playground.web.gradio_patches import session_user

    return session_user(gradio_app, _cookies(scope))


class SignIn:
    """The app's sign-in: its users file's users and/or its Hugging Face allow-list, the one-process
    secret of MCP's loopback client, and the sessions handed to header- or OAuth-authenticated clients."""

    def __init__(self, users: Users | None, huggingface: HuggingFaceAccess | None = None):
        if users is None and huggingface is None:
            raise ValueError("sign-in needs a users file or a Hugging Face allow-list")
        self.users = users
        self.huggingface = huggingface
        self.internal_secret = secrets.token_urlsafe(32)
        # Whether MCP's loopback client carries the secret (set once the app runs); until then MCP is refused.
        self.mcp_ready = False
        self._verified: dict[str, str] = {}  # sha256 of a good Authorization header -> user
        self._sessions: dict[str, str] = {}  # user -> Gradio session token
        self._lock = threading.Lock()

    def header_user(self, header: str | None) -> str | None:
        """The user a Basic header proves (checked once per distinct header: scrypt is slow on purpose)."""
        credentials = basic_credentials(header)
        if credentials is None or self.users is None:
            return None
        digest = hashlib.sha256(header.encode()).hexdigest()  # type: ignore[union-attr]
        with self._lock:
            if digest in self._verified:
                return self._verified[digest]
        if not self.users.check(*credentials):
            return None
        with self._lock:
            if len(self._verified) >= _HEADER_SESSIONS_MAX:
                self._verified.clear()
            self._verified[digest] = credentials[0]
        return credentials[0]

    def is_internal(self, scope: Scope) -> bool:
        given = _header(scope, INTERNAL_HEADER.encode())
        return given is not None and hmac.compare_digest(given, self.internal_secret)

    async def check(self, name: str, password: str) -> bool:
        """What `launch(auth=...)` calls for the sign-in form: the users file's check, off the event loop."""
        return self.users is not None and await run_in_threadpool(self.users.check, name, password)

    def session_cookie(self, gradio_app: Any, user: str) -> str | None:
        """The cookie (`name=value`) of a Gradio session of `user`, registered with the app (one per user);
        None where the Gradio patch this needs is off."""
        from playground.web.gradio_patches import session_of, session_token_user

        with self._lock:
            token = self._sessions.get(user)
            if token is None or session_token_user(gradio_app, token) != user:
                token = self._sessions[user] = secrets.token_urlsafe(16)
            return session_of(gradio_app, user, token)


# Paths Gradio serves to anyone even with `launch(auth=...)` that reveal or run models.
MCP_PREFIX = "/gradio_api/mcp"
GATED_PREFIXES = (MCP_PREFIX, "/metrics")
# With Hugging Face sign-in on, what a caller who is not signed in may reach besides Gradio's OAuth
# routes: the users file's sign-in (gradio_client's `auth=`), the balancers' health routes, and the
# route `launch()` itself calls to start the queue (it runs nothing a second time). Everything else is
# refused, routes added later included; / answers the sign-in page.
OPEN_PATHS = ("/login", "/login/", "/healthz", "/readyz", "/gradio_api/startup-events")


class CredentialsGate:
    """ASGI middleware: a request with valid Basic credentials, MCP's loopback secret or an allowed
    Hugging Face session is signed in as far as Gradio can tell (a session cookie added to it); requests
    to GATED_PREFIXES without any valid credentials get 401, and with Hugging Face sign-in on, so does
    everything but OPEN_PATHS, Gradio's OAuth routes and the sign-in page. Where the Gradio patches it
    needs are off (playground.web.gradio_patches), it refuses rather than lets through: header sign-in
    and MCP answer 503, /metrics 401; an allowed Hugging Face account is let through without the
    session, so Gradio does not know its name."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], sign_in: SignIn):
        self.app = app
        self.sign_in = sign_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.sign_in.huggingface is not None and _declined_sign_in(scope):
            # Gradio's callback would answer 500 to a sign-in the person declined at Hugging Face.
            await send({"type": "http.response.start", "status": 302, "headers": [(b"location", b"/")]})
            await send({"type": "http.response.body", "body": b""})
            return
        gradio_app = scope.get("app")
        header = _header(scope, b"authorization")
        if scope["path"].startswith(MCP_PREFIX) and not self.sign_in.mcp_ready:
            await _refuse(send, 503, "mcp_unavailable", scope)
            return
        # scrypt takes tens of ms on purpose: off the event loop, which serves everyone else meanwhile.
        user = await run_in_threadpool(self.sign_in.header_user, header) if header else None
        signed_in = user is None and scope_user(gradio_app, scope) is not None
        if user is None and not signed_in and self.sign_in.is_internal(scope):
            user = "mcp"  # MCP's loopback client: its caller was checked at /gradio_api/mcp
        verdict = None
        huggingface = self.sign_in.huggingface
        if user is None and not signed_in and huggingface is not None:
            verdict = await huggingface.verdict(scope.get("session"))
            user = verdict.user
        if user is not None:
            cookie = self.sign_in.session_cookie(gradio_app, user) if gradio_app is not None else None
            if cookie is not None:
                existing = _header(scope, b"cookie")
                headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"cookie"]
                headers.append((b"cookie", (f"{existing}; {cookie}" if existing else cookie).encode("latin-1")))
                scope = {**scope, "headers": headers}
            elif verdict is None:
                await _refuse(send, 503, "header_sign_in_unavailable", scope)
                return
        elif not signed_in and verdict is not None:
            if scope["path"] not in OPEN_PATHS + OAUTH_PATHS:
                await _refuse_hugging_face(send, verdict, scope, password_too=self.sign_in.users is not None)
                return
        elif not signed_in and scope["path"].startswith(GATED_PREFIXES):
            await _refuse(send, 401, "not_authenticated", scope)
            return
        await self.app(scope, receive, send)


def _declined_sign_in(scope: Scope) -> bool:
    """Whether the request is the OAuth provider's answer to a declined sign-in (`error=...`)."""
    from urllib.parse import parse_qs

    return scope["path"] == "/login/callback" and "error" in parse_qs(scope.get("query_string", b"").decode("latin-1"))


def _language(scope: Scope) -> str:
    """The language of a request: the app's language switch (its cookie), else Accept-Language."""
    return language_from_cookie(_header(scope, b"cookie")) or language_from_header(_header(scope, b"accept-language"))


async def _refuse(send: Send, status: int, key: str, scope: Scope) -> None:
    """Answer `status` with the `sign_in` string `key` in the request's language."""
    import json

    body = json.dumps({"detail": TEXTS.get(key, _language(scope))}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Basic realm="Pipeline Playground"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# The status of each Hugging Face refusal: not signed in, an account not on the allow-list, its
# organizations unknown for now.
_REFUSAL_STATUS = {"not_authenticated": 401, "not_allowed": 403, "membership_unknown": 503}


async def _refuse_hugging_face(send: Send, verdict: Verdict, scope: Scope, password_too: bool) -> None:
    """A caller Hugging Face sign-in does not let in: the page (/) gets the sign-in page, anything else
    the reason as JSON, in the request's language."""
    import json

    lang = _language(scope)
    if scope["path"] == "/" and scope.get("method") in ("GET", "HEAD"):
        body, kind = sign_in_page(verdict, lang).encode(), b"text/html; charset=utf-8"
    else:
        body = json.dumps({"detail": refusal_message(verdict, lang, password_too)}, ensure_ascii=False).encode()
        kind = b"application/json"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": _REFUSAL_STATUS[verdict.refusal or ""], "headers": headers})
    await send({"type": "http.response.body", "body": body})


def read_password(stream: Any, prompt_stream: Any) -> str:
    """A password from standard input: asked for without echo on a terminal, else its first line."""
    if stream.isatty():
        import getpass

        first = getpass.getpass("Password: ", stream=prompt_stream)
        if getpass.getpass("Again: ", stream=prompt_stream) != first:
            raise ValueError("the two passwords differ")
        return first
    return stream.readline().rstrip("\r\n")
