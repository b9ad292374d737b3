"""The tutorial's Gradio demo, the comparison point: `gr.Interface(fn=lambda x: pipe(x), ...)`.

    python -m bench.plain_demo TASK MODEL_DIR PORT     # TASK: asr | image_classification | fill_mask | zero_shot
"""

from __future__ import annotations

import sys

import gradio as gr
from transformers import pipeline


def build(task: str, model_dir: str) -> gr.Interface:
    if task == "asr":
        pipe = pipeline("automatic-speech-recognition", model=model_dir)
        return gr.Interface(fn=lambda x: pipe(x), inputs=gr.Audio(type="filepath"), outputs=gr.JSON())
    if task == "image_classification":
        pipe = pipeline("image-classification", model=model_dir)
        return gr.Interface(fn=lambda x: pipe(x), inputs=gr.Image(type="pil"), outputs=gr.JSON())
    if task == "fill_mask":
        pipe = pipeline("fill-mask", model=model_dir)
        return gr.Interface(fn=lambda x: pipe(x), inputs=gr.Textbox(), outputs=gr.JSON())
    if task == "zero_shot":
        pipe = pipeline("zero-shot-classification", model=model_dir)
        return gr.Interface(fn=lambda x, labels: pipe(x, candidate_labels=labels.split(",")),
                            inputs=[gr.Textbox(), gr.Textbox()], outputs=gr.JSON())
    raise SystemExit(f"unknown task {task!r}")


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2]).launch(server_name="127.0.0.1", server_port=int(sys.argv[3]))
