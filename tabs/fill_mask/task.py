"""Fill-mask task logic: one masked sentence completed, and a model's completions compared across groups.

Pure functions over a loaded `fill-mask` pipeline (no Gradio): the sentence checked and rewritten with
the model's own mask token, completions and target-word scores, the group comparison with its tables,
heatmap data and CSV, and the "show code" snippets that reproduce each call.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.core.checks import whole_number_in_range
from playground.core.downloads import write_csv_download
from playground.core.snippets import format_call, format_value, pipeline_snippet
from playground.core.texts import Texts, UserError

TASK = "fill-mask"
# A guard against pasting a whole book before tokenizing; the real limit is the model's own length.
MAX_CHARS = 5000
MAX_TOP_K = 50
MAX_COMPARE_TOP_K = 20
MAX_TEMPLATES = 20
MAX_GROUPS = 20
MAX_TARGETS = 50
# The mask spellings users know: BERT's, RoBERTa's, and a neutral blank of three or more underscores.
MASK_RE = re.compile(r"\[MASK\]|<mask>|_{3,}")
SNIPPET_MASK = "{mask}"
# Probabilities can underflow to 0 in float32; ratios use this floor instead of dividing by zero.
PROBABILITY_FLOOR = 1e-12

# Messages raised or written by the task logic (the tab's labels are in the same files' `fill_mask` section).
TEXTS = Texts.load("fill_mask.task", Path(__file__).with_name("locales"))


# ---- checking and preparing sentences ----------------------------------------------------------


def split_list(text: str | None) -> list[str]:
    """Items separated by commas or new lines, blanks dropped."""
    return [part.strip() for part in re.split(r"[,\n]", text or "") if part.strip()]


def check_text(text: str | None) -> str:
    """Checks that need no model: something written, not absurdly long."""
    if not (text or "").strip():
        raise TEXTS.error("empty")
    if len(text) > MAX_CHARS:
        raise TEXTS.error("too_long", n=len(text), limit=MAX_CHARS)
    return text.strip()


def check_masked_lm(pipe: Any, label: str) -> str:
    """The model's mask token; refuses models that have none."""
    mask_token = getattr(getattr(pipe, "tokenizer", None), "mask_token", None)
    if not mask_token:
        raise TEXTS.error("not_mlm", label=label)
    return mask_token


def mask_spans(text: str, mask_token: str) -> list[tuple[int, int]]:
    """Where the user wrote a mask: the spellings in MASK_RE, or the model's own mask token."""
    spans = [m.span() for m in MASK_RE.finditer(text)]
    if mask_token not in ("[MASK]", "<mask>"):
        spans += [m.span() for m in re.finditer(re.escape(mask_token), text)]
    return sorted(set(spans))


def prepare(pipe: Any, text: str, label: str) -> str:
    """The sentence with the model's own mask token where the user wrote one (exactly one)."""
    text = check_text(text)
    mask_token = check_masked_lm(pipe, label)
    spans = mask_spans(text, mask_token)
    if not spans:
        raise TEXTS.error("no_mask", mask=mask_token)
    if len(spans) > 1:
        raise TEXTS.error("many_masks", n=len(spans), text=text)
    start, end = spans[0]
    sentence = text[:start] + mask_token + text[end:]
    n_tokens = len(pipe.tokenizer(sentence)["input_ids"])
    limit = min(pipe.tokenizer.model_max_length, getattr(pipe.model.config, "max_position_embeddings", None) or 10**9)
    if n_tokens > limit:
        raise TEXTS.error("too_many_tokens", n=n_tokens, limit=limit, label=label)
    return sentence


def snippet_template(template: str) -> str:
    """A template with its mask written as {mask}, for code that fills in each model's own token."""
    return MASK_RE.sub(SNIPPET_MASK, template)


# ---- targets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A word to score, and the token the model scores it by."""

    word: str
    query: str  # what to pass as `targets=` (a leading space picks the mid-sentence form)
    token_id: int
    piece: str  # the token, readable
    pieces: int  # how many tokens the word is for this model


def follows_space(sentence: str, mask_token: str) -> bool:
    index = sentence.find(mask_token)
    return index > 0 and sentence[index - 1].isspace()


