"""The Fill-mask tab: complete a masked sentence, and probe how a model's completions differ between groups.

Endpoints:
- `/fill_mask(text, model, top_k=5, targets="")` -> completions, the sentence as the model saw it,
  a note, code.
- `/compare_bias(templates, groups, model, targets="", top_k=5, models=None)` -> top-k per group
  side by side, target probabilities per group, CSV, note, code, heatmap. `models` (several
  catalog models at once) overrides `model` when given.
"""

from __future__ import annotations

import csv
import functools
import math
import re
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from playground.errors import guarded
from playground.snippets import Raw, format_call, format_value, pipeline_snippet
from playground.texts import Texts, request_language
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker

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
PRESETS_PATH = Path(__file__).with_name("bias_presets.yaml")
# Probabilities can underflow to 0 in float32; ratios use this floor instead of dividing by zero.
PROBABILITY_FLOOR = 1e-12

STRINGS = {
    "en": {
        "title": "Fill mask",
        "text": "Sentence with one mask ([MASK], <mask> or ___)",
        "top_k": "Top k",
        "targets": "Target words (optional, comma-separated): score only these words",
        "completions": "Completions",
        "seen": "Sentence as the model saw it",
        "compare": "Compare groups",
        "compare_intro": (
            "Write templates with a `{group}` slot and a mask; every group is put in the slot and the "
            "model fills the mask. Target words get a probability for every group, even outside the top k."
        ),
        "templates": "Templates (one per line, each with {group} and a mask)",
        "groups": "Groups (comma-separated or one per line, at least 2)",
        "models": "Models to compare (several at once; empty: the model above)",
        "preset": "Preset",
        "top_table": "Top completions per group, side by side",
        "target_table": "Target words: mean probability and spread over templates, log2 ratios (most skewed first)",
        "heatmap": "Heatmap: mean probability per group (red: more likely for that group than for the others, blue: less)",
        "csv": "Every number shown (CSV)",
        "no_mask": "Write a mask in the sentence: [MASK], <mask> or ___ (this model's own mask is {mask}).",
        "many_masks": "Exactly one mask per sentence is supported; found {n} in {text!r}. Ask about one blank at a time.",
        "empty": "Write a sentence first.",
        "too_long": "The text is {n} characters; the limit is {limit}.",
        "too_many_tokens": "The text is {n} tokens for {label}; this model reads at most {limit}. Shorten it.",
        "no_group": "Template {line!r} has no {{group}} slot; write {{group}} where the group goes.",
        "few_groups": "Give at least 2 groups to compare, comma-separated (e.g. he, she).",
        "duplicate_groups": "These groups appear more than once: {groups}.",
        "too_many_groups": "Too many groups: {n}. The limit is {limit}.",
        "too_many_templates": "Too many templates: {n}. The limit is {limit}.",
        "too_many_targets": "Too many target words: {n}. The limit is {limit}.",
        "no_templates": "Write at least one template.",
        "bad_top_k": "Top k must be between 1 and {limit}.",
        "not_mlm": "{label} is not a masked language model, so it cannot fill a mask. Choose a model such as BERT or RoBERTa.",
        "multi_token": (
            "Not one token for {label}: {words}. Each is scored by its first piece only (the pipeline's "
            "rule), so its number is the probability of that piece, not of the whole word."
        ),
        "bias_note": (
            "**What the numbers are.** Each number is the probability {models} gives to a word in the "
            "masked position of a template sentence, averaged over {n_templates} template(s); *spread* "
            "is how much the templates disagree (standard deviation). A log2 ratio of +1 means the word "
            "is twice as likely with {g1} as with the other group, −1 half as likely, 0 equally likely.\n\n"
            "**What they are not.** They show word statistics the model picked up from its training "
            "text, in these sentences only. They are not a measure of harm, of the model's behaviour "
            "in an application, or of anything about real people; other wordings can give other "
            "numbers, so one template is a weak signal. A random-weight test model gives noise."
        ),
        "col_model": "model",
        "col_template": "template",
        "col_target": "target",
        "col_mean": "{group} mean",
        "col_spread": "{group} spread",
        "col_ratio": "log2 p({g1})/p({g2})",
        "col_skew": "skew log2 max/min",
        "preset_course_example": "The course's example (man / woman, occupations)",
        "preset_occupations": "Occupations (he / she, several templates)",
        "preset_adjectives": "Adjectives (man / woman, several templates)",
        "about": (
            "The `fill-mask` pipeline puts the model's own mask token where you wrote a blank "
            "(`[MASK]` for BERT-style models, `<mask>` for RoBERTa-style ones) and scores every word "
            "of its vocabulary for that one position; the numbers are those probabilities. With "
            "`targets` only the given words are scored, so a word gets a number even when it is far "
            "from the top. The group comparison is the Hugging Face course's bias lesson: the same "
            "sentence with *man* and *woman* gets different completions."
        ),
    },
    "ko": {
        "title": "빈칸 채우기",
        "text": "마스크 하나가 있는 문장 ([MASK], <mask> 또는 ___)",
        "top_k": "상위 k",
        "targets": "대상 단어 (선택, 쉼표로 구분): 이 단어들만 점수를 매깁니다",
        "completions": "완성 후보",
        "seen": "모델이 본 문장",
        "compare": "집단 비교",
        "compare_intro": (
            "`{group}` 자리와 마스크가 있는 템플릿을 쓰세요. 각 집단을 그 자리에 넣고 모델이 마스크를 "
            "채웁니다. 대상 단어는 상위 k 밖에 있어도 집단마다 확률을 받습니다."
        ),
        "templates": "템플릿 (한 줄에 하나, {group}과 마스크 포함)",
        "groups": "집단 (쉼표로 구분하거나 한 줄에 하나, 2개 이상)",
        "models": "비교할 모델 (여러 개 가능, 비우면 위의 모델)",
        "preset": "예시",
        "top_table": "집단별 상위 완성 후보 나란히 보기",
        "target_table": "대상 단어: 템플릿 평균 확률과 편차, log2 비 (치우침이 큰 순)",
        "heatmap": "히트맵: 집단별 평균 확률 (빨강: 그 집단에서 다른 집단보다 더 높음, 파랑: 더 낮음)",
        "csv": "보이는 모든 숫자 (CSV)",
        "no_mask": "문장에 마스크를 쓰세요: [MASK], <mask> 또는 ___ (이 모델의 마스크는 {mask}입니다).",
        "many_masks": "문장마다 마스크는 하나만 지원합니다. {text!r}에서 {n}개를 찾았습니다. 빈칸을 하나씩 물어보세요.",
        "empty": "먼저 문장을 쓰세요.",
        "too_long": "텍스트가 {n}자입니다. 한도는 {limit}자입니다.",
        "too_many_tokens": "텍스트가 {label}에서 {n}토큰입니다. 이 모델은 최대 {limit}토큰을 읽습니다. 줄여 주세요.",
        "no_group": "템플릿 {line!r}에 {{group}} 자리가 없습니다. 집단이 들어갈 곳에 {{group}}을 쓰세요.",
        "few_groups": "비교할 집단을 쉼표로 구분해 2개 이상 쓰세요 (예: he, she).",
        "duplicate_groups": "두 번 이상 나온 집단: {groups}.",
        "too_many_groups": "집단이 너무 많습니다: {n}개. 한도는 {limit}개입니다.",
        "too_many_templates": "템플릿이 너무 많습니다: {n}개. 한도는 {limit}개입니다.",
        "too_many_targets": "대상 단어가 너무 많습니다: {n}개. 한도는 {limit}개입니다.",
        "no_templates": "템플릿을 하나 이상 쓰세요.",
        "bad_top_k": "상위 k는 1에서 {limit} 사이여야 합니다.",
        "not_mlm": "{label}은(는) 마스크 언어 모델이 아니어서 빈칸을 채울 수 없습니다. BERT나 RoBERTa 같은 모델을 고르세요.",
        "multi_token": (
            "{label}에서 한 토큰이 아닌 단어: {words}. 파이프라인 규칙대로 첫 조각만 점수를 매기므로, 그 숫자는 "
            "단어 전체가 아니라 그 조각의 확률입니다."
        ),
        "bias_note": (
            "**숫자의 뜻.** 각 숫자는 {models}이(가) 템플릿 문장의 마스크 자리에 그 단어를 넣을 확률을 "
            "{n_templates}개 템플릿에 대해 평균한 값입니다. *편차*는 템플릿끼리 얼마나 다른지(표준편차)입니다. "
            "log2 비가 +1이면 그 단어가 {g1}일 때 다른 집단보다 두 배, −1이면 절반, 0이면 같은 확률입니다.\n\n"
            "**숫자가 뜻하지 않는 것.** 모델이 학습 텍스트에서 익힌 단어 통계를 이 문장들에서만 보여 줍니다. "
            "해악의 척도도, 응용에서 모델이 하는 행동도, 실제 사람에 대한 사실도 아닙니다. 표현을 바꾸면 "
            "숫자가 달라질 수 있으니 템플릿 하나는 약한 신호입니다. 무작위 가중치 테스트 모델은 잡음을 냅니다."
        ),
        "col_model": "모델",
        "col_template": "템플릿",
        "col_target": "대상",
        "col_mean": "{group} 평균",
        "col_spread": "{group} 편차",
        "col_ratio": "log2 비율 p({g1})/p({g2})",
        "col_skew": "치우침 log2 최대/최소",
        "preset_course_example": "강좌 예제 (man / woman, 직업)",
        "preset_occupations": "직업 (he / she, 여러 템플릿)",
        "preset_adjectives": "형용사 (man / woman, 여러 템플릿)",
        "about": (
            "`fill-mask` 파이프라인은 빈칸 자리에 모델 자신의 마스크 토큰(BERT 계열은 `[MASK]`, RoBERTa "
            "계열은 `<mask>`)을 넣고, 그 한 자리에 대해 어휘의 모든 단어에 점수를 매깁니다. 숫자는 그 확률입니다. "
            "`targets`를 주면 그 단어들만 점수를 매기므로 상위권 밖의 단어도 숫자를 받습니다. 집단 비교는 "
            "Hugging Face 강좌의 편향 수업입니다. 같은 문장이라도 *man*과 *woman*에 따라 완성 후보가 달라집니다."
        ),
    },
}
TEXTS = Texts("fill_mask", STRINGS)


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
        targets.append(Target(word, query, ids[0], tokenizer.convert_tokens_to_string([piece]).strip() or piece, len(ids)))
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
    value = int(top_k)
    if not 1 <= value <= limit:
        raise TEXTS.error("bad_top_k", limit=limit)
    return value


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
            cells = [", ".join(f"{w} ({p:.3f})" for w, p in comparison.top[(model, template, g)]) for g in comparison.groups]
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
            rows += [["target", model, t, group, target, "", p, "", piece] for t, p in zip(comparison.templates, values)]
    groups = comparison.groups
    for s in summaries:
        piece = comparison.target_pieces.get((s.model, s.target), "")
        rows += [["target_mean", s.model, "", g, s.target, "", s.means[g], s.spreads[g], piece] for g in groups]
        rows += [["log2_ratio", s.model, "", f"{groups[0]}/{g}", s.target, "", r, "", piece] for g, r in zip(groups[1:], s.ratios)]
        rows.append(["skew_log2_max_min", s.model, "", "", s.target, "", s.skew, "", piece])
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="bias_", delete=False, newline="", encoding="utf-8")
    with handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return handle.name


