"""The speech-to-text tab: page and handlers (`ui`), task logic (`task`), strings (`locales/`), test models."""