def resolve_targets(tokenizer: Any, words: list[str], after_space: bool) -> list[Target]:
    """Each word's token as the pipeline picks it: the first token of the word as written in place.

    BPE vocabularies have a separate token for a word after a space ("Ġnurse"); the pipeline
    tokenizes a target it does not find in the vocabulary and keeps the first token, so " nurse"
    selects the mid-sentence form in every tokenizer family.
    """
    targets = []
    for word in words:
        query = " " + word if after_space else word
        ids = tokenizer(query, add_special_tokens=False)["input_ids"]
        if not ids:
            continue
        piece = tokenizer.convert_ids_to_tokens(ids[0])
        targets.append(
            Target(word, query, ids[0], tokenizer.convert_tokens_to_string([piece]).strip() or piece, len(ids))
        )
    return targets


def split_targets(targets: list[Target]) -> list[Target]:
    return [t for t in targets if t.pieces != 1]


def multi_token_note(targets: list[Target], label: str, lang: str) -> str:
    split = split_targets(targets)
    if not split:
        return ""
    words = ", ".join(f"{t.word} → {t.piece!r} ({t.pieces} pieces)" for t in split)
    return TEXTS.get("multi_token", lang, label=label, words=words)


def score_targets(pipe: Any, sentence: str, targets: list[Target]) -> dict[str, float]:
    """Probability of each target word's token at the mask (words sharing a first piece share it)."""
    tokens = list(dict.fromkeys(pipe.tokenizer.convert_ids_to_tokens(t.token_id) for t in targets))
    results = pipe(sentence, targets=tokens, top_k=len(tokens))
    by_id = {int(r["token"]): float(r["score"]) for r in results}
    return {t.word: by_id[t.token_id] for t in targets}


def top_completions(pipe: Any, sentence: str, top_k: int) -> list[tuple[str, float]]:
    return [(r["token_str"].strip(), float(r["score"])) for r in pipe(sentence, top_k=int(top_k))]


def check_top_k(top_k: Any, limit: int) -> int:
    """`top_k` as a whole number in [1, limit], or the tab's message."""
    return whole_number_in_range(top_k, 1, limit, lambda: TEXTS.error("bad_top_k", limit=limit))


def check_targets(targets: str | None) -> list[str]:
    """The target words (comma or new-line separated), each once, at most MAX_TARGETS."""
    words = list(dict.fromkeys(split_list(targets)))
    if len(words) > MAX_TARGETS:
        raise TEXTS.error("too_many_targets", n=len(words), limit=MAX_TARGETS)
    return words


@dataclass(frozen=True)
class Completion:
    """What one /fill_mask call computed."""

    scores: dict[str, float]  # word -> probability, best first
    sentence: str  # as the model saw it (its own mask token)
    targets: list[Target]  # the targets as this model scores them (empty: the top k)
    note: str  # the multi-token note, or ""


def complete(pipe: Any, text: str, label: str, top_k: int, words: list[str], lang: str) -> Completion:
    """The top-k completions of `text`'s mask, or only the target `words`' probabilities."""
    sentence = prepare(pipe, text, label)
    if not words:
        return Completion(dict(top_completions(pipe, sentence, top_k)), sentence, [], "")
    targets = resolve_targets(pipe.tokenizer, words, follows_space(sentence, pipe.tokenizer.mask_token))
    scores = dict(sorted(score_targets(pipe, sentence, targets).items(), key=lambda kv: -kv[1]))
    return Completion(scores, sentence, targets, multi_token_note(targets, label, lang))


# ---- over a dataset ---------------------------------------------------------------------------


def dataset_columns(top_k: int) -> list[str]:
    """The result columns of a dataset run: the sentence as the model saw it, top_k token/score pairs, a note."""
    return ["sentence", *(f"{kind}_{rank}" for rank in range(1, top_k + 1) for kind in ("token", "score")), "note"]


