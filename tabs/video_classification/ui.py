"""Video classification tab: a clip in, the model's top labels (Kinetics-400 actions for VideoMAE) out.

Endpoint: `/classify_video(video, model, top_k=5, frame_sampling_rate=4)` -> label scores (gr.Label
dict), the frames the model read (gallery), a note on the clip and the sampling, and a code snippet.

The task logic is tabs.video_classification.task; this module holds the handler and the page
(strings: `locales/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playground.core.snippets import snippet_load_kwargs
from playground.core.texts import Texts, request_language
from playground.media.images import EXAMPLES_DIR
from playground.web.errors import guarded
from playground.web.ui import COMMON, TabContext, about_panel, bind, code_panel, model_picker
from tabs.video_classification import task
from tabs.video_classification.task import MAX_SAMPLING_RATE, MAX_TOP_K, SAMPLING_RATE, TASK

# A bouncing ball drawn by scripts/make_examples.py (CC0, assets/examples/LICENSE.md).
EXAMPLE_CLIPS = ("video/bouncing_ball.mp4",)

TEXTS = Texts.load("video_classification", Path(__file__).with_name("locales"))


def sampling_note(clip: task.Clip, plan: task.Sampling, lang: str) -> str:
    """What the clip is and which of its frames the model read."""
    first, last = plan.indices[0], plan.indices[-1]
    note = TEXTS.get(
        "clip", lang, frames=clip.frames, fps=clip.fps, seconds=clip.seconds, width=clip.width, height=clip.height
    )
    note += " " + TEXTS.get(
        "read",
        lang,
        count=plan.num_frames,
        rate=plan.rate,
        first=first,
        last=last,
        until=(last + 1) / clip.fps if clip.fps else 0.0,
    )
    if plan.rate < plan.asked_rate:
        note += "\n\n" + TEXTS.get("rate_lowered", lang, asked=plan.asked_rate, rate=plan.rate)
    return note


def classify_video(
    ctx: TabContext,
    video: str | None,
    model: str | None = None,
    top_k: int = 5,
    frame_sampling_rate: int = SAMPLING_RATE,
    progress: Any = None,
    request: Any = None,
) -> tuple[dict[str, float], list[tuple[Any, str]], str, str]:
    """Name the action in a video clip: the video classification model's top labels with their probabilities.

    Args:
        video: The clip (MP4, WebM, MOV, AVI, MKV, ...), at least as many frames as the model reads (16 for VideoMAE).
        model: A video classification model of the catalog, by id or label (default: the tab's default).
        top_k: How many labels to return, 1 to 20.
        frame_sampling_rate: Read one frame every this many (1 to 32), from the start; lowered when the clip is too short.

    Returns:
        The top labels with their probabilities, the frames the model read, a note on the clip and the
        sampling, and Python code that does the same.
    """
    lang = request_language(request)
    top_k = task.check_top_k(top_k)
    rate = task.check_sampling_rate(frame_sampling_rate)
    clip = task.probe_clip(video)  # a bad file is explained before any model loads
    loaded = ctx.load(model, TASK, progress)
    plan = task.sampling(clip, int(loaded.model.model.config.num_frames), rate)
    frames = task.frames_read(video, plan, clip.fps)
    scores = task.classify(loaded.model, video, top_k, plan)
    code = task.snippet(loaded.source, snippet_load_kwargs(loaded), clip.name, top_k, plan)
    return scores, frames, sampling_note(clip, plan, lang), code


def build(ctx: TabContext) -> None:
    import gradio as gr

    run_classify = guarded(bind(classify_video, ctx, model=ctx.default_model(TASK), progress=gr.Progress()), gpu=True)
    with gr.Row():
        with gr.Column():
            # format=None: the upload reaches the handler as it is (no conversion by Gradio).
            video = gr.Video(label=TEXTS.ui("video"), sources=["upload"], format=None, elem_id="video-clip")
            model = model_picker(ctx, TASK)
            top_k = gr.Slider(1, MAX_TOP_K, value=5, step=1, label=TEXTS.ui("top_k"))
            rate = gr.Slider(1, MAX_SAMPLING_RATE, value=SAMPLING_RATE, step=1, label=TEXTS.ui("sampling_rate"))
            run = gr.Button(COMMON.ui("run"), variant="primary")
        with gr.Column():
            labels = gr.Label(label=TEXTS.ui("labels"))
            note = gr.Markdown()
    frames = gr.Gallery(label=TEXTS.ui("frames"), columns=8, height="auto", object_fit="contain")
    code = code_panel()
    inputs, outputs = [video, model, top_k, rate], [labels, frames, note, code]
    # Before the examples: the first event of a handler takes its name.
    run.click(run_classify, inputs, outputs, api_name="classify_video")
    examples = [str(EXAMPLES_DIR / name) for name in EXAMPLE_CLIPS if (EXAMPLES_DIR / name).is_file()]
    if examples:
        shown = gr.Examples(
            [[clip, ctx.default_model(TASK), 5, SAMPLING_RATE] for clip in examples],
            inputs=inputs,
            outputs=outputs,
            fn=run_classify,
            run_on_click=True,
            cache_examples=False,
            label=TEXTS.ui("examples"),
            elem_id="video-examples",
        )
        # The table's column headers would be the inputs' labels, which Gradio does not translate there.
        shown.dataset.headers = []
    about_panel(TEXTS)
