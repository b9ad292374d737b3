"""The zero-shot tab: page and handlers (`ui`), task logic (`task`), strings (`locales/`), test models."""
