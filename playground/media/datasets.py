"""Pipelines over a dataset: read an uploaded CSV / JSONL / TXT file or a Hub dataset's split, pick
the text column, run a model over the rows in batches with progress, and write the results as CSV.

A tab supplies only the per-batch function (texts -> result rows) and its result columns; the limits
(rows, file size, whether Hub datasets may be read) come from the catalog's defaults
(`max_dataset_rows`, `max_dataset_mb`, `allow_hub_datasets`).

Hub datasets are read with the `datasets` library, streamed (only the first `max_dataset_rows` rows
are read), by Hub id only (`owner/name`: never a path or URL, so a request cannot make the server read
its own files), with no remote code (`datasets` runs no dataset scripts) and in bounded time (the
Hub is probed first and every request it sends is bounded: playground.loading.hub).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from playground.config.catalog import Defaults
from playground.core.downloads import write_csv_download
from playground.core.texts import DEFAULT_LANGUAGE, LANGUAGES, Texts, UserError

KINDS = (".csv", ".jsonl", ".txt")
TXT_COLUMN = "text"
BATCH_SIZE = 16
# A Hub dataset id, owner/name (the Hub's own rules: letters, digits, "-", "_", "." and no leading
# punctuation); a config or split name.
HUB_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")
HUB_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
DEFAULT_SPLIT = "train"
# The longest a Hub dataset may take to read (each request the Hub gets is bounded on its own too).
HUB_READ_SECONDS = 60.0

STRINGS = {
    "en": {
        "no_file": "Upload a CSV, JSONL or TXT file first.",
        "wrong_kind": "{name} is not a CSV, JSONL or TXT file (the name must end in .csv, .jsonl or .txt).",
        "too_big": "{name} is {size:.1f} MB; the limit for a dataset is {limit:g} MB.",
        "not_text": "{name} is not UTF-8 text.",
        "bad_csv": "{name} could not be read as CSV: {detail}",
        "bad_jsonl": "{name}, line {line}: not a JSON object ({detail}).",
        "empty": "{name} has no rows.",
        "too_many_rows": "{name} has {count} rows; the limit is {limit}.",
        "no_column": "{name} has no column {column!r}. Its columns: {columns}.",
        "pick_column": "Pick the text column: the file has several ({columns}).",
        "empty_column": "The column {column!r} has no text in any row.",
        "summary": "{count} rows in {seconds:.1f} s ({rate:.1f} rows/s), in batches of {batch}. {skipped}",
        "skipped": "{count} empty rows were skipped.",
        "progress": "Rows {done}/{total}",
        "file_and_hub": "Give either a file or a Hub dataset, not both (clear the file to read {name}).",
        "hub_id": (
            "{value!r} is not a Hub dataset id: write owner/name (e.g. stanfordnlp/imdb), or owner/name:config "
            "for one configuration of it. Paths and URLs are not accepted."
        ),
        "hub_split_name": "{value!r} is not a split name (e.g. train, test, validation).",
        "hub_off": "This app does not read Hub datasets (the catalog's allow_hub_datasets is off): upload a file instead.",
        "hub_offline": "The app is offline (HF_HUB_OFFLINE=1), so it cannot read {name} from the Hub: upload a file instead.",
        "hub_unreachable": (
            "{name}: the Hugging Face Hub ({endpoint}) {why}. Upload the rows as a file instead; the app asks the "
            "Hub again in {seconds:.0f} s."
        ),
        "hub_slow": "{name}: the Hugging Face Hub did not deliver the rows within {seconds:g} s. Try again, or upload a file.",
        "hub_not_found": "{name}: no such dataset on the Hugging Face Hub ({repo}), or it is private.",
        "hub_gated": (
            "{name} is a gated dataset: accept its conditions on https://huggingface.co/datasets/{repo} and provide "
            "a token (set HF_TOKEN, or run `hf auth login`, where the app runs)."
        ),
        "hub_no_split": "{name}: the dataset has no split {split!r}. Its splits: {splits}.",
        "hub_no_config": "{name}: the dataset has no configuration {config!r}. Its configurations: {configs}.",
        "hub_failed": "{name} could not be read from the Hub: {detail}",
        "hub_stopped": "stopped answering while the rows were read",
        "hub_reading": "Reading {name} from the Hugging Face Hub…",
        "hub_first_rows": "Only the first {limit} rows of {name} were read (the catalog's max_dataset_rows).",
    },
    "ko": {
        "no_file": "먼저 CSV, JSONL 또는 TXT 파일을 올리세요.",
        "wrong_kind": "{name}은(는) CSV, JSONL, TXT 파일이 아닙니다 (이름이 .csv, .jsonl, .txt로 끝나야 합니다).",
        "too_big": "{name}은(는) {size:.1f} MB입니다. 데이터셋 한도는 {limit:g} MB입니다.",
        "not_text": "{name}은(는) UTF-8 텍스트가 아닙니다.",
        "bad_csv": "{name}을(를) CSV로 읽을 수 없습니다: {detail}",
        "bad_jsonl": "{name}, {line}번째 줄: JSON 객체가 아닙니다 ({detail}).",
        "empty": "{name}에 행이 없습니다.",
        "too_many_rows": "{name}에 행이 {count}개 있습니다. 한도는 {limit}개입니다.",
        "no_column": "{name}에 {column!r} 열이 없습니다. 있는 열: {columns}.",
        "pick_column": "텍스트 열을 고르세요. 파일에 열이 여러 개 있습니다 ({columns}).",
        "empty_column": "{column!r} 열의 모든 행에 텍스트가 없습니다.",
        "summary": "{count}행, {seconds:.1f}초 ({rate:.1f}행/초), 배치 크기 {batch}. {skipped}",
        "skipped": "빈 행 {count}개는 건너뛰었습니다.",
        "progress": "행 {done}/{total}",
        "file_and_hub": "파일과 Hub 데이터셋 중 하나만 주세요 ({name}을(를) 읽으려면 파일을 지우세요).",
        "hub_id": (
            "{value!r}은(는) Hub 데이터셋 id가 아닙니다. owner/name(예: stanfordnlp/imdb) 또는 구성 하나를 고르려면 "
            "owner/name:config 형식으로 쓰세요. 경로와 URL은 받지 않습니다."
        ),
        "hub_split_name": "{value!r}은(는) 분할 이름이 아닙니다 (예: train, test, validation).",
        "hub_off": "이 앱은 Hub 데이터셋을 읽지 않습니다 (카탈로그의 allow_hub_datasets가 꺼져 있음). 파일을 올리세요.",
        "hub_offline": "앱이 오프라인(HF_HUB_OFFLINE=1)이라 Hub에서 {name}을(를) 읽을 수 없습니다. 파일을 올리세요.",
        "hub_unreachable": (
            "{name}: Hugging Face Hub({endpoint})가 {why}. 행을 파일로 올리세요. 앱은 {seconds:.0f}초 뒤에 Hub에 "
            "다시 물어봅니다."
        ),
        "hub_slow": "{name}: Hugging Face Hub가 {seconds:g}초 안에 행을 보내지 않았습니다. 다시 시도하거나 파일을 올리세요.",
        "hub_not_found": "{name}: Hugging Face Hub에 그런 데이터셋이 없거나 비공개입니다 ({repo}).",
        "hub_gated": (
            "{name}은(는) 접근이 제한된 데이터셋입니다. https://huggingface.co/datasets/{repo} 에서 조건에 동의하고 "
            "앱이 실행되는 곳에서 토큰을 주세요 (HF_TOKEN 설정 또는 `hf auth login`)."
        ),
        "hub_no_split": "{name}: 데이터셋에 {split!r} 분할이 없습니다. 있는 분할: {splits}.",
        "hub_no_config": "{name}: 데이터셋에 {config!r} 구성이 없습니다. 있는 구성: {configs}.",
        "hub_failed": "Hub에서 {name}을(를) 읽을 수 없습니다: {detail}",
        "hub_stopped": "행을 읽는 도중 응답을 멈췄습니다",
        "hub_reading": "Hugging Face Hub에서 {name}을(를) 읽는 중…",
        "hub_first_rows": "{name}의 처음 {limit}행만 읽었습니다 (카탈로그의 max_dataset_rows).",
    },
}
TEXTS = Texts("datasets", STRINGS)


@dataclass(frozen=True)
class Table:
    """A dataset's rows: every value a string ("" where a row lacks the column)."""

    name: str
    columns: list[str]
    rows: list[dict[str, str]]
    # Set when only the first `max_dataset_rows` rows of a longer Hub split were read.
    first_rows_of: int | None = None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def read_table(path: str | Path | None, max_rows: int, max_mb: float) -> Table:
    """The rows of a CSV (header row first), JSONL (one JSON object a line) or TXT (one text a line) file."""
    if not path:
        raise TEXTS.error("no_file")
    path = Path(path)
    name, kind = path.name, path.suffix.lower()
    if kind not in KINDS:
        raise TEXTS.error("wrong_kind", name=name)
    size = path.stat().st_size
    if size > max_mb * 2**20:
        raise TEXTS.error("too_big", name=name, size=size / 2**20, limit=max_mb)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TEXTS.error("not_text", name=name) from None
    if "\x00" in text:
        raise TEXTS.error("not_text", name=name)
    if kind == ".txt":
        columns, rows = [TXT_COLUMN], [{TXT_COLUMN: line} for line in text.splitlines() if line.strip()]
    elif kind == ".jsonl":
        columns, rows = _read_jsonl(name, text)
    else:
        columns, rows = _read_csv(name, text)
    if not rows:
        raise TEXTS.error("empty", name=name)
    if len(rows) > max_rows:
        raise TEXTS.error("too_many_rows", name=name, count=len(rows), limit=max_rows)
    return Table(name, columns, rows)


