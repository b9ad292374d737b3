"""The Embeddings tab: its UI and handlers (`ui`), task logic (`task`), strings (`locales/`) and the recipe
of its test models (`test_models`)."""
