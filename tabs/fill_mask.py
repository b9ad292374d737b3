"""The Fill-mask tab: complete a masked sentence, and probe a model's skew between groups.

Endpoints: `/fill_mask` (one masked sentence) and `/compare_bias` (templates x groups, top-k and targets).
"""

from __future__ import annotations

import csv
import math
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

import yaml

from playground.errors import guarded
from playground.snippets import pipeline_snippet
from playground.texts import Texts
from playground.ui import COMMON, TabContext, about_panel, code_panel, model_picker

TASK = "fill-mask"
MAX_CHARS = 1000
# compare_bias runs templates x groups fill-mask calls: bounded so one request cannot hog the app.
MAX_TEMPLATES = 20
MAX_GROUPS = 10
MASK_RE = re.compile(r"\[MASK\]|<mask>|___")
PRESETS_PATH = Path(__file__).with_name("bias_presets.yaml")

STRINGS = {
    "en": {
        "title": "Fill mask",
        "text": "Sentence with one mask ([MASK], <mask> or ___)",
        "top_k": "Top k",
        "targets": "Target words (optional, comma-separated)",
        "completions": "Completions",
        "seen": "Sentence as the model saw it",
        "note": "Note",
        "templates": "Templates (one per line, each with {group} and a mask)",
        "groups": "Groups (comma-separated, at least 2)",
        "preset": "Preset",
        "compare": "Compare groups",
        "table": "Results",
        "csv": "CSV",
        "no_mask": "Write a mask in the sentence: [MASK], <mask> or ___.",
        "many_masks": "Exactly one mask is supported; found {n}.",
        "empty": "Write a sentence first.",
        "too_long": "The text is {n} characters; the limit is {limit}.",
        "too_many_tokens": "The text is {n} tokens; this model reads at most {limit}.",
        "no_group": "Template {line!r} has no {{group}} slot.",
        "few_groups": "Give at least 2 groups, comma-separated.",
        "no_templates": "Write at least one template.",
        "too_many_templates": "Too many templates: {n}; the limit is {limit}.",
        "too_many_groups": "Too many groups: {n}; the limit is {limit}.",
        "not_mlm": "{label} is not a masked language model (it has no mask token).",
        "multi_token": "{words}: not one token for this model; the pipeline scores only the first sub-token.",
        "bias_note": (
            "These are the probabilities one model gives to words in a few template sentences. A skew "
            "between groups shows what the model learned from its training text; it is not a measure of "
            "harm, and other templates may give other numbers. log ratio = log p({g1}) / p({g2})."
        ),
        "about": (
            "The `fill-mask` pipeline replaces the mask with the model's own mask token and scores every "
            "word of its vocabulary; the numbers are the model's probabilities for that one position."
        ),
    },
    "ko": {
        "title": "빈칸 채우기",
        "text": "마스크 하나가 있는 문장 ([MASK], <mask> 또는 ___)",
        "top_k": "상위 k",
        "targets": "대상 단어 (선택, 쉼표로 구분)",
        "completions": "완성 후보",
        "seen": "모델이 본 문장",
        "note": "메모",
        "templates": "템플릿 (한 줄에 하나, {group}과 마스크 포함)",
        "groups": "집단 (쉼표로 구분, 2개 이상)",
        "preset": "예시",
        "compare": "집단 비교",
        "table": "결과",
        "csv": "CSV",
        "no_mask": "문장에 마스크를 쓰세요: [MASK], <mask> 또는 ___.",
        "many_masks": "마스크는 하나만 지원합니다. {n}개를 찾았습니다.",
        "empty": "먼저 문장을 쓰세요.",
        "too_long": "텍스트가 {n}자입니다. 한도는 {limit}자입니다.",
        "too_many_tokens": "텍스트가 {n}토큰입니다. 이 모델은 최대 {limit}토큰을 읽습니다.",
        "no_group": "템플릿 {line!r}에 {{group}} 자리가 없습니다.",
        "few_groups": "집단을 쉼표로 구분해 2개 이상 쓰세요.",
        "no_templates": "템플릿을 하나 이상 쓰세요.",
        "too_many_templates": "템플릿이 너무 많습니다: {n}개. 한도는 {limit}개입니다.",
        "too_many_groups": "집단이 너무 많습니다: {n}개. 한도는 {limit}개입니다.",
        "not_mlm": "{label}은(는) 마스크 언어 모델이 아닙니다 (마스크 토큰이 없습니다).",
        "multi_token": "{words}: 이 모델에서 한 토큰이 아닙니다. 파이프라인은 첫 하위 토큰만 점수를 매깁니다.",
        "bias_note": (
            "한 모델이 몇 개의 템플릿 문장에서 단어에 준 확률입니다. 집단 간 차이는 모델이 학습 텍스트에서 "
            "배운 것을 보여 줄 뿐, 해악의 척도가 아니며 다른 템플릿은 다른 숫자를 줄 수 있습니다. "
            "log 비 = log p({g1}) / p({g2})."
        ),
        "about": (
            "`fill-mask` 파이프라인은 마스크를 모델 자신의 마스크 토큰으로 바꾸고 어휘의 모든 단어에 점수를 "
            "매깁니다. 숫자는 그 한 자리에 대한 모델의 확률입니다."
        ),
    },
}
TEXTS = Texts("fill_mask", STRINGS)