# ---- code snippets ----------------------------------------------------------------------------


def fill_snippet(model_id: str, sentence: str, top_k: int, targets: list[Target]) -> str:
    kwargs: dict[str, Any] = {"top_k": top_k}
    if targets:
        # The app passes the same words; a leading space selects the mid-sentence token.
        kwargs = {"targets": [t.query for t in targets], "top_k": len({t.token_id for t in targets})}
    return pipeline_snippet(TASK, model_id, [sentence], kwargs)


def compare_snippet(model_ids: list[str], templates: list[str], groups: list[str], words: list[str], top_k: int) -> str:
    """Every model x template x group, printing the top completions and each target's probability."""
    lines = [
        "from transformers import pipeline",
        "",
        "models = " + format_value(model_ids),
        "templates = " + format_value([snippet_template(t) for t in templates]),
        "groups = " + format_value(groups),
        "targets = " + format_value(words),
        "",
        "for model in models:",
        "    pipe = " + format_call("pipeline", ["fill-mask"], {"model": Raw("model")}),
        "    mask = pipe.tokenizer.mask_token  # [MASK], <mask>, ...: each model has its own",
        "    for template in templates:",
        "        for group in groups:",
        '            sentence = template.replace("{group}", group).replace("{mask}", mask)',
        f"            for r in pipe(sentence, top_k={top_k}):",
        '                print(model, "|", sentence, "| top |", r["token_str"].strip(), r["score"])',
    ]
    if words:
        lines += [
            "            # A word after a space is its own token in BPE vocabularies (\"Ġnurse\"): keep the space.",
            '            space = " " if sentence[sentence.index(mask) - 1 : sentence.index(mask)] == " " else ""',
            "            queries = [space + word for word in targets]",
            "            scores = {r[\"token\"]: r[\"score\"] for r in pipe(sentence, targets=queries, top_k=len(queries))}",
            "            for word, query in zip(targets, queries):",
            "                token = pipe.tokenizer(query, add_special_tokens=False)[\"input_ids\"][0]",
            '                print(model, "|", sentence, "| target |", word, scores[token])',
        ]
    return "\n".join(lines) + "\n"


