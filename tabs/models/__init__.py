"""The Models view: page and handlers (`ui`) and strings (`locales/`); it has no catalog block or models."""
