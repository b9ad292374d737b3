"""Hub access that never hangs: the local cache first, every Hub request bounded, failures remembered.

A classroom network may accept connections and never answer (a captive portal, a proxy), or have no
DNS. huggingface_hub bounds its file downloads (HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT) but
not its API calls: `HfApi.model_info`, which transformers calls to resolve a revision before every
load, waits forever for a silent server. So, before anything is read from the Hub:

- a local folder, or a model already in the Hugging Face cache when the Hub does not answer, is read
  from disk without a Hub call;
- otherwise one short probe (`probe_seconds`, run in a thread so a stalled DNS lookup cannot hold
  it) asks whether the Hub answers at all. A failure is remembered for `retry_seconds`: requests in
  that time are answered at once, from the cache or with `HubUnreachable`; then the Hub is tried again;
- every request huggingface_hub sends gets a read and connect timeout (`bound_hub_requests`), so a
  Hub that stops answering half-way through a load fails that load instead of holding it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.config.catalog import ModelEntry
from playground.core.texts import DEFAULT_LANGUAGE, SHARED_LOCALES, Texts

log = logging.getLogger(__name__)

# progress(fraction, message in every UI language): the caller shows the one its request asked for.
ProgressFn = Callable[[float, Mapping[str, str]], None]

TEXTS = Texts.load("hub", SHARED_LOCALES)
HUB_STOPPED_ANSWERING = TEXTS.render("stopped")

# Long enough for a slow but working network to answer one small request; short enough that the
# first request on a silent network answers well within 20 s.
PROBE_SECONDS = float(os.environ.get("PLAYGROUND_HUB_PROBE_SECONDS", "5"))
# How long a failed probe is believed: later requests answer at once; after it, the Hub is tried again.
RETRY_SECONDS = float(os.environ.get("PLAYGROUND_HUB_RETRY_SECONDS", "60"))
# How long an answer is believed (the config check and the load that follows probe once).
ANSWERED_SECONDS = 30.0
# Connect / read bound for every request huggingface_hub sends that has none of its own.
REQUEST_SECONDS = 10.0


class HubUnreachable(Exception):
    """The Hub did not answer (or is remembered not to); `why` is a {lang: text} phrase."""

    def __init__(self, endpoint: str, why: dict[str, str], retry_in: float):
        super().__init__(f"{endpoint} {why[DEFAULT_LANGUAGE]}")
        self.endpoint = endpoint
        self.why = why
        self.retry_in = retry_in


def offline() -> bool:
    """HF_HUB_OFFLINE is set: huggingface_hub itself never calls the Hub."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


# ---- the local cache ----------------------------------------------------------------------------


def _weight_files(directory: Path, allow_pickle: bool) -> list[Path]:
    files = list(directory.glob("*.safetensors"))
    if not files and allow_pickle:
        files = list(directory.glob("*.bin"))
    return files


def cached_snapshot(entry_source: str, revision: str | None = None) -> Path | None:
    """The local folder holding a model: the path itself, or its Hub cache snapshot if cached."""
    path = Path(entry_source)
    if path.is_absolute():
        return path if path.is_dir() else None
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(entry_source, revision=revision, local_files_only=True))
    except Exception:  # any failure here just means "not cached"
        return None


def is_cached(entry_source: str, revision: str | None = None) -> bool:
    return cached_snapshot(entry_source, revision) is not None


def complete_snapshot(entry_source: str, revision: str | None, allow_pickle: bool) -> Path | None:
    """A cached snapshot that can load on its own (a config and weights), not just a config a
    previous check fetched."""
    folder = cached_snapshot(entry_source, revision)
    if folder is None or not (folder / "config.json").is_file() or not _weight_files(folder, allow_pickle):
        return None
    return folder


def estimate_weight_bytes(entry: ModelEntry, source: str, dtype: str) -> int | None:
    """Bytes the weights will take once loaded, from the files on disk (None if unknown)."""
    folder = cached_snapshot(source, entry.revision)
    if folder is None:
        return None
    files = _weight_files(folder, entry.allow_pickle_weights)
    if not files:
        return None
    on_disk = sum(f.stat().st_size for f in files)
    # Half-precision loads of float32 checkpoints take half the space, and vice versa.
    if dtype in ("float16", "bfloat16"):
        return on_disk // 2 if _stored_as_float32(folder) else on_disk
    return on_disk * 2 if not _stored_as_float32(folder) else on_disk