def load_presets() -> dict[str, dict[str, str]]:
    return yaml.safe_load(PRESETS_PATH.read_text(encoding="utf-8"))


def split_list(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def prepare(pipe: Any, text: str, label: str) -> str:
    """Check the sentence and put the model's own mask token where the user wrote one."""
    mask_token = getattr(pipe.tokenizer, "mask_token", None)
    if not mask_token:
        raise TEXTS.error("not_mlm", label=label)
    if not (text or "").strip():
        raise TEXTS.error("empty")
    if len(text) > MAX_CHARS:
        raise TEXTS.error("too_long", n=len(text), limit=MAX_CHARS)
    found = MASK_RE.findall(text) + ([mask_token] if mask_token not in ("[MASK]", "<mask>") and mask_token in text else [])
    if not found:
        raise TEXTS.error("no_mask")
    if len(found) > 1:
        raise TEXTS.error("many_masks", n=len(found))
    seen = MASK_RE.sub(mask_token, text)
    n_tokens = len(pipe.tokenizer(seen)["input_ids"])
    limit = min(pipe.tokenizer.model_max_length, getattr(pipe.model.config, "max_position_embeddings", 10**9))
    if n_tokens > limit:
        raise TEXTS.error("too_many_tokens", n=n_tokens, limit=limit)
    return seen


def multi_token_targets(pipe: Any, targets: list[str]) -> list[str]:
    """Targets the tokenizer splits: the pipeline keeps only their first sub-token."""
    out = []
    for word in targets:
        ids = pipe.tokenizer(" " + word if pipe.tokenizer.mask_token == "<mask>" else word, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            out.append(word)
    return out


def run_fill(pipe: Any, sentence: str, top_k: int, targets: list[str]) -> dict[str, float]:
    kwargs: dict[str, Any] = {"top_k": int(top_k)}
    if targets:
        kwargs["targets"] = targets
    results = pipe(sentence, **kwargs)
    return {r["token_str"].strip(): float(r["score"]) for r in results}


def bias_rows(scores: dict[str, dict[str, list[float]]], groups: list[str]) -> list[list[Any]]:
    """One row per target: mean and std per group, then log p(g1)/p(g2); most skewed first."""
    rows = []
    for target, per_group in scores.items():
        row: list[Any] = [target]
        for g in groups:
            values = per_group[g]
            row += [round(statistics.fmean(values), 6), round(statistics.pstdev(values), 6)]
        p1, p2 = statistics.fmean(per_group[groups[0]]), statistics.fmean(per_group[groups[1]])
        row.append(round(math.log(max(p1, 1e-12) / max(p2, 1e-12)), 4))
        rows.append(row)
    return sorted(rows, key=lambda r: -abs(r[-1]))


def write_csv(header: list[str], rows: list[list[Any]]) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="", encoding="utf-8")
    with handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return handle.name


def build(ctx: TabContext) -> None:
    import gradio as gr

    def fill_mask(text: str, model: str, top_k: int = 5, targets: str = "", progress: Any = gr.Progress()) -> tuple:
        loaded = ctx.load(model, TASK, progress)
        pipe = loaded.model
        sentence = prepare(pipe, text, loaded.entry.label)
        target_list = split_list(targets)
        split = multi_token_targets(pipe, target_list)
        note = TEXTS.get("multi_token", words=", ".join(split)) if split else ""
        result = run_fill(pipe, sentence, top_k, target_list)
        kwargs: dict[str, Any] = {"top_k": int(top_k)}
        if target_list:
            kwargs["targets"] = target_list
        return result, sentence, note, pipeline_snippet(TASK, loaded.entry.id, [sentence], kwargs)

    def compare_bias(templates: str, groups: str, model: str, targets: str = "", top_k: int = 5,
                     progress: Any = gr.Progress()) -> tuple:
        loaded = ctx.load(model, TASK, progress)
        pipe = loaded.model
        lines = [line.strip() for line in (templates or "").splitlines() if line.strip()]
        if not lines:
            raise TEXTS.error("no_templates")
        if len(lines) > MAX_TEMPLATES:
            raise TEXTS.error("too_many_templates", n=len(lines), limit=MAX_TEMPLATES)
        for line in lines:
            if "{group}" not in line:
                raise TEXTS.error("no_group", line=line)
        group_list = split_list(groups)
        if len(group_list) < 2:
            raise TEXTS.error("few_groups")
        if len(group_list) > MAX_GROUPS:
            raise TEXTS.error("too_many_groups", n=len(group_list), limit=MAX_GROUPS)
        target_list = split_list(targets)
        split = multi_token_targets(pipe, target_list)
        top_rows: list[list[Any]] = []
        scores: dict[str, dict[str, list[float]]] = {}
        for line in lines:
            for g in group_list:
                sentence = prepare(pipe, line.replace("{group}", g), loaded.entry.label)
                top = run_fill(pipe, sentence, top_k, [])
                top_rows.append([line, g, ", ".join(f"{w} ({p:.3f})" for w, p in top.items())])
                if target_list:
                    for r in pipe(sentence, targets=target_list, top_k=len(target_list)):
                        scores.setdefault(r["token_str"].strip(), {x: [] for x in group_list})[g].append(float(r["score"]))
        header = ["target"] + [f"{g} {s}" for g in group_list for s in ("mean", "std")] + [f"log p({group_list[0]})/p({group_list[1]})"]
        rows = bias_rows(scores, group_list) if target_list else []
        csv_rows = [["top_k", line, g, words] for line, g, words in top_rows] + [["target", *row] for row in rows]
        csv_path = write_csv(["kind", *header], csv_rows)
        note = TEXTS.get("bias_note", g1=group_list[0], g2=group_list[1])
        if split:
            note += "\n" + TEXTS.get("multi_token", words=", ".join(split))
        code = pipeline_snippet(TASK, loaded.entry.id, [lines[0].replace("{group}", group_list[0])],
                                {"targets": target_list, "top_k": int(top_k)} if target_list else {"top_k": int(top_k)})
        return ({"headers": ["template", "group", "top-k"], "data": top_rows},
                {"headers": header, "data": rows or [[""] * len(header)]}, csv_path, note, code)

    presets = load_presets()

    def apply_preset(name: str) -> tuple:
        p = presets[name]
        return p["templates"], p["groups"], p["targets"]

    model = model_picker(ctx, TASK)
    text = gr.Textbox(label=TEXTS.ui("text"), value="Paris is the [MASK] of France.")
    with gr.Row():
        top_k = gr.Slider(1, 50, value=5, step=1, label=TEXTS.ui("top_k"))
        targets = gr.Textbox(label=TEXTS.ui("targets"))
    run = gr.Button(COMMON.ui("run"), variant="primary")
    completions = gr.Label(label=TEXTS.ui("completions"))
    seen = gr.Textbox(label=TEXTS.ui("seen"))
    note = gr.Markdown()
    code = code_panel()
    run.click(guarded(fill_mask), [text, model, top_k, targets], [completions, seen, note, code], api_name="fill_mask")

    gr.Markdown("### " + TEXTS.get("compare"))
    preset = gr.Dropdown(list(presets), label=TEXTS.ui("preset"))
    first = presets[next(iter(presets))]
    templates = gr.Textbox(label=TEXTS.ui("templates"), lines=3, value=first["templates"])
    groups = gr.Textbox(label=TEXTS.ui("groups"), value=first["groups"])
    b_targets = gr.Textbox(label=TEXTS.ui("targets"), value=first["targets"])
    b_top_k = gr.Slider(1, 20, value=5, step=1, label=TEXTS.ui("top_k"))
    preset.change(apply_preset, [preset], [templates, groups, b_targets])
    compare = gr.Button(TEXTS.ui("compare"), variant="primary")
    top_table = gr.Dataframe(label=TEXTS.ui("table"))
    target_table = gr.Dataframe(label=TEXTS.ui("table"))
    csv_file = gr.File(label=TEXTS.ui("csv"))
    b_note = gr.Markdown()
    b_code = code_panel()
    compare.click(guarded(compare_bias), [templates, groups, model, b_targets, b_top_k],
                  [top_table, target_table, csv_file, b_note, b_code], api_name="compare_bias")
    about_panel(TEXTS)
