"""The Gradio layer: the tab context and shared widgets (`ui`), API input checks (`inputs`), error
wrapping for handlers (`errors`) and every patch of Gradio's internals, each version-gated
(`gradio_patches`). The top layer: it may import every other package, none imports it."""
