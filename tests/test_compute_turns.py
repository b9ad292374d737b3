"""Forward passes on the CPU take turns (playground.loading.compute_turns): concurrent requests' forward
passes never overlap, every one of them is counted, and a chunked pipeline takes a turn per chunk."""

from __future__ import annotations

import threading
from pathlib import Path


def spans_do_not_overlap(spans: list[tuple[float, float]]) -> bool:
    ordered = sorted(spans)
    return all(start >= previous_end for (_, previous_end), (start, _) in zip(ordered, ordered[1:]))


def concurrently(calls: int, threads: int, call) -> None:  # noqa: ANN001
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(calls):
                call()
        except BaseException as exc:  # reported below, with the test's failure
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


def test_concurrent_forward_passes_on_the_cpu_take_turns(test_catalog: Path) -> None:
    from playground.config.catalog import load_catalog
    from playground.loading.model_manager import ModelManager

    manager = ModelManager(load_catalog(test_catalog), device="cpu")
    fill = manager.get("fill_mask", None)
    zero_shot = manager.get("zero_shot", None)
    turns = manager.compute_turns
    before = len(turns.spans)
    mask = fill.model.tokenizer.mask_token
    concurrently(3, 4, lambda: fill.model(f"Paris is the {mask} of France."))
    assert len(turns.spans) - before == 12  # one forward pass per request
    labels = ["politics", "sport", "music"]
    concurrently(2, 3, lambda: zero_shot.model("The match ended in a draw.", candidate_labels=labels))
    # A chunk pipeline (one forward pass per label here, or per batch of labels) takes a turn per chunk.
    assert len(turns.spans) - before >= 12 + 6
    assert spans_do_not_overlap(list(turns.spans))


def test_pipelines_off_the_cpu_take_no_turns(test_catalog: Path) -> None:
    from playground.config.catalog import load_catalog
    from playground.loading.compute_turns import ComputeTurns, take_turns_on_cpu
    from playground.loading.model_manager import ModelManager

    fill = ModelManager(load_catalog(test_catalog), device="cpu").get("fill_mask", None).model
    turns = ComputeTurns()
    wrapped = fill.forward
    take_turns_on_cpu(fill, "cuda:0", turns)
    assert fill.forward is wrapped  # accelerators batch concurrent requests instead
    take_turns_on_cpu(fill, "cpu", turns)
    fill(f"Paris is the {fill.tokenizer.mask_token} of France.")
    assert len(turns.spans) == 1
