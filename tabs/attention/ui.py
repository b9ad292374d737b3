"""Attention tab: where each token of a sentence looks, by layer and head, for encoder models, small
decoders and (cross-attention) encoder-decoder models.

Endpoint:
- `/attention(text, model, layer, head, kind)` -> the head's heatmap, all heads of the layer, details
  (JSON: tokens, the weights, the model's layers and heads), a note (what was cut) and code.

The model is loaded with eager attention (the `attention` adapter) so its forward pass returns the
weights. The logic is tabs.attention.task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import from_pretrained_kwargs
from playground.core.texts import Texts, request_language
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, model_picker
from tabs.attention import task

TEXTS = Texts.load("attention", Path(__file__).with_name("locales"))

# A sentence whose pronoun has to find its noun (the classic look at a head that resolves "it").
EXAMPLES = (
    "The animal didn't cross the street because it was too tired.",
    "This course will teach you all about the Transformers library.",
)


def attention(
    ctx: TabContext,
    text: str,
    model: str | None = None,
    layer: float = 1,
    head: float = 1,
    kind: str = "self",
    progress: Any = None,
    request: Any = None,
) -> tuple[Any, Any, dict[str, Any], str, str]:
    """The attention weights of a sentence in one layer and head, as a heatmap, and every head of that layer.

    Args:
        text: The sentence to read (at most 2000 characters; the first 48 tokens are read and the rest is cut, with a note).
        model: A text model of the catalog (an encoder, a small decoder or an encoder-decoder), by id or label (default: the tab's default).
        layer: The layer, from 1 to the model's number of layers.
        head: The head, from 1 to the model's number of heads.
        kind: self (the encoder's, or a decoder-only model's, self-attention); for encoder-decoder models also decoder (the decoder's self-attention over what it wrote) or cross (what it wrote attending to the input).

    Returns:
        The head's heatmap (rows: the tokens attending; columns: the tokens attended to; each row sums to 1), all heads of the layer, the details as JSON (tokens, weights, layers, heads), a note on what was cut, and Python code that does the same.
    """
    lang = request_language(request)
    text = task.check_text(text)
    entry = ctx.entry(model)
    loaded = ctx.load(model, None, progress)
    inspected = loaded.model
    tokenizer = task.tokenizer_of(inspected, entry.label)
    encoder_decoder = bool(inspected.config.is_encoder_decoder)
    kind = task.check_kind(kind, encoder_decoder)
    weights = task.attend(inspected, tokenizer, text)
    layer_index, head_index = task.check_position(weights, kind, int(layer or 1), int(head or 1))
    rows, columns = weights.tokens(kind)
    layer_weights = weights.layers[kind][layer_index]
    chosen = layer_weights[head_index]
    kind_name = TEXTS.get(f"kind_{kind}", lang)
    title = TEXTS.get("heatmap_title", lang, kind=kind_name, layer=layer_index + 1, head=head_index + 1)
    picture = task.heatmap(chosen, rows, columns, title)
    grid = task.head_grid(layer_weights, TEXTS.get("grid_title", lang, kind=kind_name, layer=layer_index + 1))
    heads = layer_weights.shape[0]
    notes = []
    if weights.cut:
        notes.append(TEXTS.get("cut", lang, total=weights.total_tokens, limit=weights.limit))
    if heads > task.MAX_GRID_HEADS:
        notes.append(TEXTS.get("grid_cut", lang, shown=task.MAX_GRID_HEADS, heads=heads))
    if encoder_decoder:
        # The first written token is the decoder's start token, not a word the model chose.
        notes.append(TEXTS.get("wrote", lang, count=len(weights.target_tokens) - 1, limit=task.MAX_NEW_TOKENS))
    details = {
        "kind": kind,
        "layer": layer_index + 1,
        "head": head_index + 1,
        "num_layers": len(weights.layers[kind]),
        "num_heads": heads,
        "row_tokens": rows,
        "column_tokens": columns,
        "weights": [[round(float(w), 6) for w in row] for row in chosen],
        "cut": weights.cut,
    }
    kwargs, device = from_pretrained_kwargs(loaded)
    code = task.snippet(
        loaded.entry.id, kwargs, device, text, weights.limit, encoder_decoder, kind, layer_index + 1, head_index + 1
    )
    return picture, grid, details, "\n\n".join(notes), code


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    progress = gr.Progress()
    about_panel(TEXTS)
    with gr.Row():
        with gr.Column(scale=1):
            text = gr.Textbox(label=TEXTS.ui("text"), lines=3, value=EXAMPLES[0])
            model = model_picker(ctx)
            with gr.Row():
                layer = gr.Number(value=1, precision=0, minimum=1, label=TEXTS.ui("layer"))
                head = gr.Number(value=1, precision=0, minimum=1, label=TEXTS.ui("head"))
            kind = gr.Radio(
                choices=[(TEXTS.ui(f"kind_{k}"), k) for k in task.KINDS],
                value="self",
                label=TEXTS.ui("kind"),
                info=TEXTS.ui("kind_info"),
            )
            run = gr.Button(COMMON.ui("run"), variant="primary")
            note = gr.Markdown()
        with gr.Column(scale=2):
            picture = gr.Image(label=TEXTS.ui("heatmap"), type="pil", interactive=False)
    grid = gr.Image(label=TEXTS.ui("grid"), type="pil", interactive=False)
    details = gr.JSON(label=TEXTS.ui("details"))
    code = code_panel()
    handler = guarded(bind(attention, ctx, model=ctx.default_model(), progress=progress), gpu=True)
    inputs = [text, model, layer, head, kind]
    outputs = [picture, grid, details, note, code]
    run.click(handler, inputs, outputs, api_name="attention")
    # Another layer, head or kind redraws at once (the model stays loaded; the forward pass is small).
    for event in (layer.submit, head.submit, kind.input):
        event(handler, inputs, outputs, api_visibility="private")
    examples = gr.Examples(
        [[sentence, None, 1, 1, "self"] for sentence in EXAMPLES],
        inputs=inputs,
        outputs=outputs,
        fn=handler,
        run_on_click=True,
        cache_examples=False,
        visible_columns=[0],
        label=COMMON.ui("examples"),
    )
    examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