def fill_rows(pipe: Any, texts: list[str], label: str, top_k: int, lang: str, batch_size: int) -> list[list[Any]]:
    """One row per text (see dataset_columns), the fillable sentences through the pipeline in one batched call.

    A row the model cannot fill (no mask, several masks, too long) keeps its place with the reason in
    its note instead of failing the run: a class's dataset is rarely clean, and one stray row should
    neither hide the other rows' results nor cost a second run after the model has loaded.
    """
    check_masked_lm(pipe, label)  # a model with no mask token fails the whole run, with its message
    sentences: list[str | None] = []
    notes: list[str] = []
    for text in texts:
        try:
            sentences.append(prepare(pipe, text, label))
            notes.append("")
        except UserError as exc:
            sentences.append(None)
            notes.append(exc.in_language(lang))
    fillable = [sentence for sentence in sentences if sentence is not None]
    results = pipe(fillable, top_k=top_k, batch_size=batch_size) if fillable else []
    if len(fillable) == 1:  # the pipeline unwraps a list of one
        results = [results]
    predictions = iter(results)
    rows: list[list[Any]] = []
    for sentence, note in zip(sentences, notes):
        cells: list[Any] = []
        if sentence is not None:
            cells = [
                value for r in next(predictions) for value in (r["token_str"].strip(), round(float(r["score"]), 6))
            ]
        cells += [None] * (2 * top_k - len(cells))  # a vocabulary smaller than top_k, or a row not filled
        rows.append([sentence, *cells, note])
    return rows


# ---- group comparison --------------------------------------------------------------------------


@dataclass
class Comparison:
    """Everything one /compare_bias call computed, per model, template and group."""

    groups: list[str]
    templates: list[str]
    # (model label, template, group) -> [(word, probability)]
    top: dict[tuple[str, str, str], list[tuple[str, float]]] = field(default_factory=dict)
    # (model label, target word) -> group -> [probability per template]
    target_scores: dict[tuple[str, str], dict[str, list[float]]] = field(default_factory=dict)
    # (model label, target word) -> the token it was scored by
    target_pieces: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(model for model, _, _ in self.top))


def check_groups(groups: str | None) -> list[str]:
    group_list = split_list(groups)
    if len(group_list) < 2:
        raise TEXTS.error("few_groups")
    seen: set[str] = set()
    duplicates = [g for g in group_list if g.casefold() in seen or seen.add(g.casefold())]
    if duplicates:
        raise TEXTS.error("duplicate_groups", groups=", ".join(dict.fromkeys(duplicates)))
    if len(group_list) > MAX_GROUPS:
        raise TEXTS.error("too_many_groups", n=len(group_list), limit=MAX_GROUPS)
    return group_list


def new_comparison(templates: str | None, groups: str | None) -> Comparison:
    """An empty comparison of checked templates and groups (refused with a message when unusable)."""
    return Comparison(groups=check_groups(groups), templates=check_templates(templates))


def check_templates(templates: str | None) -> list[str]:
    lines = [line.strip() for line in (templates or "").splitlines() if line.strip()]
    if not lines:
        raise TEXTS.error("no_templates")
    if len(lines) > MAX_TEMPLATES:
        raise TEXTS.error("too_many_templates", n=len(lines), limit=MAX_TEMPLATES)
    for line in lines:
        check_text(line)
        if "{group}" not in line:
            raise TEXTS.error("no_group", line=line)
    return lines


def compare_model(pipe: Any, label: str, comparison: Comparison, words: list[str], top_k: int) -> list[Target]:
    """Fill every template x group with one model; returns the targets as this model tokenizes them."""
    resolved: list[Target] = []
    for template in comparison.templates:
        for group in comparison.groups:
            sentence = prepare(pipe, template.replace("{group}", group), label)
            comparison.top[(label, template, group)] = top_completions(pipe, sentence, top_k)
            if not words:
                continue
            targets = resolve_targets(pipe.tokenizer, words, follows_space(sentence, pipe.tokenizer.mask_token))
            resolved = resolved or targets
            for target in targets:
                comparison.target_pieces[(label, target.word)] = target.piece
            for word, probability in score_targets(pipe, sentence, targets).items():
                per_group = comparison.target_scores.setdefault((label, word), {g: [] for g in comparison.groups})
                per_group[group].append(probability)
    return resolved


def log2_ratio(p: float, q: float) -> float:
    return math.log2(max(p, PROBABILITY_FLOOR) / max(q, PROBABILITY_FLOOR))


@dataclass(frozen=True)
class TargetSummary:
    model: str
    target: str
    means: dict[str, float]
    spreads: dict[str, float]
    ratios: list[float]  # log2 p(first group) / p(each other group)
    skew: float  # log2 max/min over groups


