"""The Attention tab's logic: one forward pass with `output_attentions=True` (the model loaded with
eager attention by the `attention` adapter), the weights of a layer and head as a heatmap, all heads
of a layer as a grid, cross-attention for encoder-decoder models, and the "show code" snippet. No Gradio.

The work is bounded: at most MAX_TOKENS tokens of the text (the rest is cut, and the note says so),
at most MAX_NEW_TOKENS written by an encoder-decoder model, at most MAX_GRID_HEADS heads in the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.core.snippets import format_call
from playground.core.texts import Texts

TEXTS = Texts.load("attention.task", Path(__file__).with_name("locales"))

MAX_CHARS = 2000
MAX_TOKENS = 48
MAX_NEW_TOKENS = 24
MAX_GRID_HEADS = 16
# self: the encoder's (or a decoder-only model's) self-attention; decoder and cross: an encoder-decoder
# model's decoder self-attention and its attention over the encoder's tokens.
KINDS = ("self", "decoder", "cross")
# Fonts with Hangul for token labels, used where installed (Debian: fonts-nanum); matplotlib's own
# DejaVu Sans has none and would draw Korean tokens as boxes.
HANGUL_FONTS = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR")


def check_text(text: str | None) -> str:
    """The sentence to read; refuses an empty text and one over MAX_CHARS characters."""
    text = (text or "").strip()
    if not text:
        raise TEXTS.error("empty_text")
    if len(text) > MAX_CHARS:
        raise TEXTS.error("too_long", count=len(text), limit=MAX_CHARS)
    return text


def check_kind(kind: str | None, encoder_decoder: bool) -> str:
    kind = (kind or "self").strip()
    if kind not in KINDS:
        raise TEXTS.error("unknown_kind", kind=kind, choices=", ".join(KINDS))
    if kind != "self" and not encoder_decoder:
        raise TEXTS.error("not_seq2seq", kind=kind)
    return kind


def tokenizer_of(inspected: Any, label: str) -> Any:
    """The model's tokenizer; refuses a model without one (an image or audio model)."""
    tokenizer = inspected.preprocessor
    if tokenizer is None or not hasattr(tokenizer, "convert_ids_to_tokens"):
        raise TEXTS.error("not_text", label=label, model_type=inspected.config.model_type)
    return tokenizer


def token_limit(tokenizer: Any, config: Any) -> int:
    """How many tokens of the text are read: MAX_TOKENS, or the model's own limit when smaller."""
    limits = [
        MAX_TOKENS,
        getattr(config, "max_position_embeddings", None),
        getattr(tokenizer, "model_max_length", None),
    ]
    return min(int(limit) for limit in limits if limit)


@dataclass(frozen=True)
class Attention:
    """The attention weights of one forward pass: `layers[kind]` is a list (one per layer) of arrays
    [heads, rows, columns]; rows are the attending tokens, columns the attended ones."""

    source_tokens: list[str]
    target_tokens: list[str]  # the tokens an encoder-decoder model wrote (empty otherwise)
    layers: dict[str, list[Any]]
    cut: bool
    total_tokens: int
    limit: int

    def tokens(self, kind: str) -> tuple[list[str], list[str]]:
        """(row tokens, column tokens) of a kind."""
        if kind == "self":
            return self.source_tokens, self.source_tokens
        if kind == "decoder":
            return self.target_tokens, self.target_tokens
        return self.target_tokens, self.source_tokens


def attend(inspected: Any, tokenizer: Any, text: str) -> Attention:
    """One forward pass over the first `token_limit` tokens of `text`, returning every layer's weights;
    an encoder-decoder model first writes its output greedily (MAX_NEW_TOKENS at most)."""
    import torch

    model = inspected.model
    limit = token_limit(tokenizer, model.config)
    total = len(tokenizer(text)["input_ids"])
    inputs = tokenizer(text, truncation=True, max_length=limit, return_tensors="pt").to(model.device)
    source = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    with torch.inference_mode():
        if model.config.is_encoder_decoder:
            written = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, num_beams=1, do_sample=False)
            outputs = model(**inputs, decoder_input_ids=written, output_attentions=True)
            layers = {
                "self": outputs.encoder_attentions,
                "decoder": outputs.decoder_attentions,
                "cross": outputs.cross_attentions,
            }
            target = tokenizer.convert_ids_to_tokens(written[0])
        else:
            outputs = model(**inputs, output_attentions=True)
            layers = {"self": outputs.attentions}
            target = []
    arrays = {kind: [layer[0].float().cpu().numpy() for layer in weights] for kind, weights in layers.items()}
    return Attention(source, target, arrays, total > limit, total, limit)


