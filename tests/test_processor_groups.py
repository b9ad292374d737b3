"""Rows of a batch that share their logits processors' call get exactly the scores each row gets
alone, with transformers' own processors (length limits, sampling warpers) and the teaching table's
recorder; a processor that reads a row's tokens keeps the row on its own."""

from __future__ import annotations

import torch
from transformers import (
    LogitsProcessorList,
    MinLengthLogitsProcessor,
    MinNewTokensLengthLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from playground.engines.local_generation import AlternativesRecorder, RecordingProcessor
from playground.engines.processor_groups import group_key, process_group

VOCAB = 500
EOS = [2, 5]
PROMPT = 8


class Tokens:
    """The little of a tokenizer the recorder uses."""

    def decode(self, ids: list[int]) -> str:
        return f"t{ids[0]}"


def processors(recorder: AlternativesRecorder | None = None, penalty: float | None = None) -> LogitsProcessorList:
    """What transformers builds for a prompt of PROMPT tokens with min_length 20, min_new_tokens 5,
    an optional repetition penalty, the recorder and sampling's warpers, in generate()'s order."""
    found = [MinLengthLogitsProcessor(20, EOS), MinNewTokensLengthLogitsProcessor(PROMPT, 5, EOS)]
    if penalty is not None:
        found.append(RepetitionPenaltyLogitsProcessor(penalty))
    if recorder is not None:
        found.append(RecordingProcessor(recorder))
    return LogitsProcessorList([*found, TemperatureLogitsWarper(0.7), TopKLogitsWarper(50), TopPLogitsWarper(0.95)])


def rows_of(lengths: list[int]) -> list[list[int]]:
    generator = torch.Generator().manual_seed(0)
    return [torch.randint(6, VOCAB, (length,), generator=generator).tolist() for length in lengths]


def test_rows_group_by_what_their_processors_do() -> None:
    # 10 and 12 tokens are below both limits; 22 and 30 past both; 16 has its 5 new tokens (8) but is
    # below min_length (20).
    lengths = [10, 12, 22, 16, 30]
    keys = [group_key(processors(), length, sampling=True) for length in lengths]
    assert keys[0] == keys[1] != keys[3]
    assert keys[2] == keys[4] != keys[0]
    assert group_key(processors(), 10, sampling=False) != keys[0]  # greedy and sampled rows choose apart
    assert group_key(processors(penalty=1.3), 10, sampling=True) is None  # reads the row's tokens


def test_a_group_gets_exactly_the_scores_each_row_gets_alone() -> None:
    lengths = [10, 12, 11]
    ids = rows_of(lengths)
    logits = torch.randn(len(lengths), VOCAB, generator=torch.Generator().manual_seed(1))
    logits[:, EOS] += 20  # the end-of-text tokens would win if the limits did not hold them back
    alone_recorders = [AlternativesRecorder(Tokens()) for _ in lengths]
    alone = [
        processors(recorder)(torch.tensor([row]), logits[index : index + 1])
        for index, (row, recorder) in enumerate(zip(ids, alone_recorders))
    ]
    group_recorders = [AlternativesRecorder(Tokens()) for _ in lengths]
    lists = [processors(recorder) for recorder in group_recorders]
    assert len({group_key(own, len(row), True) for own, row in zip(lists, ids)}) == 1
    together = process_group(lists, [row[-1] for row in ids], torch.tensor([ids[0]]), logits)

    for index, scores in enumerate(alone):
        assert torch.equal(together[index : index + 1], scores)
        assert torch.isinf(scores[0, EOS]).all()  # the limits held the end-of-text tokens back
        assert (scores[0] > float("-inf")).sum() <= 50  # and the warpers kept the top-k at most
    for shared, own in zip(group_recorders, alone_recorders):
        shared.resolve(7)
        own.resolve(7)
        assert shared.rows == own.rows and shared.rows


def test_the_recorder_in_a_group_resolves_each_rows_previous_token() -> None:
    recorders = [AlternativesRecorder(Tokens()) for _ in range(2)]
    lists = [processors(recorder) for recorder in recorders]
    logits = torch.randn(2, VOCAB, generator=torch.Generator().manual_seed(2))
    ids = rows_of([10, 10])
    process_group(lists, [ids[0][-1], ids[1][-1]], torch.tensor([ids[0]]), logits)
    assert [r.rows for r in recorders] == [[], []]  # the first step has nothing to resolve yet
    process_group(lists, [11, 12], torch.tensor([ids[0] + [11]]), logits)
    assert [r.rows[0][1] for r in recorders] == ["'t11'", "'t12'"]