def summarize(comparison: Comparison) -> list[TargetSummary]:
    """Per model and target: mean and spread over templates per group, log2 ratios; most skewed first."""
    groups = comparison.groups
    summaries = []
    for (model, target), per_group in comparison.target_scores.items():
        means = {g: statistics.fmean(per_group[g]) for g in groups}
        spreads = {g: statistics.pstdev(per_group[g]) for g in groups}
        ratios = [log2_ratio(means[groups[0]], means[g]) for g in groups[1:]]
        skew = log2_ratio(max(means.values()), min(means.values()))
        summaries.append(TargetSummary(model, target, means, spreads, ratios, skew))
    return sorted(summaries, key=lambda s: -s.skew)


def column_names(groups: list[str], lang: str) -> tuple[list[str], list[str]]:
    """Headers of the target table and of the heatmap."""
    ratio_columns = [TEXTS.get("col_ratio", lang, g1=groups[0], g2=g) for g in groups[1:]]
    lead = [TEXTS.get("col_model", lang), TEXTS.get("col_target", lang)]
    stats = [TEXTS.get(key, lang, group=g) for g in groups for key in ("col_mean", "col_spread")]
    table = [*lead, *stats, *ratio_columns, TEXTS.get("col_skew", lang)]
    heatmap = [*lead, *groups, *ratio_columns]
    return table, heatmap


def top_table(comparison: Comparison, lang: str) -> dict[str, Any]:
    """Side by side: one row per model and template, one column per group of 'word (p)' lists."""
    headers = [TEXTS.get("col_model", lang), TEXTS.get("col_template", lang), *comparison.groups]
    rows = []
    for model in comparison.models:
        for template in comparison.templates:
            cells = [
                ", ".join(f"{w} ({p:.3f})" for w, p in comparison.top[(model, template, g)]) for g in comparison.groups
            ]
            rows.append([model, template, *cells])
    return {"headers": headers, "data": rows}


def target_table(summaries: list[TargetSummary], groups: list[str], lang: str) -> dict[str, Any]:
    headers, _ = column_names(groups, lang)
    rows = [
        [s.model, s.target, *(v for g in groups for v in (s.means[g], s.spreads[g])), *s.ratios, s.skew]
        for s in summaries
    ]
    return {"headers": headers, "data": rows or [[""] * len(headers)]}


def _diverging(value: float, limit: float = 3.0) -> str:
    """A CSS background from blue (negative) through white to red (positive)."""
    x = max(-1.0, min(1.0, value / limit))
    fade = int(255 * (1 - abs(x)))
    colour = f"#ff{fade:02x}{fade:02x}" if x > 0 else f"#{fade:02x}{fade:02x}ff"
    return f"background-color: {colour}; color: black"


def heatmap(summaries: list[TargetSummary], groups: list[str], lang: str) -> Any:
    """Mean probabilities per group (and the log2 ratios), coloured by how far each group's
    probability is above or below the row's geometric mean, so a skewed word stands out whatever
    its overall frequency. Rows keep the most-skewed-first order."""
    import pandas as pd

    _, headers = column_names(groups, lang)
    rows = [[s.model, s.target, *(s.means[g] for g in groups), *s.ratios] for s in summaries]
    frame = pd.DataFrame(rows, columns=headers)
    if not rows:
        return frame

    def colour_row(row: Any) -> list[str]:
        logs = [math.log2(max(row[g], PROBABILITY_FLOOR)) for g in headers[2 : 2 + len(groups)]]
        centre = statistics.fmean(logs)
        styles = ["", ""] + [_diverging(v - centre) for v in logs]
        return styles + [_diverging(row[c]) for c in headers[2 + len(groups) :]]

    columns = headers[2:]
    return frame.style.apply(colour_row, axis=1).format("{:.3g}", subset=columns)


