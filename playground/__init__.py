"""The shared package: everything the tabs (`tabs/`) and the app (`app.py`) use, grouped by concern.

Layers, lowest first. A module imports modules of its own package and of the packages listed before
it, never after it, and nothing here imports `tabs/` (`tests/test_structure.py` checks both):

1. `core`     strings in every language and user-facing errors (`texts`), range checks, "Show code"
              source (`snippets`), files offered for download, users taking turns in a line (`turns`).
              Imports nothing of the project.
2. `config`   what the app serves: the tab registry, the model catalog (`models.yaml`), Space settings.
3. `loading`  getting a model into memory: the model manager, adapters for tasks with no pipeline,
              devices, ZeroGPU, Hub access, load-error explanations.
4. `media`    decoding what users upload: audio, images, documents, datasets (tables to run over).
5. `engines`  generation behind one interface: local, batched, remote endpoints, speech batching,
              stream pacing.
6. `tasks`    task logic without a UI that several tabs share (the steps behind a pipeline); a tab's
              own lives in its folder.
7. `web`      the Gradio layer: the tab context and shared widgets, API input checks, error wrapping,
              and every patch of Gradio's internals (`gradio_patches`).
8. `operations` running the app for many people, wired into the built app (`serving.prepare`):
              sign-in, a fair share of the queue per user, metrics, health routes, idle unload and
              URL download limits.

torch, transformers and gradio are imported inside the functions that need them, so importing the
catalog, the manager or the error wrapper stays cheap.
"""
