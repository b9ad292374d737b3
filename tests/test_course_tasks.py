"""The course tabs' task logic without Gradio or a launched app: file reading, span scoring,
language codes and highlighting (hand-made inputs whose answers are known)."""

from __future__ import annotations

import pytest

from playground.core.texts import UserError
from playground.engines import seq2seq
from playground.media import datasets
from playground.tasks import extractive_qa
from tabs.named_entities import task as token_classification


def test_csv_dialects_bom_and_quotes(tmp_path) -> None:
    path = tmp_path / "semi.csv"
    path.write_bytes('\ufeffid;text\n1;"hello; world"\n2;"two\nlines"\n'.encode("utf-8"))
    table = datasets.read_table(path, 10, 1)
    assert table.columns == ["id", "text"]
    assert datasets.column_values(table, datasets.pick_column(table, "")) == ["hello; world", "two\nlines"]


def test_jsonl_values_that_are_not_text(tmp_path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "tags": ["x", "y"], "n": null}\n\n{"text": "b", "extra": 3}\n', encoding="utf-8")
    table = datasets.read_table(path, 10, 1)
    assert table.columns == ["text", "tags", "n", "extra"]
    assert table.rows[0] == {"text": "a", "tags": '["x", "y"]', "n": ""}
    assert datasets.pick_column(table, None) == "text"


def test_run_over_rows_batches_and_reports(tmp_path) -> None:
    seen_batches, reports = [], []

    def run_batch(texts: list[str]) -> list[list[int]]:
        seen_batches.append(len(texts))
        return [[len(text)] for text in texts]

    run = datasets.run_over_rows(
        ["a", "", "bb", "ccc"] * 10, run_batch, ["length"], lambda f, m: reports.append((f, m)), batch_size=16
    )
    assert seen_batches == [16, 14] and run.skipped == 10
    assert run.header == ["text", "length"] and run.rows[:3] == [["a", 1], ["bb", 2], ["ccc", 3]]
    assert reports == [(0.0, "Rows 0/30"), (16 / 30, "Rows 16/30"), (1.0, "Rows 30/30")]
    assert datasets.summary(run, "ko").startswith("30행")


def test_best_spans_follow_start_and_end_scores() -> None:
    import torch

    # [CLS] q q [SEP] c0 c1 c2 c3 [SEP]: the context is tokens 4-7.
    mask = torch.tensor([False, False, False, False, True, True, True, True, False])
    start = torch.tensor([0.0, 9, 9, 9, 1, 5, 0, 0, 9])  # question tokens score high but are masked out
    end = torch.tensor([0.0, 9, 9, 9, 0, 1, 0, 6, 9])
    spans, null = extractive_qa.best_spans(start, end, mask, top_k=3, max_answer_length=30)
    assert spans[0][:2] == (5, 7) and spans[0][2] > spans[1][2] >= spans[2][2]
    assert all(4 <= first <= last <= 7 for first, last, _ in spans)
    assert 0 < null < spans[0][2]
    short, _ = extractive_qa.best_spans(start, end, mask, top_k=10, max_answer_length=2)
    assert all(last - first < 2 for first, last, _ in short)


def test_answers_highlight_without_overlaps() -> None:
    answers = [
        extractive_qa.Answer("b c", 0.5, 2, 5, 0),
        extractive_qa.Answer("c", 0.3, 4, 5, 0),
        extractive_qa.Answer("a", 0.2, 0, 1, 0),
    ]
    value = extractive_qa.highlighted("a b c d", answers)
    assert value["entities"] == [{"entity": "#3", "start": 0, "end": 1}, {"entity": "#1", "start": 2, "end": 5}]


def test_entity_rows_name_the_type_whatever_the_aggregation() -> None:
    raw = [
        {"word": "Sylvain", "entity": "B-PER", "score": 0.9, "start": 11, "end": 18},
        {"word": "Hugging Face", "entity_group": "ORG", "score": 0.8, "start": 33, "end": 45},
    ]
    rows = token_classification.entity_rows(raw)
    assert [r["entity"] for r in rows] == ["B-PER", "ORG"]
    assert token_classification.highlighted("x" * 50, rows)["entities"][1] == {"entity": "ORG", "start": 33, "end": 45}


@pytest.mark.parametrize(
    "value, code", [("fr", "fra_Latn"), ("French", "fra_Latn"), ("KO", "kor_Hang"), ("kor_Hang", "kor_Hang")]
)
def test_languages_map_to_model_codes(value, code) -> None:
    assert seq2seq.resolve_language(value, {"fra_Latn", "kor_Hang", "eng_Latn"}) == code


def test_unknown_language_and_marian_pairs() -> None:
    with pytest.raises(UserError, match="not a language this model knows"):
        seq2seq.resolve_language("de", {"fra_Latn"})
    assert seq2seq.marian_pair("Helsinki-NLP/opus-mt-fr-en") == ("fr", "en")
    assert seq2seq.marian_pair("/models/opus-mt-ko-en/") == ("ko", "en")
    assert seq2seq.marian_pair("facebook/nllb-200-distilled-600M") is None