def write_csv(comparison: Comparison, summaries: list[TargetSummary]) -> str:
    """Every number of the comparison in one tidy table (one number per row, `kind` says which)."""
    header = ["kind", "model", "template", "group", "word", "rank", "value", "spread", "scored_as"]
    rows: list[list[Any]] = []
    for (model, template, group), completions in comparison.top.items():
        rows += [["top_k", model, template, group, w, rank, p, "", ""] for rank, (w, p) in enumerate(completions, 1)]
    for (model, target), per_group in comparison.target_scores.items():
        piece = comparison.target_pieces.get((model, target), "")
        for group, values in per_group.items():
            rows += [
                ["target", model, t, group, target, "", p, "", piece] for t, p in zip(comparison.templates, values)
            ]
    groups = comparison.groups
    for s in summaries:
        piece = comparison.target_pieces.get((s.model, s.target), "")
        rows += [["target_mean", s.model, "", g, s.target, "", s.means[g], s.spreads[g], piece] for g in groups]
        rows += [
            ["log2_ratio", s.model, "", f"{groups[0]}/{g}", s.target, "", r, "", piece]
            for g, r in zip(groups[1:], s.ratios)
        ]
        rows.append(["skew_log2_max_min", s.model, "", "", s.target, "", s.skew, "", piece])
    return write_csv_download(header, rows, prefix="bias_")


@dataclass(frozen=True)
class BiasReport:
    """What /compare_bias shows: the side-by-side table, the target table, the CSV, the note, the heatmap."""

    top: dict[str, Any]
    targets: dict[str, Any]
    csv_path: str
    note: str
    heatmap: Any


def report(comparison: Comparison, labels: list[str], notes: list[str], lang: str) -> BiasReport:
    """Tables, CSV, heatmap and the what-the-numbers-are note for a finished comparison.

    `labels`: the compared models' labels; `notes`: extra notes (per model's multi-token words).
    """
    summaries = summarize(comparison)
    note = TEXTS.get(
        "bias_note", lang, models=", ".join(labels), n_templates=len(comparison.templates), g1=comparison.groups[0]
    )
    return BiasReport(
        top=top_table(comparison, lang),
        targets=target_table(summaries, comparison.groups, lang),
        csv_path=write_csv(comparison, summaries),
        note="\n\n".join([note, *filter(None, notes)]),
        heatmap=heatmap(summaries, comparison.groups, lang),
    )


# ---- code snippets ----------------------------------------------------------------------------


def fill_snippet(model_id: str, load_kwargs: dict[str, Any], sentence: str, top_k: int, targets: list[Target]) -> str:
    """The pipeline loaded as the app loaded it (`load_kwargs`: snippet_load_kwargs), called as the app called it."""
    kwargs: dict[str, Any] = {"top_k": top_k}
    if targets:
        # The app passes the same words; a leading space selects the mid-sentence token.
        kwargs = {"targets": [t.query for t in targets], "top_k": len({t.token_id for t in targets})}
    return pipeline_snippet(TASK, model_id, [sentence], kwargs, load_kwargs)


def compare_snippet(
    models: dict[str, dict[str, Any]], templates: list[str], groups: list[str], words: list[str], top_k: int
) -> str:
    """Every model x template x group, printing the top completions and each target's probability.

    `models`: model id -> the pipeline() keyword arguments the app loaded it with (snippet_load_kwargs).
    """
    pipes = ",\n".join(
        f"    {model_id!r}: " + format_call("pipeline", [TASK], {"model": model_id, **kwargs}).replace("\n", "\n    ")
        for model_id, kwargs in models.items()
    )
    lines = [
        "from transformers import pipeline",
        "",
        "pipes = {\n" + pipes + ",\n}",
        "templates = " + format_value([snippet_template(t) for t in templates]),
        "groups = " + format_value(groups),
        "targets = " + format_value(words),
        "",
        "for model, pipe in pipes.items():",
        "    mask = pipe.tokenizer.mask_token  # [MASK], <mask>, ...: each model has its own",
        "    for template in templates:",
        "        for group in groups:",
        '            sentence = template.replace("{group}", group).replace("{mask}", mask)',
        f"            for r in pipe(sentence, top_k={top_k}):",
        '                print(model, "|", sentence, "| top |", r["token_str"].strip(), r["score"])',
    ]
    if words:
        lines += [
            '            # A word after a space is its own token in BPE vocabularies ("Ġnurse"): keep the space.',
            '            space = " " if sentence[sentence.index(mask) - 1 : sentence.index(mask)] == " " else ""',
            "            queries = [space + word for word in targets]",
            '            scores = {r["token"]: r["score"] for r in pipe(sentence, targets=queries, top_k=len(queries))}',
            "            for word, query in zip(targets, queries):",
            '                token = pipe.tokenizer(query, add_special_tokens=False)["input_ids"][0]',
            '                print(model, "|", sentence, "| target |", word, scores[token])',
        ]
    return "\n".join(lines) + "\n"
