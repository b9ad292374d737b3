"""The text-generation tab: page, handlers and how results are shown (`ui`), strings (`locales/`), test models."""
