"""A fair share of the queue for each user: at most `max_requests_per_user` running or waiting, and
users served in turn.

A user is the signed-in name, else the browser session (gradio_client: one per Client), never the IP
address: a whole class behind one school address is many users. Gradio's queue is first come, first
served per concurrency group; here every event that joins is placed by round: a user's first waiting
request (after those already running) comes before anyone's second, so one client firing 32 requests
does not push back another user's first. Over the limit, the join is refused at once with a message
giving the number (Gradio's validation answer: the page and gradio_client show its text).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from playground.core.texts import Texts, request_language

STRINGS = {
    "en": {
        "too_many": ("You already have {count} requests running or waiting; this app allows {limit} per user at once. "
                     "Wait for one to finish, then try again."),
    },
    "ko": {
        "too_many": ("이미 실행 중이거나 대기 중인 요청이 {count}개 있습니다. 이 앱은 사용자마다 동시에 {limit}개까지 "
                     "받습니다. 하나가 끝난 뒤 다시 시도하세요."),
    },
}
TEXTS = Texts("fair_share", STRINGS)


def owner(event: Any) -> str:
    """Whose request an event is: the signed-in name, else the browser (or client) session."""
    return f"user:{event.username}" if getattr(event, "username", None) else f"session:{event.session_hash}"


def _running(queue: Any) -> list[Any]:
    return [event for job in queue.active_jobs if job is not None for event in job]


def requests_of(queue: Any, who: str) -> int:
    """How many of `who`'s requests are running or waiting in a gradio Queue."""
    waiting = (event for group in queue.event_queue_per_concurrency_id.values() for event in group.queue)
    return sum(1 for event in (*_running(queue), *waiting) if owner(event) == who)


def in_turn(waiting: list[Any], running: Counter) -> list[Any]:
    """`waiting` reordered so users take turns: each event's round is its user's running requests plus
    the user's earlier waiting ones; lower rounds first, first come first within a round."""
    seen: Counter = Counter()
    rounds = []
    for event in waiting:
        who = owner(event)
        rounds.append(running[who] + seen[who])
        seen[who] += 1
    return [event for _, event in sorted(zip(rounds, waiting), key=lambda pair: pair[0])]


def share_fairly(queue: Any, limit: Callable[[], int | None]) -> None:
    """Make a gradio Queue (before the app launches) refuse a user's request beyond `limit()` and
    serve its groups' waiting events in turn."""
    push = queue.push

    async def push_in_turn(body: Any, request: Any, username: str | None) -> Any:
        most = limit()
        if most is not None:
            who = f"user:{username}" if username else f"session:{body.session_hash}"
            count = requests_of(queue, who)
            if count >= most:
                message = TEXTS.get("too_many", request_language(request), count=count, limit=most)
                return False, [{"__type__": "validate", "is_valid": False, "parameter_name": "request", "message": message}], "validator_error"
        result = await push(body, request, username)
        if result[0]:
            running = Counter(owner(event) for event in _running(queue))
            # No await between reading and writing: nothing else touches the queue in between.
            for group in queue.event_queue_per_concurrency_id.values():
                if len(group.queue) > 1:
                    group.queue[:] = in_turn(group.queue, running)
        return result

    queue.push = push_in_turn
