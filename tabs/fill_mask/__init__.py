"""The Fill-mask tab: its UI and handlers (`ui`), task logic (`task`), strings (`locales/`), bias presets
and the recipe of its test models (`test_models`)."""
