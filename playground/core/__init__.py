"""The bottom layer: strings and languages, user errors, range checks, "Show code" source and
download files. Imports no other part of the project (see `playground/__init__.py` for the layers)."""
