"""The audio classification tab: page and handlers (`ui`), task logic (`task`), strings (`locales/`), test models."""
