"""Every place the app reaches into Gradio's internals, each with its reason and a version gate.

The patches rely on Gradio code that is not public API, so they were read against and tested on the
versions in `CHECKED_VERSIONS` only. On any other version `gradio_checked()` is False: every patch turns
itself off, Gradio's own behaviour runs, and one warning is logged naming the version and what is off.
`tests/test_gradio_patches.py` shows each patch still does what it claims on the pinned version.

1. `wake_queue_on_work(demo)`: the queue waits to be woken by work instead of polling. Gradio's
   `Queue.start_processing` sleeps 1 ms between looks at its queue whenever nothing can start, which
   is almost always (idle, or while the running jobs fill their slots), and its progress loop looks
   every 10 ms. Measured on the 2-core development machine: Gradio's loop used 8.4 % of a core doing
   nothing, this one 0.4 % (bench/RESULTS.md, "Idle CPU", re-measured by `python -m bench.run`),
   and the same share while a model ran, CPU that torch's threads then miss (a streamed generation
   ran ~4 % fewer tokens/s). Kept because the benchmark still measures that gain.
   New work can start only when an event joins the queue (`push`) or a job ends and frees its slot
   (`process_events` returns), so those two set an asyncio.Event the loop waits on; a one-second
   timeout is the safety net. The loop is Gradio's own, its sleeps replaced by that wait. Gradio's
   progress loop also looks every 10 ms with no job running; it now waits for a job to start, and
   while jobs run it keeps Gradio's interval (a longer one loses the progress of short runs).
2. `check_before_processing(demo, check, unreadable)`: `Blocks.process_api` is wrapped so API inputs
   are checked before Gradio's preprocessing turns a wrong type into a pydantic dump, a list into its
   `str()`, or opens a server path that was never uploaded (`playground.web.inputs` says what is
   refused). No public hook runs before preprocessing.
3. `current_request()`: the request being handled, from `gradio.context.LocalContext`, so progress
   messages of a model load follow the request's language without threading the request through
   every handler's call of `TabContext.load`.
4. `locale_module_url()`: the hashed `core-*.js` asset of Gradio's frontend that exports
   `changeLocale`; the language switch imports it to change the page's language in place (Gradio
   offers no public way to change the locale after the page has loaded).
5. `pass_unreadable_files(component, errors)`: a gr.Image's `preprocess` overridden on the instance
   (a subclass would make Gradio write a .pyi stub) so an upload Pillow cannot open reaches the
   handler, which explains the problem, instead of failing with a traceback in preprocessing.
The operations features (playground.operations) need these; each says what happens where it is off:
6. `share_queue(demo, refusal, order)`: `Queue.push` wrapped, and its concurrency groups' waiting
   events read and reordered, so one user cannot take more than a share of the queue and users are
   served in turn. Off: first come, first served, no limit per user.
7. `queue_length(demo)`: `len(demo._queue)` for /metrics. Off: the queue length gauge is left out.
8. `wrap_endpoints(demo, wrap)`: every named endpoint's handler in `Blocks.fns` wrapped, so /metrics
   counts and times requests. Off: no request counts.
9. `download_urls_with(download)`: `gradio.processing_utils.async_ssrf_protected_download` replaced, so
   a file URL's download stops at the upload size limit. Off: Gradio's own download (public addresses
   only, whole answer read; SECURITY.md says so).
10. `session_user`, `session_of`, `session_token_user`: Gradio's sign-in sessions (`app.tokens`, keyed by
   cookies named with `app.cookie_id`), so a request with valid `Authorization: Basic` credentials or
   an allowed Hugging Face account is signed in for every Gradio route under its name, and /metrics,
   /readyz and MCP can see who is signed in. Off: only Gradio's form and gradio_client's auth sign in;
   the credentials gate refuses header sign-in, MCP and /metrics (it never lets a request through
   unauthenticated); an allowed Hugging Face account still gets in, but Gradio does not know its name
   (its share of the queue is its browser session's). Gradio's public
   `launch(auth_dependency=...)` would replace its sign-in form and gradio_client's `auth=` altogether.
11. `set_mcp_client_headers(demo, headers)`: the gradio_client Gradio's MCP server calls the app with
   (`mcp_server_obj._client_instance`) made with the loopback secret, so MCP works with sign-in on.
   Off: with sign-in on, MCP answers 503 (it never runs unauthenticated).

For start-up time:
12. `trust_playable_folder(folder)`: `gradio.processing_utils.audio_is_playable` and `video_is_playable`
   wrapped so the app's own example files are not run through ffprobe while the page is built (7 probes,
   0.4 s of start-up); `tests/test_gradio_patches.py` runs Gradio's probe on each of them. Off: Gradio
   probes them.
13. `remember_block_signatures()`: each Gradio block class's `__init__` given its own signature as
   `__signature__`, so the `inspect.signature` Gradio runs for every block at every config build is a
   lookup. Off: Gradio computes them.
14. `share_api_schemas()`: `Component.api_info` wrapped so a data model's JSON schema is built once, not
   once a component. Off: pydantic builds each.
   Together they halve a config build of the whole page (0.065 s to 0.03 s of CPU), which Gradio makes
   four times before serving it; `tests/test_gradio_patches.py` checks the page's config is the same
   with and without patches 12-14.

Not patches (public behaviour, no gate): the sign-in form (`launch(auth=...)`), the operations'
routes and middleware (`launch(app_kwargs=...)`); `guarded` (playground.web.errors) gives a handler's wrapper
the signature Gradio reads, with a `gr.Request`-annotated parameter, the documented way to receive
the request; endpoints without a widget use `gr.api`, except the batched image endpoint and the chat
endpoint, which need their components' preprocessing (uploads, chat messages) and stay on hidden
buttons.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# The Gradio versions whose internals the patches below were read against and tested on.
CHECKED_VERSIONS = ("6.31.0",)
_warned: list[str] = []  # the unchecked version already warned about (one warning a process)


@functools.cache
def gradio_version() -> str:
    from importlib.metadata import version

    return version("gradio")


def gradio_checked() -> bool:
    """Whether the installed Gradio is one the patches were checked against; logs one warning if not."""
    installed = gradio_version()
    if installed in CHECKED_VERSIONS:
        return True
    if installed not in _warned:
        _warned.append(installed)
        logger.warning(
            "Gradio %s is not a version the app's Gradio patches were checked against (%s): they are off, so the "
            "queue polls for work, API inputs are not checked before preprocessing, load progress is in English, the "
            "language switch changes only the server's messages and unreadable images fail in preprocessing; "
            "there is no per-user share of the queue (first come, first served), file URLs are downloaded without "
            "the upload size limit, /metrics has no request counts or queue length, the app's example audio and video "
            "are probed with ffprobe while the page is built; with sign-in on, only the "
            "sign-in form and gradio_client's auth sign in (Authorization headers, MCP and /metrics are refused) "
            "(playground/web/gradio_patches.py).",
            installed,
            ", ".join(CHECKED_VERSIONS),
        )
    return False


# ---- 1. the queue waits to be woken by work --------------------------------------------------------------

SAFETY_WAKE_S = 1.0
_USED = (
    "push",
    "process_events",
    "get_events",
    "active_jobs",
    "delete_lock",
    "event_queue_per_concurrency_id",
    "event_analytics",
    "_asyncio_tasks",
    "live_updates",
    "broadcast_estimations",
    "_cancel_asyncio_tasks",
    "stopped",
    "progress_update_sleep_when_free",
    "send_message",
    "start_progress_updates",
)


def supported(queue: Any) -> bool:
    """Whether `queue` (a gradio.queueing.Queue) has everything the replacement loop relies on."""
    return all(hasattr(queue, name) for name in _USED)


def wake_queue_on_work(demo: Any) -> bool:
    """Make the queue of `demo` (after `demo.queue()`, before launch) wait for work instead of polling."""
    return wake_on_work(demo._queue)


def wake_on_work(queue: Any) -> bool:
    """Make `queue` wait for work instead of polling (before the app launches); False where the patch is
    off (an unchecked Gradio version, or a queue without what the loop uses)."""
    if getattr(queue, "_wakes_on_work", False):
        return True
    if not supported(queue) or not gradio_checked():
        return False
    from gradio.utils import run_coro_in_background, set_task_name

    # Made by the loop itself: an asyncio.Event belongs to the event loop it is first used on, and a
    # relaunched app runs on a new one.
    work: list[asyncio.Event] = []
    job_started: list[asyncio.Event] = []
    push, process_events = queue.push, queue.process_events

    def wake() -> None:
        if work:
            work[0].set()

    async def push_and_wake(*args: Any, **kwargs: Any) -> Any:
        try:
            return await push(*args, **kwargs)
        finally:
            wake()

    async def process_and_wake(*args: Any, **kwargs: Any) -> Any:
        try:
            return await process_events(*args, **kwargs)
        finally:
            wake()  # a slot is free: a queued event may start

    async def wait_for(event: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(event.wait(), SAFETY_WAKE_S)
        except TimeoutError:
            pass

    async def start_processing() -> None:
        work[:] = [asyncio.Event()]
        try:
            while not queue.stopped:
                # Cleared before looking, so work that arrives while we look is not missed.
                work[0].clear()
                if len(queue) == 0 or None not in queue.active_jobs:
                    await wait_for(work[0])
                    continue
                async with queue.delete_lock:
                    event_batch = queue.get_events()
                if not event_batch:  # every queued event waits for its concurrency limit
                    await wait_for(work[0])
                    continue
                events, batch, concurrency_id = event_batch
                queue.active_jobs[queue.active_jobs.index(None)] = events
                if job_started:
                    job_started[0].set()
                event_queue = queue.event_queue_per_concurrency_id[concurrency_id]
                event_queue.current_concurrency += 1
                start_time = time.time()
                fn = events[0].fn
                event_queue.start_times_per_fn[fn].add(start_time)
                for event in events:
                    if (analytics := queue.event_analytics.get(event._id)) is not None:
                        analytics["status"] = "processing"
                task = run_coro_in_background(queue.process_events, events, batch, start_time, fn)
                set_task_name(task, events[0].session_hash, fn._id, events[0]._id, batch)
                queue._asyncio_tasks.add(task)
                task.add_done_callback(queue._asyncio_tasks.discard)
                if queue.live_updates:
                    queue.broadcast_estimations(concurrency_id)
        finally:
            queue.stopped = True
            queue._cancel_asyncio_tasks()

    async def start_progress_updates() -> None:
        job_started[:] = [asyncio.Event()]
        while not queue.stopped:
            events = [event for job in queue.active_jobs if job is not None for event in job]
            if not events:
                job_started[0].clear()  # nothing awaited between the look and the clear: no start is missed
                await wait_for(job_started[0])
                continue
            for event in events:
                if event.progress_pending and event.progress:
                    event.progress_pending = False
                    queue.send_message(event, event.progress)
            await asyncio.sleep(queue.progress_update_sleep_when_free)

    queue.push, queue.process_events = push_and_wake, process_and_wake
    queue.start_processing, queue.start_progress_updates = start_processing, start_progress_updates
    queue._wakes_on_work = True
    return True


# ---- 2. API inputs checked before Gradio's preprocessing -------------------------------------------------

InputCheck = Callable[[Any, list[Any], str], None]


def check_before_processing(demo: Any, check: InputCheck, unreadable: Callable[[str, str], Exception]) -> bool:
    """Run `check(block_fn, inputs, lang)` before `demo` preprocesses an API call's inputs (it raises to
    refuse them); a payload Gradio's data models refuse raises `unreadable(detail, lang)`. Calls of
    streamed (iterator) steps and batched functions are not checked. False where the patch is off."""
    if not gradio_checked():
        return False
    import inspect

    from pydantic import ValidationError

    from playground.core.texts import request_language

    original = demo.process_api
    signature = inspect.signature(original)

    async def process_api(*args: Any, **kwargs: Any) -> dict[str, Any]:
        bound = signature.bind(*args, **kwargs)
        block_fn, inputs = bound.arguments["block_fn"], bound.arguments["inputs"]
        request = bound.arguments.get("request")
        lang = request_language(request[0] if isinstance(request, list) and request else request)
        if isinstance(block_fn, int):
            block_fn = demo.fns[block_fn]
        if not bound.arguments.get("iterator") and not block_fn.batch and isinstance(inputs, list):
            check(block_fn, inputs, lang)
        try:
            return await original(*args, **kwargs)
        except ValidationError as exc:  # a malformed payload Gradio's data models refused
            detail = "; ".join(str(err.get("msg", "")) for err in exc.errors()[:2])
            raise unreadable(detail, lang) from None

    demo.process_api = process_api
    return True


# ---- 3. the request being handled --------------------------------------------------------------------------


def current_request() -> Any:
    """The gr.Request of the event being handled in this context, or None (outside a request, or where
    the patch is off)."""
    if not gradio_checked():
        return None
    from gradio.context import LocalContext

    return LocalContext.request.get(None)


# ---- 4. the frontend module that changes the page's language ----------------------------------------------


def locale_module_url() -> str | None:
    """The page-relative URL of the Gradio frontend module that exports `changeLocale` (its Settings
    panel switches the UI language through it; importing the same URL shares its state), or None where
    the patch is off."""
    if not gradio_checked():
        return None
    import gradio

    assets = Path(gradio.__file__).parent / "templates" / "frontend" / "assets"
    found = sorted(assets.glob("core-*.js"))
    return f"./assets/{found[0].name}" if found else None


# ---- 5. uploads Pillow cannot open reach the handler -------------------------------------------------------


def pass_unreadable_files(component: Any, errors: tuple[type[BaseException], ...]) -> Any:
    """`component` (a filepath gr.Image) hands an upload whose preprocessing raises one of `errors` to the
    handler as its path, for the handler to explain; unchanged where the patch is off."""
    if not gradio_checked():
        return component
    gradio_preprocess = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return gradio_preprocess(payload)
        except errors:
            return payload.path

    component.preprocess = preprocess
    return component


# ---- 6. a fair share of the queue per user -------------------------------------------------------------

JoinCheck = Callable[[int, Any], "str | None"]
TurnOrder = Callable[[list[str], Counter], list[int]]


def queue_owner(username: str | None, session_hash: str) -> str:
    """Whose request a queued event is: the signed-in name, else the browser (or client) session."""
    return f"user:{username}" if username else f"session:{session_hash}"


def _owner(event: Any) -> str:
    return queue_owner(getattr(event, "username", None), event.session_hash)


def share_queue(demo: Any, refusal: JoinCheck, order: TurnOrder) -> bool:
    """Before an event joins the queue of `demo` (after `demo.queue()`, before launch), ask
    `refusal(the owner's requests running or waiting, request)`: a message refuses the join (Gradio's
    validation answer, whose text the page and gradio_client show), None lets it in. After each join,
    every concurrency group's waiting events are put in the order `order(their owners, running requests
    per owner)` gives (indices into the waiting list). False where the patch is off (Gradio's first come,
    first served, with no limit per user).
    Gradio's queue offers neither: its only limits are per event (`concurrency_limit`) and the
    queue's `max_size`, shared by everyone."""
    if not gradio_checked():
        return False
    queue = demo._queue
    push = queue.push

    def running() -> list[Any]:
        return [event for job in queue.active_jobs if job is not None for event in job]

    def groups() -> list[Any]:
        return list(queue.event_queue_per_concurrency_id.values())

    async def push_in_turn(body: Any, request: Any, username: str | None) -> Any:
        who = queue_owner(username, body.session_hash)
        waiting = (event for group in groups() for event in group.queue)
        count = sum(1 for event in (*running(), *waiting) if _owner(event) == who)
        message = refusal(count, request)
        if message is not None:
            refused = {"__type__": "validate", "is_valid": False, "parameter_name": "request", "message": message}
            return False, [refused], "validator_error"
        result = await push(body, request, username)
        if result[0]:
            busy = Counter(_owner(event) for event in running())
            # No await between reading and writing: nothing else touches the queue in between.
            for group in groups():
                if len(group.queue) > 1:
                    group.queue[:] = [group.queue[i] for i in order([_owner(event) for event in group.queue], busy)]
        return result

    queue.push = push_in_turn
    return True


# ---- 7. the queue's length -----------------------------------------------------------------------------------


def queue_length(demo: Any) -> int | None:
    """Events waiting in the queue of `demo` (every concurrency group), for the metrics; None where the
    patch is off. Gradio shows it only to a page waiting in the queue (its position)."""
    if not gradio_checked():
        return None
    return len(demo._queue)


# ---- 8. every named endpoint's handler wrapped -----------------------------------------------------------


def wrap_endpoints(demo: Any, wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]]) -> bool:
    """Replace the handler of every named, not private endpoint of `demo` (before launch) with
    `wrap("/name", handler)`, which must keep its signature and generator-ness. False where the patch is
    off. Gradio has no public hook around every event; the handlers sit in `Blocks.fns`."""
    if not gradio_checked():
        return False
    for block_fn in demo.fns.values():
        if block_fn.fn is not None and block_fn.api_name and block_fn.api_visibility != "private":
            block_fn.fn = wrap("/" + str(block_fn.api_name), block_fn.fn)
    return True


# ---- 9. file URLs downloaded by the app ----------------------------------------------------------------

UrlDownload = Callable[[str, Path, tuple[str, ...]], Awaitable[str]]


def download_urls_with(download: UrlDownload) -> bool:
    """Gradio fetches a file input given as a URL with `await download(url, target, trusted_hosts)`:
    `target` is the file Gradio itself would write (its cache folder for that URL, which exists), and
    `trusted_hosts` the names Gradio fetches without checking their address (Hugging Face's, whose DNS
    answers private addresses inside Spaces). An existing `target` is returned as is, as Gradio does.
    False where the patch is off: Gradio's own download runs (public addresses only, but no size limit).
    Gradio reads the whole answer before anything can look at its size, and offers no hook."""
    from gradio import processing_utils

    if not gradio_checked() or not hasattr(processing_utils, "async_ssrf_protected_download"):
        return False
    from urllib.parse import urlparse

    from gradio_client.utils import strip_invalid_filename_characters

    trusted = tuple(processing_utils.PUBLIC_HOSTNAME_WHITELIST)

    async def gradio_download(url: str, cache_dir: str) -> str:
        folder = Path(cache_dir) / processing_utils.hash_url(url)
        folder.mkdir(exist_ok=True, parents=True)
        name = strip_invalid_filename_characters(Path(urlparse(url).path.rstrip("/")).name) or "file"
        target = (folder / name).resolve()
        if target.exists():
            return str(target)
        return await download(url, target, trusted)

    processing_utils.async_ssrf_protected_download = gradio_download
    return True


# ---- 10. Gradio's sign-in sessions -------------------------------------------------------------------------


def _session_tokens(app: Any) -> tuple[str, dict[str, str]] | None:
    cookie_id, tokens = getattr(app, "cookie_id", None), getattr(app, "tokens", None)
    return None if cookie_id is None or tokens is None or not gradio_checked() else (cookie_id, tokens)


def session_user(app: Any, cookies: Mapping[str, str]) -> str | None:
    """The user whose Gradio sign-in session the `cookies` of a request to `app` (Gradio's FastAPI app)
    carry, else None (also where the patch is off). Gradio tells a handler its `gr.Request.username`,
    but routes outside its events (/metrics, /readyz, its MCP transport) have no such answer."""
    sessions = _session_tokens(app)
    if sessions is None:
        return None
    cookie_id, tokens = sessions
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return tokens.get(token) if token else None


def session_of(app: Any, user: str, token: str) -> str | None:
    """Register `token` as a Gradio sign-in session of `user` with `app` and return the cookie that
    carries it (`name=value`), which every Gradio route then accepts as signed in; None where the
    patch is off. Gradio makes sessions only at its /login form, which clients that send
    `Authorization` headers never see."""
    sessions = _session_tokens(app)
    if sessions is None:
        return None
    cookie_id, tokens = sessions
    tokens[token] = user
    return f"access-token-unsecure-{cookie_id}={token}"


def session_token_user(app: Any, token: str) -> str | None:
    """The user a Gradio session token of `app` belongs to (None: unknown or signed out, or the patch is off)."""
    sessions = _session_tokens(app)
    return None if sessions is None else sessions[1].get(token)


# ---- 11. the headers of the MCP server's own client ------------------------------------------------------


def set_mcp_client_headers(demo: Any, headers: Mapping[str, str]) -> bool:
    """Gradio's MCP server (of a launched `demo`) runs a tool by calling the app's own queue through a
    gradio_client it makes on first use, with no way to give it headers; with sign-in on that client
    must prove itself, so it is made here, as Gradio makes it, with `headers` added. False where the
    patch is off or `demo` serves no MCP."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None or not gradio_checked() or not hasattr(server, "_client_instance"):
        return False
    from gradio_client import Client

    server._client_instance = Client(
        demo.local_url,
        download_files=False,
        verbose=False,
        analytics_enabled=False,
        ssl_verify=False,
        _skip_components=False,
        headers={"x-gradio-user": "mcp", **headers},
    )
    return True


# ---- 12. the app's own example media are not probed ------------------------------------------------------

_PLAYABLE_FOLDERS: set[Path] = set()


def _in_playable_folder(path: str) -> bool:
    resolved = Path(path).resolve()
    return any(resolved.is_relative_to(folder) for folder in _PLAYABLE_FOLDERS)


def trust_playable_folder(folder: Path) -> bool:
    """Gradio runs ffprobe on each audio and video example while the page is built, to convert one a
    browser cannot play: a tenth of a second a file, most of a second of start-up with every tab. Files
    under `folder` (the app's own examples, which a test checks Gradio's probe finds playable) are taken
    as playable without it; every other file, uploads and results included, is still probed. False
    where the patch is off (Gradio probes every example)."""
    from gradio import processing_utils

    probes = ("audio_is_playable", "video_is_playable")
    if not gradio_checked() or not all(hasattr(processing_utils, name) for name in probes):
        return False
    _PLAYABLE_FOLDERS.add(folder.resolve())
    for name in probes:
        gradio_probe = getattr(processing_utils, name)
        if getattr(gradio_probe, "__wrapped__", None) is not None:  # wrapped already (another app built)
            continue

        @functools.wraps(gradio_probe)
        def probe(path: str, gradio_probe: Callable[[str], bool] = gradio_probe) -> bool:
            return _in_playable_folder(path) or gradio_probe(path)

        setattr(processing_utils, name, probe)
    return True


# ---- 13. the components' constructor signatures are read once ---------------------------------------------


def remember_block_signatures() -> bool:
    """Gradio reads each block's constructor signature (`inspect.signature(cls.__init__)`) every time it
    builds the page's config (four times before the page is served) and for every component made. Each
    Gradio block class's signature is computed once here and kept as its `__init__.__signature__`, which
    `inspect` returns as it is; the signatures are the same. False where the patch is off."""
    if not gradio_checked():
        return False
    import inspect

    from gradio.blocks import Block

    pending: list[type] = [Block]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        init = cls.__dict__.get("__init__")
        if not inspect.isfunction(init) or "__signature__" in vars(init):
            continue
        original = inspect.unwrap(init)
        if original is not init and "__signature__" not in vars(original):
            original.__signature__ = inspect.signature(original)
        init.__signature__ = inspect.signature(init)
    return True


# ---- 14. the components' API schemas are made once a data model --------------------------------------------


def share_api_schemas() -> bool:
    """A component's `api_info()` (its part of the page's config and of /gradio_api/info) is the JSON schema
    of its data model, which pydantic builds anew for every component, about 2 ms each, for a hundred
    file, image and table components. The schema depends on the model class only: it is built once a
    class here and each component gets its own copy. False where the patch is off."""
    from gradio.components.base import Component

    if not gradio_checked() or not hasattr(Component, "api_info"):
        return False
    gradio_api_info = Component.api_info
    if getattr(gradio_api_info, "__wrapped__", None) is not None:  # shared already (another app built)
        return True
    import copy

    schemas: dict[Any, dict[str, Any]] = {}

    @functools.wraps(gradio_api_info)
    def api_info(self: Any) -> dict[str, Any]:
        model = self.data_model
        if getattr(self, "_api_info_cache", None) is None and model is not None:
            if model not in schemas:
                schemas[model] = gradio_api_info(self)
            self._api_info_cache = copy.deepcopy(schemas[model])
        return gradio_api_info(self)

    Component.api_info = api_info
    return True
