"""Users taking turns in a line: the order the app's queue (playground.operations.fair_share) and the
batching scheduler's own line (playground.engines.batched_generation) serve waiting requests in, so
one user's many requests never go before another user's first."""

from __future__ import annotations

from collections import Counter


def in_turn(owners: list[str | None], running: Counter) -> list[int]:
    """The order (indices into `owners`, whose waiting requests these are, first come first) in which
    users take turns: each request's round is its owner's running requests plus the owner's earlier
    waiting ones; lower rounds first, first come first within a round (None: one anonymous user)."""
    seen: Counter = Counter()
    rounds = []
    for who in owners:
        rounds.append(running[who] + seen[who])
        seen[who] += 1
    return sorted(range(len(owners)), key=lambda index: rounds[index])
