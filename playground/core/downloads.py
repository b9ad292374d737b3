"""Files the UI offers for download (CSV tables, subtitles): written once here for every tab.

Gradio serves an output file from its path, so each download is a new temporary file that outlives
the request (Gradio copies it into its own cache and cleans that up).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any


def write_text_download(text: str, suffix: str, prefix: str) -> str:
    """`text` in a new UTF-8 file named `<prefix>…<suffix>`; returns its path."""
    handle, path = tempfile.mkstemp(suffix=suffix, prefix=prefix)
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    return path


def write_csv_download(header: Sequence[Any], rows: Iterable[Sequence[Any]], prefix: str) -> str:
    """A header row and data rows in a new CSV file; returns its path."""
    handle, path = tempfile.mkstemp(suffix=".csv", prefix=prefix)
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path
