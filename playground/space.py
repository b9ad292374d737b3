"""Hugging Face Space files made from the catalog and requirements.txt, so they never drift.

`python app.py space-files` rewrites the README's YAML front matter and `packages.txt`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from playground.catalog import Catalog

PYTHON_VERSION = "3.11"
SYSTEM_PACKAGES = {
    "automatic-speech-recognition": ["ffmpeg"],
    "document-question-answering": ["tesseract-ocr", "tesseract-ocr-eng"],
}


def gradio_version(requirements: str) -> str:
    match = re.search(r"^gradio==([\w.]+)\s*$", requirements, re.MULTILINE)
    if not match:
        raise ValueError("requirements.txt must pin gradio exactly (gradio==X.Y.Z): the Space's sdk_version follows it")
    return match.group(1)


def front_matter(catalog: Catalog, requirements: str) -> dict[str, Any]:
    hub_models = [m for tab in catalog.tabs.values() for m in tab.models if not m.is_local]
    defaults = [m for m in hub_models if m.default]
    needs_gpu = any(m.device_map for m in defaults)
    return {
        "title": "Pipeline Playground",
        "emoji": "🤗",
        "colorFrom": "yellow",
        "colorTo": "indigo",
        "sdk": "gradio",
        "sdk_version": gradio_version(requirements),
        "python_version": PYTHON_VERSION,
        "app_file": "app.py",
        "pinned": False,
        "license": "apache-2.0",
        "suggested_hardware": "t4-small" if needs_gpu else "cpu-upgrade",
        "models": list(dict.fromkeys(m.id for m in hub_models)),
        "preload_from_hub": list(dict.fromkeys(m.id for m in defaults)),
    }


def system_packages(catalog: Catalog) -> list[str]:
    tasks = {m.task for tab in catalog.tabs.values() for m in tab.models}
    return [pkg for task, pkgs in SYSTEM_PACKAGES.items() if task in tasks for pkg in pkgs]


def readme_with_front_matter(readme: str, matter: dict[str, Any]) -> str:
    body = re.sub(r"\A---\n.*?\n---\n", "", readme, count=1, flags=re.DOTALL)
    dumped = yaml.safe_dump(matter, sort_keys=False, allow_unicode=True)
    return f"---\n{dumped}---\n{body}"


def write_space_files(root: Path, catalog: Catalog) -> list[Path]:
    """Rewrite README.md's front matter and packages.txt under `root`; returns the files written."""
    requirements = (root / "requirements.txt").read_text()
    readme = root / "README.md"
    readme.write_text(readme_with_front_matter(readme.read_text(), front_matter(catalog, requirements)))
    packages = root / "packages.txt"
    packages.write_text("\n".join(system_packages(catalog)) + "\n")
    return [readme, packages]
