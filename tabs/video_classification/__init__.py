"""The video classification tab: page and handler (`ui`), task logic (`task`), strings (`locales/`), test models."""
