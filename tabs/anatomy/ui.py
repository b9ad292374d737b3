"""Model anatomy tab: what a checkpoint is made of, for any model of the tab's catalog block.

Endpoint:
- `/model_anatomy(model, model_class, image, depth)` -> facts (JSON: config facts, class, parameters,
  body, memory, newly initialised weights), the module tree (module, class, depth, parameters, share, part),
  a summary (memory by device and dtype, device map, teaching notes), AutoBackbone feature maps (vision
  backbones) and code.

The model is loaded through the manager (its cache and budget) as the class its config names, or as
another class: a head on a body-only checkpoint shows which weights transformers newly initialised.
The logic is tabs.anatomy.task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import from_pretrained_kwargs
from playground.core.texts import Texts, request_language
from playground.loading.model_manager import LoadedModel
from playground.media.images import EXAMPLES_DIR, open_image
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, image_input, model_picker
from tabs.anatomy import task

TEXTS = Texts.load("anatomy", Path(__file__).with_name("locales"))
# What the feature maps are drawn from when no picture is given.
DEFAULT_PICTURE = EXAMPLES_DIR / "house.png"


def load_as(ctx: TabContext, loaded: LoadedModel, progress: Any, **options: Any) -> LoadedModel:
    """The same checkpoint loaded with other adapter options (`model_class`, `out_features`), through
    the manager: cached and under its budget like any model."""
    entry = loaded.entry
    variant = entry.model_copy(
        update={
            "pipeline_kwargs": {**entry.pipeline_kwargs, **options},
            "label": f"{entry.label} ({options.get('model_class', '')})",
        }
    )
    return ctx.manager.get_entry(ctx.key, variant, ctx.progress_reporter(progress))


def model_anatomy(
    ctx: TabContext,
    model: str | None = None,
    model_class: str = "",
    image: str | None = None,
    depth: float = 2,
    progress: Any = None,
    request: Any = None,
) -> tuple[dict[str, Any], Any, str, list, str]:
    """What a model is made of: its config.json facts, its modules with their parameters (body and head marked), its memory.

    Args:
        model: A model of the catalog, by id or label (default: the tab's default).
        model_class: Load the checkpoint as this class instead of its own (empty): AutoModel (the body alone), AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoModelForMaskedLM, AutoModelForCausalLM, AutoModelForImageClassification or AutoBackbone. A head the checkpoint has no weights for is newly initialised, and the summary says which weights.
        image: For vision backbones (ResNet, Swin, ConvNeXt...), the picture whose AutoBackbone feature maps are drawn (empty: an example picture).
        depth: How deep the module tree goes (1 = the top-level blocks, at most 4).

    Returns:
        The facts as JSON (config facts, class, num_parameters, body, memory, newly_initialized), the module tree, a summary with memory by device and dtype and the teaching notes, the feature maps (vision backbones) and Python code that does the same.
    """
    lang = request_language(request)
    class_name = task.check_model_class(model_class)
    depth = int(depth or 2)
    if not 1 <= depth <= task.MAX_DEPTH:
        raise task.TEXTS.error("bad_depth", limit=task.MAX_DEPTH)
    picture = open_image(image) if image else None
    loaded = ctx.load(model, None, progress)
    config = loaded.model.config
    if class_name:
        if not task.class_fits(config, class_name):
            raise task.TEXTS.error("class_does_not_fit", name=class_name, model_type=config.model_type)
        loaded = load_as(ctx, loaded, progress, model_class=class_name)
    inspected = loaded.model
    network = inspected.model
    rows, cut = task.module_rows(network, depth)
    total = network.num_parameters()
    body, has_head = task.body_and_head(network)
    memory = task.memory_rows(network)
    tied = task.tied_weights(network)
    loaded_class = type(network).__name__
    missing = sorted(inspected.loading_info.get("missing_keys") or [])
    facts = {
        **task.config_facts(config),
        "class": loaded_class,
        "num_parameters": total,
        "body": body or loaded_class,
        "memory": [dict(zip(("device", "dtype", "tensors", "values", "mb"), row)) for row in memory],
        "newly_initialized": missing,
    }
    import pandas as pd

    part_names = {"body": TEXTS.get("part_body", lang), "head": TEXTS.get("part_head", lang), "": ""}
    table = pd.DataFrame(
        [
            [
                row.name,
                row.class_name,
                row.depth,
                row.parameters,
                round(100 * row.parameters / total, 2) if total else 0.0,
                part_names[row.part],
            ]
            for row in rows
        ],
        columns=["module", "class", "depth", "parameters", "%", "part"],
    )
    summary = task.summary_markdown(
        lang, total, loaded_class, has_head, body, memory, loaded.device_map, inspected.loading_info, tied, cut
    )
    pictures: list = []
    stages = task.stage_names(config)
    with_maps = task.is_backbone_model(config) and bool(stages)
    if with_maps:
        backbone = load_as(ctx, loaded, progress, model_class="AutoBackbone", out_features=stages)
        pictures = task.feature_maps(backbone.model, picture or open_image(DEFAULT_PICTURE))
    kwargs, device = from_pretrained_kwargs(loaded)
    for option in ("model_class", "out_features"):
        kwargs.pop(option, None)
    shown_class = class_name if class_name and class_name != "AutoBackbone" else loaded_class
    code = task.snippet(loaded.entry.id, shown_class, kwargs, device, with_maps, stages)
    return facts, table, summary, pictures, code


# ---- the page ----


def build(ctx: TabContext) -> None:
    import gradio as gr

    progress = gr.Progress()
    about_panel(TEXTS)
    with gr.Row():
        with gr.Column(scale=1):
            model = model_picker(ctx)
            model_class = gr.Dropdown(
                choices=[(TEXTS.ui("as_saved"), "")] + [(name, name) for name in task.MODEL_CLASSES if name],
                value="",
                label=TEXTS.ui("model_class"),
                info=TEXTS.ui("model_class_info"),
                interactive=True,
            )
            depth = gr.Slider(1, task.MAX_DEPTH, value=2, step=1, label=TEXTS.ui("depth"))
            image = image_input(TEXTS.ui("image"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column(scale=2):
            summary = gr.Markdown()
            facts = gr.JSON(label=TEXTS.ui("facts"))
    tree = gr.Dataframe(label=TEXTS.ui("tree"), interactive=False, wrap=True, max_height=480)
    maps = gr.Gallery(label=TEXTS.ui("feature_maps"), columns=4, height="auto")
    code = code_panel()
    handler = guarded(bind(model_anatomy, ctx, model=ctx.default_model(), progress=progress), gpu=True)
    inputs = [model, model_class, image, depth]
    outputs = [facts, tree, summary, maps, code]
    run.click(handler, inputs, outputs, api_name="model_anatomy")
    default = ctx.default_model()
    rows = [[m.id, "", None, 2] for m in ctx.models()[:4]]
    # The lesson of a body-only checkpoint: put a classification head on it and see what is new.
    rows.append([default, "AutoModelForSequenceClassification", None, 2])
    examples = gr.Examples(
        rows,
        inputs=inputs,
        outputs=outputs,
        fn=handler,
        run_on_click=True,
        cache_examples=False,
        visible_columns=[0, 1],
        label=COMMON.ui("examples"),
    )
    examples.dataset.headers = []  # Gradio would show the columns' i18n keys, untranslated