def _read_jsonl(name: str, text: str) -> tuple[list[str], list[dict[str, str]]]:
    columns: dict[str, None] = {}
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TEXTS.error("bad_jsonl", name=name, line=number, detail=exc.msg) from None
        if not isinstance(item, dict):
            raise TEXTS.error("bad_jsonl", name=name, line=number, detail=type(item).__name__)
        columns.update(dict.fromkeys(map(str, item)))
        rows.append({str(k): _cell(v) for k, v in item.items()})
    return list(columns), rows


def _read_csv(name: str, text: str) -> tuple[list[str], list[dict[str, str]]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.reader(io.StringIO(text), dialect)
        header = next(reader, None)
        if not header:
            return [], []
        columns = [column.strip() or f"column_{i + 1}" for i, column in enumerate(header)]
        rows = [dict(zip(columns, (cell for cell in record))) for record in reader if any(c.strip() for c in record)]
    except csv.Error as exc:
        raise TEXTS.error("bad_csv", name=name, detail=str(exc)) from None
    return columns, rows


def pick_column(table: Table, column: str | None, preferred: Sequence[str] = ("text", "sentence", "review")) -> str:
    """The column to read: the one named, else the only one, else a usual text column name."""
    column = (column or "").strip()
    if column:
        if column not in table.columns:
            raise TEXTS.error("no_column", name=table.name, column=column, columns=", ".join(table.columns))
        return column
    if len(table.columns) == 1:
        return table.columns[0]
    for name in preferred:
        if name in table.columns:
            return name
    raise TEXTS.error("pick_column", columns=", ".join(table.columns))


def column_values(table: Table, column: str) -> list[str]:
    return [row.get(column, "") for row in table.rows]


@dataclass(frozen=True)
class DatasetRun:
    header: list[str]
    rows: list[list[Any]]
    csv_path: str
    seconds: float
    skipped: int


def run_over_rows(texts: list[str], run_batch: Callable[[list[str]], list[list[Any]]], result_columns: Sequence[str],
                  progress: Callable[[float, str], None] | None = None, batch_size: int = BATCH_SIZE,
                  text_column: str = TXT_COLUMN, prefix: str = "dataset_", lang: str = DEFAULT_LANGUAGE) -> DatasetRun:
    """Run `run_batch` (texts -> one result row each) over the non-empty texts in batches, reporting
    progress; the table (input text, then result columns) is also written as a CSV download."""
    kept = [text for text in texts if text.strip()]
    if not kept:
        raise TEXTS.error("empty_column", column=text_column)
    started = time.perf_counter()
    rows: list[list[Any]] = []
    for first in range(0, len(kept), batch_size):
        batch = kept[first : first + batch_size]
        if progress is not None:
            progress(first / len(kept), TEXTS.get("progress", lang, done=first, total=len(kept)))
        rows += [[text, *result] for text, result in zip(batch, run_batch(batch))]
    if progress is not None:
        progress(1.0, TEXTS.get("progress", lang, done=len(kept), total=len(kept)))
    header = [text_column, *result_columns]
    return DatasetRun(header, rows, write_csv_download(header, rows, prefix), time.perf_counter() - started,
                      len(texts) - len(kept))


def summary(run: DatasetRun, lang: str, batch_size: int = BATCH_SIZE) -> str:
    skipped = TEXTS.get("skipped", lang, count=run.skipped) if run.skipped else ""
    return TEXTS.get("summary", lang, count=len(run.rows), seconds=run.seconds, rate=len(run.rows) / max(run.seconds, 1e-6),
                     batch=batch_size, skipped=skipped).strip()


def open_dataset(path: str | Path | None, column: str | None, limits: Defaults, hub_dataset: str | None = "",
                 hub_split: str | None = "", progress: Any = None, lang: str = DEFAULT_LANGUAGE) -> tuple[Table, str]:
    """The table (an uploaded file's, or a Hub dataset's split when `hub_dataset` is given) and its
    text column, checked before any model loads. `progress` is the handler's gr.Progress."""
    if (hub_dataset or "").strip():
        dataset = parse_hub_dataset(hub_dataset, hub_split)
        if path:
            raise TEXTS.error("file_and_hub", name=dataset.name)
        report = (lambda message: progress(0.0, desc=message)) if progress is not None else None
        table = read_hub_table(dataset, limits, report, lang)
    else:
        table = read_table(path, limits.max_dataset_rows, limits.max_dataset_mb)
    return table, pick_column(table, column)


# ---- Hub datasets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubDataset:
    """A split of a Hub dataset (one configuration of it, or its default)."""

    repo_id: str
    config: str | None
    split: str

    @property
    def name(self) -> str:
        return f"{self.repo_id}{':' + self.config if self.config else ''} ({self.split})"


def parse_hub_dataset(hub_dataset: str | None, hub_split: str | None = "") -> HubDataset:
    """`owner/name` or `owner/name:config`, and a split (empty: train); anything else (a path, a URL,
    `..`) is refused before `datasets` sees it."""
    value = (hub_dataset or "").strip()
    repo_id, _, config = value.partition(":")
    if not HUB_ID_RE.fullmatch(repo_id) or ".." in repo_id or "--" in repo_id or repo_id.endswith("."):
        raise TEXTS.error("hub_id", value=value)
    if config and not HUB_NAME_RE.fullmatch(config):
        raise TEXTS.error("hub_id", value=value)
    split = (hub_split or "").strip() or DEFAULT_SPLIT
    if not HUB_NAME_RE.fullmatch(split):
        raise TEXTS.error("hub_split_name", value=split)
    return HubDataset(repo_id, config or None, split)


def _in_every_language(key: str, why: dict[str, str] | None = None, **params: Any) -> UserError:
    """A message with a part that is itself a {lang: text} phrase (`why`)."""
    return UserError({lang: TEXTS.get(key, lang, **params, **({"why": why[lang]} if why else {})) for lang in LANGUAGES})


def read_hub_table(dataset: HubDataset, limits: Defaults, report: Callable[[str], None] | None = None,
                   lang: str = DEFAULT_LANGUAGE) -> Table:
    """The first `max_dataset_rows` rows of a Hub dataset's split, streamed, as a Table."""
    from playground.loading import hub

    if not limits.allow_hub_datasets:
        raise TEXTS.error("hub_off")
    if hub.offline():
        raise TEXTS.error("hub_offline", name=dataset.name)
    hub.bound_hub_requests()
    try:
        hub.HUB.check(dataset.repo_id)
    except hub.HubUnreachable as exc:
        raise _in_every_language("hub_unreachable", exc.why, name=dataset.name, endpoint=exc.endpoint,
                                 seconds=exc.retry_in) from None
    if report is not None:
        report(TEXTS.get("hub_reading", lang, name=dataset.name))
    started, limit = time.monotonic(), limits.max_dataset_rows
    try:
        rows = _stream_rows(dataset, limit + 1, started + HUB_READ_SECONDS)
    except TimeoutError:
        raise TEXTS.error("hub_slow", name=dataset.name, seconds=HUB_READ_SECONDS) from None
    except Exception as exc:  # every failure of the Hub or of `datasets` gets its own message
        raise hub_error(dataset, exc) from None
    if not rows:
        raise TEXTS.error("empty", name=dataset.name)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    table_rows = [{str(k): _cell(v) for k, v in row.items()} for row in rows[:limit]]
    return Table(dataset.name, columns, table_rows, first_rows_of=limit if len(rows) > limit else None)


def _stream_rows(dataset: HubDataset, count: int, deadline: float) -> list[dict[str, Any]]:
    import datasets

    # hf://datasets/ makes `datasets` look on the Hub only, never in a server folder of the same name.
    stream = datasets.load_dataset(f"hf://datasets/{dataset.repo_id}", dataset.config, split=dataset.split, streaming=True)
    rows = []
    for row in itertools.islice(stream, count):
        rows.append(row)
        if time.monotonic() > deadline:
            raise TimeoutError
    return rows


def hub_error(dataset: HubDataset, exc: BaseException) -> UserError:
    """What a failed Hub dataset read tells the user: not found, gated, no such split or
    configuration, the Hub stopped answering, or the library's own words."""
    from datasets.exceptions import DatasetNotFoundError

    from playground.loading import hub

    text = str(exc)
    name, repo = dataset.name, dataset.repo_id
    if isinstance(exc, DatasetNotFoundError):
        return TEXTS.error("hub_gated" if "gated" in text else "hub_not_found", name=name, repo=repo)
    split = re.search(r"Bad split: .*Available splits: \[(.*)\]", text)
    if split:
        return TEXTS.error("hub_no_split", name=name, split=dataset.split, splits=split.group(1).replace("'", ""))
    config = re.search(r"BuilderConfig .* not found\. Available: \[(.*)\]", text)
    if config:
        return TEXTS.error("hub_no_config", name=name, config=dataset.config, configs=config.group(1).replace("'", ""))
    if hub.network_failure(exc):
        why = TEXTS.render("hub_stopped")
        hub.HUB.record_failure(why)
        return _in_every_language("hub_unreachable", why, name=name, endpoint=hub.HUB.endpoint, seconds=hub.HUB.retry_seconds)
    return TEXTS.error("hub_failed", name=name, detail=f"{type(exc).__name__}: {text}"[:300])


def run_dataset(table: Table, column: str, run_batch: Callable[[list[str]], list[list[Any]]],
                result_columns: Sequence[str], progress: Any, lang: str, prefix: str) -> tuple[str, Any, str]:
    """A tab's dataset endpoint outputs: (summary, results as a pandas DataFrame, CSV path). `progress`
    is the handler's gr.Progress (called with desc=…)."""
    import pandas as pd

    report = (lambda fraction, message: progress(fraction, desc=message)) if progress is not None else None
    run = run_over_rows(column_values(table, column), run_batch, result_columns, report, text_column=column,
                        prefix=prefix, lang=lang)
    text = summary(run, lang)
    if table.first_rows_of:
        text += " " + TEXTS.get("hub_first_rows", lang, limit=table.first_rows_of, name=table.name)
    return text, pd.DataFrame(run.rows, columns=run.header), run.csv_path
