"""The start-up comparison point: a bare gr.Blocks with N empty tabs.

python -m bench.empty_tabs N PORT
"""

from __future__ import annotations

import sys

import gradio as gr

if __name__ == "__main__":
    with gr.Blocks() as demo:
        with gr.Tabs():
            for index in range(int(sys.argv[1])):
                with gr.Tab(f"Tab {index + 1}"):
                    pass
    demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[2]))
