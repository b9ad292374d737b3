"""File inputs given as URLs (MCP tools, the HTTP API) downloaded with a size limit.

Gradio fetches such URLs itself, from public addresses only: each hop of a redirect is checked, and
a name is connected to at the public address it was checked at (safehttpx). But it reads the whole
answer into memory before anything looks at its size, so a URL could hand the app a file of any
size, where uploads are held to the catalog's `max_upload_mb`. `limit_url_downloads` replaces that
download (playground.web.gradio_patches.download_urls_with) with one that keeps the same checks and
the same cache location, and stops reading (and removes what it wrote) as soon as the file is larger
than the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from playground.core.texts import DEFAULT_LANGUAGE, SHARED_LOCALES, Texts, request_language

TEXTS = Texts.load("url_downloads", SHARED_LOCALES)
MAX_REDIRECTS = 10
_CHUNK = 2**16


def _message(key: str, **params: Any) -> str:
    from playground.web.gradio_patches import current_request

    request = current_request()
    return TEXTS.get(key, request_language(request) if request is not None else DEFAULT_LANGUAGE, **params)


async def download_within(url: str, target: Path, trusted_hosts: tuple[str, ...], max_bytes: int) -> str:
    """Download `url` to `target`, from public addresses only (a name in `trusted_hosts` is not
    checked), at most `max_bytes`; raises an error with a message for the caller otherwise."""
    import gradio as gr
    import httpx
    import safehttpx

    current = url
    for _ in range(MAX_REDIRECTS + 1):
        host = httpx.URL(current).host
        if not host:
            raise gr.Error(_message("not_fetched", url=url, status="-"), print_exception=False)
        trusted = safehttpx.matches_domain_whitelist(host, list(trusted_hosts))
        try:
            transport = None if trusted else safehttpx.AsyncSecureTransport(await safehttpx.async_validate_url(host))
        except ValueError:  # a name or address that is not public (or does not resolve)
            raise gr.Error(_message("not_public", url=url, host=host), print_exception=False) from None
        async with (
            httpx.AsyncClient(transport=transport) as client,
            client.stream("GET", current, follow_redirects=False) as response,
        ):
            if response.has_redirect_location:
                current = urljoin(str(response.url), response.headers["Location"])
                continue
            if response.status_code != 200:
                raise gr.Error(_message("not_fetched", url=url, status=response.status_code), print_exception=False)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise gr.Error(_message("too_large", url=url, limit_mb=max_bytes / 2**20), print_exception=False)
            partial = target.with_name(target.name + ".part")
            written = 0
            try:
                with partial.open("wb") as file:
                    async for chunk in response.aiter_bytes(_CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise gr.Error(
                                _message("too_large", url=url, limit_mb=max_bytes / 2**20), print_exception=False
                            )
                        file.write(chunk)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
            return str(target)
    raise gr.Error(_message("too_many_redirects", url=url, count=MAX_REDIRECTS), print_exception=False)


def limit_url_downloads(max_bytes: int) -> bool:
    """Make Gradio download URL file inputs with `download_within(..., max_bytes)`; False where the
    Gradio patch this needs is off (Gradio's own download runs; the startup warning says so)."""
    from playground.web.gradio_patches import download_urls_with

    async def download(url: str, target: Path, trusted_hosts: tuple[str, ...]) -> str:
        return await download_within(url, target, trusted_hosts, max_bytes)

    return download_urls_with(download)
