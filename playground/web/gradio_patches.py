"""Gradio's queue, woken when there is work to start instead of looking for it every millisecond.

Gradio 6.31's `Queue.start_processing` sleeps 1 ms between looks at its queue whenever nothing can
start, which is almost always (idle, or while the running jobs fill their slots), and its progress
loop looks every 10 ms. Measured on the 2-core development machine: the app used 8.7 % of a core
doing nothing, and the same share while a model ran, CPU that torch's two threads then miss (a
streamed generation ran ~4 % fewer tokens/s than with this module; bench/RESULTS.md, "Idle CPU").

New work can start only when an event joins the queue (`push`) or a job ends and frees its slot
(`process_events` returns), so those two set an asyncio.Event the loop waits on; a one-second
timeout is the safety net. The loop is Gradio's own, its sleeps replaced by that wait. Gradio's
progress loop also looks every 10 ms with no job running; it now waits for a job to start, and while
jobs run it keeps Gradio's interval (a longer one loses the progress of short runs: a 50-row dataset
on a small model is over before a 50 ms look).

Applied only where the queue has what the loop uses (`supported`); elsewhere Gradio's loop runs.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

SAFETY_WAKE_S = 1.0
_USED = ("push", "process_events", "get_events", "active_jobs", "delete_lock", "event_queue_per_concurrency_id",
         "event_analytics", "_asyncio_tasks", "live_updates", "broadcast_estimations", "_cancel_asyncio_tasks",
         "stopped", "progress_update_sleep_when_free", "send_message", "start_progress_updates")


def supported(queue: Any) -> bool:
    """Whether `queue` (a gradio.queueing.Queue) has everything the replacement loop relies on."""
    return all(hasattr(queue, name) for name in _USED)


def wake_on_work(queue: Any) -> bool:
    """Make `queue` wait for work instead of polling (before the app launches); False if unsupported."""
    if getattr(queue, "_wakes_on_work", False):
        return True
    if not supported(queue):
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
        except asyncio.TimeoutError:
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