def tied_output_bytes(entry: ModelEntry, source: str) -> int:
    """Bytes a packed copy of the output layer adds where it is tied to the input embeddings
    (vocabulary x hidden size x 4, from config.json; 0 when untied or unknown)."""
    folder = cached_snapshot(source, entry.revision)
    config = _read_config(folder) if folder else None
    if config is None:
        return 0
    text = config.get("text_config") or config
    tied = text.get("tie_word_embeddings", config.get("tie_word_embeddings", False))
    vocab, hidden = text.get("vocab_size"), text.get("hidden_size")
    if not tied or not isinstance(vocab, int) or not isinstance(hidden, int):
        return 0
    return vocab * hidden * 4


def _read_config(folder: Path) -> dict[str, Any] | None:
    """A snapshot's config.json (None when missing or unreadable)."""
    try:
        return json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return None


def _stored_as_float32(folder: Path) -> bool:
    config = _read_config(folder)
    if config is None:
        return True
    stored = config.get("dtype") or config.get("torch_dtype") or "float32"
    return stored == "float32"


# ---- bounding huggingface_hub's own requests -----------------------------------------------------

_BOUND_INSTALLED = False
_BOUND_LOCK = threading.Lock()


def _bound_timeout(request: Any) -> None:
    """An httpx request hook: fill in a connect/read timeout where the caller left none."""
    timeout = dict(request.extensions.get("timeout") or {})
    for phase in ("connect", "read", "write", "pool"):
        if timeout.get(phase) is None:
            timeout[phase] = REQUEST_SECONDS
    request.extensions = {**request.extensions, "timeout": timeout}


def bound_hub_requests() -> None:
    """Give every request of huggingface_hub's shared HTTP client a timeout (once per process).

    `HfApi.model_info` passes `timeout=None` explicitly, which disables the client's default, so the
    bound goes in a request hook, which runs after the per-request timeout is set.
    """
    global _BOUND_INSTALLED
    with _BOUND_LOCK:
        if _BOUND_INSTALLED:
            return
        from huggingface_hub import set_client_factory
        from huggingface_hub.utils._http import default_client_factory

        def bounded_client() -> Any:
            client = default_client_factory()
            hooks = client.event_hooks
            client.event_hooks = {"request": [*hooks["request"], _bound_timeout], "response": hooks["response"]}
            return client

        set_client_factory(bounded_client)
        _BOUND_INSTALLED = True


# ---- is the Hub there? ---------------------------------------------------------------------------


@dataclass
class _Failure:
    at: float
    why: dict[str, str]


