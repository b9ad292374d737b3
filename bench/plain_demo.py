"""The tutorial's Gradio demos, the comparison point: one `gr.Interface(fn=lambda x: pipe(x), ...)` per
task, each with its own pipeline, served together on one port (endpoint = the task name).

    python -m bench.plain_demo MODELS_DIR PORT
"""

from __future__ import annotations

import sys

import gradio as gr
from transformers import pipeline


def build(models: str) -> gr.Blocks:
    asr = pipeline("automatic-speech-recognition", model=f"{models}/whisper")
    classifier = pipeline("image-classification", model=f"{models}/vit")
    fill = pipeline("fill-mask", model=f"{models}/bert-mlm")
    zero_shot = pipeline("zero-shot-classification", model=f"{models}/nli")
    demos = [
        gr.Interface(fn=lambda x: asr(x), inputs=gr.Audio(type="filepath"), outputs=gr.JSON(), api_name="asr"),
        gr.Interface(
            fn=lambda x: classifier(x), inputs=gr.Image(type="pil"), outputs=gr.JSON(), api_name="image_classification"
        ),
        gr.Interface(fn=lambda x: fill(x), inputs=gr.Textbox(), outputs=gr.JSON(), api_name="fill_mask"),
        gr.Interface(
            fn=lambda x, labels: zero_shot(x, candidate_labels=labels.split(",")),
            inputs=[gr.Textbox(), gr.Textbox()],
            outputs=gr.JSON(),
            api_name="zero_shot",
        ),
    ]
    return gr.TabbedInterface(demos, ["asr", "image_classification", "fill_mask", "zero_shot"])


if __name__ == "__main__":
    build(sys.argv[1]).launch(server_name="127.0.0.1", server_port=int(sys.argv[2]))