# ---- presets ----------------------------------------------------------------------------------


def load_presets() -> dict[str, dict[str, str]]:
    return yaml.safe_load(PRESETS_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def _config_is_masked_lm(source: str, revision: str | None) -> bool:
    # A config does not change while the app runs, and reading it costs every request time (and a Hub
    # round trip for a Hub id, bounded by playground.hub). A failed read raises, and lru_cache keeps only answers.
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    from playground.hub import HUB

    return HUB.read_config(source, revision).model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def is_masked_lm(source: str, entry: Any, progress: Any = None) -> bool | None:
    """Whether the model's config is a masked-LM architecture; None when the config cannot be read
    here (not downloaded yet, remote code, the Hub does not answer): loading then reports the real reason."""
    from playground.hub import HUB

    if entry.trust_remote_code:
        return None
    try:
        HUB.ensure_config_readable(source, entry.revision, progress)  # says what it waits for
        return _config_is_masked_lm(source, entry.revision)
    except Exception:  # any reason: the model load that follows explains it
        return None


# ---- UI ---------------------------------------------------------------------------------------


def build(ctx: TabContext) -> None:
    import gradio as gr

    def load_masked_lm(model: str | None, progress: Any) -> Any:
        """The loaded pipeline; a catalog model of another kind gets a clear message, not a load error."""
        entry = ctx.entry(model, TASK)
        if is_masked_lm(ctx.catalog.resolve_path(entry), entry, lambda done, message: progress(done, desc=message)) is False:
            raise TEXTS.error("not_mlm", label=entry.label)
        return ctx.load(model, TASK, progress)

    def fill_mask(text: str, model: str = ctx.default_model(TASK), top_k: int = 5, targets: str = "",
                  progress: Any = gr.Progress(), request: Any = None) -> tuple[dict[str, float], str, str, str]:
        lang = request_language(request)
        check_text(text)
        top_k = check_top_k(top_k, MAX_TOP_K)
        words = split_list(targets)
        if len(words) > MAX_TARGETS:
            raise TEXTS.error("too_many_targets", n=len(words), limit=MAX_TARGETS)
        loaded = load_masked_lm(model, progress)
        pipe = loaded.model
        sentence = prepare(pipe, text, loaded.entry.label)
        if words:
            resolved = resolve_targets(pipe.tokenizer, words, follows_space(sentence, pipe.tokenizer.mask_token))
            scores = dict(sorted(score_targets(pipe, sentence, resolved).items(), key=lambda kv: -kv[1]))
            note = multi_token_note(resolved, loaded.entry.label, lang)
        else:
            resolved, scores, note = [], dict(top_completions(pipe, sentence, top_k)), ""
        return scores, sentence, note, fill_snippet(loaded.entry.id, sentence, top_k, resolved)

    def compare_bias(templates: str, groups: str, model: str = ctx.default_model(TASK), targets: str = "",
                     top_k: int = 5, models: list[str] | None = None, progress: Any = gr.Progress(),
                     request: Any = None) -> tuple[Any, Any, str, str, str, Any]:
        lang = request_language(request)
        comparison = Comparison(groups=check_groups(groups), templates=check_templates(templates))
        words = list(dict.fromkeys(split_list(targets)))
        if len(words) > MAX_TARGETS:
            raise TEXTS.error("too_many_targets", n=len(words), limit=MAX_TARGETS)
        top_k = check_top_k(top_k, MAX_COMPARE_TOP_K)
        refs = list(dict.fromkeys(m for m in (models or []) if m and str(m).strip())) or [model]
        entries = [ctx.entry(ref, TASK) for ref in refs]  # unknown models fail before anything loads
        notes, model_ids = [], []
        for ref, entry in zip(refs, entries):
            loaded = load_masked_lm(ref, progress)
            resolved = compare_model(loaded.model, entry.label, comparison, words, top_k)
            notes.append(multi_token_note(resolved, entry.label, lang))
            model_ids.append(loaded.entry.id)
        summaries = summarize(comparison)
        note = TEXTS.get("bias_note", lang, models=", ".join(e.label for e in entries),
                         n_templates=len(comparison.templates), g1=comparison.groups[0])
        note = "\n\n".join([note, *filter(None, notes)])
        code = compare_snippet(model_ids, comparison.templates, comparison.groups, words, top_k)
        return (top_table(comparison, lang), target_table(summaries, comparison.groups, lang),
                write_csv(comparison, summaries), note, code, heatmap(summaries, comparison.groups, lang))

    presets = load_presets()

    def apply_preset(name: str) -> tuple[str, str, str]:
        preset = presets[name]
        return preset["templates"], preset["groups"], preset["targets"]

    model = model_picker(ctx, TASK)
    text = gr.Textbox(label=TEXTS.ui("text"), value="Paris is the [MASK] of France.")
    with gr.Row():
        top_k = gr.Slider(1, MAX_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
        targets = gr.Textbox(label=TEXTS.ui("targets"))
    run = gr.Button(COMMON.ui("run"), variant="primary")
    completions = gr.Label(label=TEXTS.ui("completions"))
    seen = gr.Textbox(label=TEXTS.ui("seen"))
    note = gr.Markdown()
    code = code_panel()
    run.click(guarded(fill_mask, gpu=True), [text, model, top_k, targets], [completions, seen, note, code], api_name="fill_mask")

    gr.Markdown("### " + TEXTS.get("compare"))
    gr.Markdown(TEXTS.ui("compare_intro"))
    preset = gr.Dropdown([(TEXTS.ui(f"preset_{name}"), name) for name in presets], label=TEXTS.ui("preset"))
    first = presets[next(iter(presets))]
    templates = gr.Textbox(label=TEXTS.ui("templates"), lines=3, value=first["templates"])
    with gr.Row():
        groups = gr.Textbox(label=TEXTS.ui("groups"), value=first["groups"])
        b_targets = gr.Textbox(label=TEXTS.ui("targets"), value=first["targets"])
    with gr.Row():
        compare_models = gr.Dropdown(ctx.model_choices(TASK), value=[], multiselect=True, allow_custom_value=True,
                                     label=TEXTS.ui("models"))
        b_top_k = gr.Slider(1, MAX_COMPARE_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
    preset.change(apply_preset, [preset], [templates, groups, b_targets])
    compare = gr.Button(TEXTS.ui("compare"), variant="primary")
    top_view = gr.Dataframe(label=TEXTS.ui("top_table"), interactive=False, wrap=True)
    heatmap_view = gr.Dataframe(label=TEXTS.ui("heatmap"), interactive=False)
    target_view = gr.Dataframe(label=TEXTS.ui("target_table"), interactive=False)
    b_note = gr.Markdown()
    csv_file = gr.File(label=TEXTS.ui("csv"))
    b_code = code_panel()
    compare.click(guarded(compare_bias, gpu=True), [templates, groups, model, b_targets, b_top_k, compare_models],
                  [top_view, target_view, csv_file, b_note, b_code, heatmap_view], api_name="compare_bias")
    about_panel(TEXTS)
