"""A fair share of the queue for each user: at most `max_requests_per_user` running or waiting, and
users served in turn.

A user is the signed-in name, else the browser session (gradio_client: one per Client), never the IP
address: a whole class behind one school address is many users. Gradio's queue is first come, first
served per concurrency group; here (through playground.web.gradio_patches.share_queue) every event
that joins is placed by round: a user's first waiting request (after those already running) comes
before anyone's second, so one client firing 32 requests does not push back another user's first.
Over the limit, the join is refused at once with a message
giving the number (Gradio's validation answer: the page and gradio_client show its text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts, request_language
from playground.core.turns import in_turn

TEXTS = Texts.load("fair_share", SHARED_LOCALES)


def request_user(request: Any) -> str | None:
    """The user a Gradio request (gr.Request) comes from, as the queue counts users; None without a
    session (a handler called directly)."""
    from playground.web.gradio_patches import queue_owner

    session = getattr(request, "session_hash", None)
    return queue_owner(getattr(request, "username", None), session) if session else None


def share_fairly(demo: Any, limit: Callable[[], int | None]) -> bool:
    """Make the queue of `demo` (before the app launches) refuse a user's request beyond `limit()` and
    serve its groups' waiting requests in turn; False where the Gradio patch this needs is off (the
    startup warning says so)."""
    from playground.web.gradio_patches import share_queue

    def refusal(count: int, request: Any) -> str | None:
        most = limit()
        if most is None or count < most:
            return None
        return TEXTS.get("too_many", request_language(request), count=count, limit=most)

    return share_queue(demo, refusal, in_turn)