def check_position(attention: Attention, kind: str, layer: int, head: int) -> tuple[int, int]:
    """0-based (layer, head) for 1-based picks; refuses picks past the model's layers or heads."""
    layers = attention.layers[kind]
    if not 1 <= layer <= len(layers):
        raise TEXTS.error("bad_layer", layer=layer, count=len(layers))
    heads = layers[0].shape[0]
    if not 1 <= head <= heads:
        raise TEXTS.error("bad_head", head=head, count=heads)
    return layer - 1, head - 1


def _shown(token: str) -> str:
    """A token as a label: the word-start marks of byte-level BPE and SentencePiece as a visible space."""
    return token.replace("Ġ", "␣").replace("▁", "␣").replace("Ċ", "\\n")


def _font_families() -> list[str]:
    """DejaVu Sans, then the Hangul fonts that are installed (matplotlib falls back glyph by glyph)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *(name for name in HANGUL_FONTS if name in installed)]


def heatmap(weights: Any, rows: list[str], columns: list[str], title: str) -> Any:
    """One head's weights as a picture (PIL): attending tokens down, attended tokens across."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(4.0, 0.22 * max(len(rows), len(columns)) + 2)
    with plt.rc_context({"font.family": _font_families()}):
        figure, axes = plt.subplots(figsize=(size, size), dpi=90)
        # The colour scale ends at the head's largest weight, shown by the colour bar: a head that
        # spreads its attention thinly (every weight near 1/tokens) would be one flat colour on 0-1.
        image = axes.imshow(weights, cmap="viridis", vmin=0.0, vmax=max(float(weights.max()), 1e-6))
        figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
        axes.set_xticks(range(len(columns)), [_shown(t) for t in columns], rotation=90, fontsize=8)
        axes.set_yticks(range(len(rows)), [_shown(t) for t in rows], fontsize=8)
        axes.set_title(title, fontsize=10)
        return _picture(figure)


def head_grid(heads: Any, title: str) -> Any:
    """All heads of a layer (the first MAX_GRID_HEADS) as small heatmaps, one per head."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = min(len(heads), MAX_GRID_HEADS)
    columns = min(count, 4)
    rows = math.ceil(count / columns)
    with plt.rc_context({"font.family": _font_families()}):  # the title is in the page's language
        figure, grid = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.4 * rows + 0.4), dpi=90, squeeze=False)
        for index, axes in enumerate(grid.flat):
            axes.axis("off")
            if index < count:
                axes.imshow(heads[index], cmap="viridis", vmin=0.0, vmax=max(float(heads[index].max()), 1e-6))
                axes.set_title(str(index + 1), fontsize=9)
        figure.suptitle(title, fontsize=10)
        return _picture(figure)


def _picture(figure: Any) -> Any:
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def snippet(
    model_id: str,
    from_pretrained: dict[str, Any],
    device: str | None,
    text: str,
    limit: int,
    encoder_decoder: bool,
    kind: str,
    layer: int,
    head: int,
) -> str:
    """Code that loads the model with eager attention as the app did and prints the same weights."""
    auto = "AutoModelForSeq2SeqLM" if encoder_decoder else "AutoModel"
    load = format_call(f"{auto}.from_pretrained", [model_id], {**from_pretrained, "attn_implementation": "eager"})
    lines = [
        "import json",
        "",
        "import torch",
        f"from transformers import {auto}, AutoTokenizer",
        "",
        "tokenizer = " + format_call("AutoTokenizer.from_pretrained", [model_id]),
        "# eager attention: the fused kernels (sdpa, flash) do not return the weights",
        "model = " + load,
        f"model = model.to({device!r}).eval()" if device else "model = model.eval()",
        "",
        "inputs = "
        + format_call("tokenizer", [text], {"truncation": True, "max_length": limit, "return_tensors": "pt"})
        + ".to(model.device)",
        "with torch.inference_mode():",
    ]
    if encoder_decoder:
        attribute = {"self": "encoder_attentions", "decoder": "decoder_attentions", "cross": "cross_attentions"}[kind]
        lines += [
            f"    written = model.generate(**inputs, max_new_tokens={MAX_NEW_TOKENS}, num_beams=1, do_sample=False)",
            "    outputs = model(**inputs, decoder_input_ids=written, output_attentions=True)",
            'print("wrote:", tokenizer.convert_ids_to_tokens(written[0]))',
        ]
    else:
        attribute = "attentions"
        lines.append("    outputs = model(**inputs, output_attentions=True)")
    lines += [
        'print("read:", tokenizer.convert_ids_to_tokens(inputs["input_ids"][0]))',
        f"# outputs.{attribute}: one tensor per layer, [batch, heads, rows, columns]; each row sums to 1",
        f"weights = outputs.{attribute}[{layer - 1}][0, {head - 1}]  # layer {layer}, head {head}",
        "print(json.dumps([[round(w, 6) for w in row] for row in weights.tolist()]))",
    ]
    return "\n".join(lines) + "\n"