class HubAccess:
    """Whether the Hub answers, probed briefly and remembered (one per endpoint; thread safe)."""

    def __init__(
        self, endpoint: str | None = None, probe_seconds: float = PROBE_SECONDS, retry_seconds: float = RETRY_SECONDS
    ):
        self._endpoint = endpoint
        self.probe_seconds = probe_seconds
        self.retry_seconds = retry_seconds
        self._failure: _Failure | None = None
        self._answered_at: float | None = None
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return self._endpoint or hub_endpoint()

    def record_failure(self, why: dict[str, str]) -> None:
        """Remember that the Hub did not answer (also called when a load through the Hub timed out)."""
        with self._lock:
            self._failure, self._answered_at = _Failure(time.monotonic(), why), None
        log.warning(
            "the Hub (%s) %s; not asked again for %g s", self.endpoint, why[DEFAULT_LANGUAGE], self.retry_seconds
        )

    def remembered_failure(self) -> HubUnreachable | None:
        """The failure still believed, if any."""
        with self._lock:
            failure = self._failure
        if failure is None:
            return None
        left = self.retry_seconds - (time.monotonic() - failure.at)
        if left <= 0:
            return None
        return HubUnreachable(self.endpoint, failure.why, left)

    def check(self, repo_id: str, progress: ProgressFn | None = None) -> None:
        """Return if the Hub answers; raise HubUnreachable at once while a failure is remembered, or
        after at most `probe_seconds` when the probe gets no answer."""
        remembered = self.remembered_failure()
        if remembered is not None:
            raise remembered
        with self._lock:
            if self._answered_at is not None and time.monotonic() - self._answered_at < ANSWERED_SECONDS:
                return
        if progress:
            progress(0.0, TEXTS.render("checking", endpoint=self.endpoint, seconds=self.probe_seconds))
        why = self._probe(repo_id)
        if why is None:
            with self._lock:
                self._failure, self._answered_at = None, time.monotonic()
            return
        self.record_failure(why)
        raise HubUnreachable(self.endpoint, why, self.retry_seconds)

    def _probe(self, repo_id: str) -> dict[str, str] | None:
        """None if the Hub answered (any HTTP status: "no such model" is an answer), else why not."""
        import httpx

        outcome: dict[str, Any] = {}
        url = f"{self.endpoint}/api/models/{repo_id}"

        def ask() -> None:
            try:
                outcome["status"] = httpx.head(url, timeout=self.probe_seconds).status_code
            except Exception as exc:  # every kind of failure means "no answer"
                outcome["error"] = exc

        # In a thread: name resolution has no timeout of its own.
        worker = threading.Thread(target=ask, name="hub-probe", daemon=True)
        worker.start()
        worker.join(self.probe_seconds + 0.5)
        error = outcome.get("error")
        if "status" in outcome:
            return None
        if error is None or isinstance(error, httpx.TimeoutException):
            return TEXTS.render("silent", seconds=self.probe_seconds)
        return TEXTS.render("refused", detail=f"{type(error).__name__}: {error}"[:200])

    def loadable_source(
        self, source: str, revision: str | None, allow_pickle: bool, label: str, progress: ProgressFn | None = None
    ) -> str:
        """What to hand to from_pretrained for a model: a local folder or (offline) the id as it is;
        else the id if the Hub answers, its cached snapshot if the Hub does not; HubUnreachable when
        it is neither cached nor reachable."""
        if Path(source).is_absolute() or offline():
            return source
        bound_hub_requests()
        try:
            self.check(source, progress)
        except HubUnreachable:
            folder = complete_snapshot(source, revision, allow_pickle)
            if folder is None:
                raise
            if progress:
                progress(0.0, TEXTS.render("from_cache", name=label))
            return str(folder)
        return source

    def ensure_config_readable(
        self, source: str, revision: str | None = None, progress: ProgressFn | None = None
    ) -> None:
        """Return at once when a model's config can be read without the Hub (a local folder, the
        cache, offline mode); else check that the Hub answers (HubUnreachable if not)."""
        if Path(source).is_absolute() or offline() or _cached_config(source, revision) is not None:
            return
        bound_hub_requests()
        self.check(source, progress)

    def read_config(self, source: str, revision: str | None = None, progress: ProgressFn | None = None) -> Any:
        """A model's transformers config: from a local folder or the cache first, else from the Hub
        if it answers (HubUnreachable if not)."""
        from transformers import AutoConfig

        cached = _cached_config(source, revision)
        if cached is not None:
            return AutoConfig.from_pretrained(cached)
        self.ensure_config_readable(source, revision, progress)
        return AutoConfig.from_pretrained(source, revision=revision)


def _cached_config(source: str, revision: str | None) -> Path | None:
    """The folder (local, or a cache snapshot) that holds the model's config.json, if any."""
    folder = cached_snapshot(source, revision)
    return folder if folder is not None and (folder / "config.json").is_file() else None


def network_failure(exc: BaseException) -> bool:
    """Whether a load failed because the Hub did not answer (timeouts, refused or unresolvable
    connections), as opposed to an answer such as "gated" or "not found"."""
    from huggingface_hub import errors as hub_errors

    current: BaseException | None = exc
    for _ in range(8):
        if current is None:
            return False
        names = {cls.__name__ for cls in type(current).__mro__}
        if names & {
            "TimeoutException",
            "ConnectError",
            "NetworkError",
            "ProxyError",
            "ConnectionError",
            "TimeoutError",
        }:
            return True
        if isinstance(current, hub_errors.LocalEntryNotFoundError) and not offline():
            return True
        current = current.__cause__ or current.__context__
    return False


# The app's one view of the Hub (the endpoint comes from HF_ENDPOINT, as huggingface_hub's does).
HUB = HubAccess()
