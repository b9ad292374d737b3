"""The text-to-speech tab: page and handlers (`ui`), task logic (`task`), strings (`locales/`), test models."""
