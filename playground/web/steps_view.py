"""The "Behind the pipeline" view a tab adds under its results: the three steps of its request.

`steps_panel` lays out the view and wires its button to the tab's steps handler (its own endpoint);
the handler returns `steps_outputs(steps, lang)` of the `Steps` that `playground.tasks.pipeline_steps`
computed. The steps run only when asked (the button), never on the tab's normal path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts
from playground.tasks.pipeline_steps import STEPS, Steps

STEPS_UI = Texts.load("pipeline_steps_ui", SHARED_LOCALES)

# What a handler returns, in this order (the endpoint's outputs).
StepsOutputs = tuple[str, Any, Any, str, str, Any, dict[str, Any], str]


@dataclass
class StepsPanel:
    button: Any
    preprocess: Any
    tokens: Any
    picture: Any
    forward: Any
    postprocess: Any
    scores: Any
    details: Any
    code: Any

    @property
    def outputs(self) -> list[Any]:
        return [
            self.preprocess,
            self.tokens,
            self.picture,
            self.forward,
            self.postprocess,
            self.scores,
            self.details,
            self.code,
        ]


def steps_panel(
    handler: Callable[..., Any], inputs: list[Any], api_name: str, picture: bool = False, tokens: bool = True
) -> StepsPanel:
    """A collapsible "Behind the pipeline" view whose button runs `handler` (a guarded, bound steps
    handler returning `steps_outputs`) on the tab's `inputs`, as the endpoint `api_name`.

    `picture`: the preprocessed input is a picture (pixels, a spectrogram, a waveform);
    `tokens`: the preprocess step has a tokens table."""
    import gradio as gr

    with gr.Accordion(STEPS_UI.ui("heading"), open=False):
        gr.Markdown(STEPS_UI.ui("intro"))
        button = gr.Button(STEPS_UI.ui("show"), variant="secondary")
        with gr.Row(equal_height=False):
            with gr.Column():
                gr.Markdown(STEPS_UI.ui("preprocess"))
                preprocess = gr.Markdown()
                picture_view = gr.Image(
                    label=STEPS_UI.ui("picture"), type="numpy", interactive=False, visible=picture, format="png"
                )
                tokens_view = gr.Dataframe(
                    label=STEPS_UI.ui("tokens"), interactive=False, wrap=True, max_height=360, visible=tokens
                )
            with gr.Column():
                gr.Markdown(STEPS_UI.ui("forward"))
                forward = gr.Markdown()
            with gr.Column():
                gr.Markdown(STEPS_UI.ui("postprocess"))
                postprocess = gr.Markdown()
                scores = gr.Dataframe(label=STEPS_UI.ui("scores"), interactive=False, wrap=True, max_height=360)
        code = gr.Code(language="python", label=STEPS_UI.ui("code"), interactive=False)
        details = gr.JSON(label=STEPS_UI.ui("details"))
    panel = StepsPanel(button, preprocess, tokens_view, picture_view, forward, postprocess, scores, details, code)
    button.click(handler, inputs, panel.outputs, api_name=api_name)
    return panel


def _table(rows: list[dict[str, Any]], lang: str) -> dict[str, Any] | None:
    """Rows as a gr.Dataframe value, its headers in the request's language (Gradio does not translate them)."""
    if not rows:
        return None
    columns = list(rows[0])

    def cell(value: Any) -> Any:
        if isinstance(value, bool):
            return "✓" if value else ""
        return round(value, 6) if isinstance(value, float) else value

    return {
        "headers": [STEPS_UI.get(f"col_{column}", lang) for column in columns],
        "data": [[cell(row.get(column)) for column in columns] for row in rows],
    }


def steps_outputs(steps: Steps, lang: str) -> StepsOutputs:
    """The view's values: each step's notes, the tokens table, the picture, the scores table, every
    number as JSON and the Auto-class code."""
    notes = {step: "\n".join(f"- {note.get(lang) or note['en']}" for note in steps.notes[step]) for step in STEPS}
    return (
        notes["preprocess"],
        _table(steps.tokens, lang),
        steps.picture,
        notes["forward"],
        notes["postprocess"],
        _table(steps.scores, lang),
        steps.details,
        steps.code,
    )
