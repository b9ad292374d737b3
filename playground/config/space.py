"""Hugging Face Space support: the Space's files made from the catalog, and its runtime defaults.

`python app.py space-files [--catalog PATH]` rewrites the README's YAML front matter and
`packages.txt` from the catalog the Space runs (`models.space.yaml` when it exists, else
`models.yaml`) and requirements.txt, so they never drift. On a Space (`SPACE_ID` set) the app uses
that same catalog unless told otherwise, and `apply_space_defaults` caps what the public may do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from playground.config.catalog import Catalog, ModelEntry
from playground.config.registry import TOKENIZER_TASK

PYTHON_VERSION = "3.11"
CATALOG_NAME = "models.yaml"
SPACE_CATALOG_NAME = "models.space.yaml"

# Space hardware flavours and their memory in GB (RAM for CPU flavours, GPU memory for GPU ones),
# smallest first; `suggested_hardware` is the first that fits.
CPU_HARDWARE = (("cpu-basic", 16), ("cpu-upgrade", 32))
GPU_HARDWARE = (("t4-small", 16), ("l4x1", 24), ("a100-large", 80))
# Python, torch, Gradio and the decoders before any model is loaded.
RUNTIME_GB = 2.0
# Weights plus activations, KV cache and the pipeline's own buffers.
WORKING_SET_FACTOR = 1.5
DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "auto": 4}

# A public Space: upper bounds on what one visitor can ask for, whatever the catalog says.
SPACE_LIMITS = {"max_upload_mb": 25.0, "max_audio_minutes": 15.0, "max_pdf_pages": 10, "queue_size": 32}


def running_on_space(environ: Mapping[str, str] = os.environ) -> bool:
    return bool(environ.get("SPACE_ID"))


def default_catalog(root: Path, on_space: bool) -> Path:
    """The catalog to use when none is named: the Space's own on a Space (if there is one)."""
    space_catalog = root / SPACE_CATALOG_NAME
    return space_catalog if on_space and space_catalog.exists() else root / CATALOG_NAME


def apply_space_defaults(catalog: Catalog) -> None:
    """On a public Space the safest settings apply: no models outside the catalog, bounded inputs and queue."""
    limits = catalog.defaults
    limits.allow_custom_models = False
    for name, cap in SPACE_LIMITS.items():
        setattr(limits, name, min(getattr(limits, name), cap))


def gradio_version(requirements: str) -> str:
    match = re.search(r"^gradio==([\w.]+)\s*$", requirements, re.MULTILINE)
    if not match:
        raise ValueError("requirements.txt must pin gradio exactly (gradio==X.Y.Z): the Space's sdk_version follows it")
    return match.group(1)


def hub_models(catalog: Catalog) -> list[ModelEntry]:
    return [m for tab in catalog.tabs.values() for m in tab.models if not m.is_local and not m.is_remote]


def default_models(catalog: Catalog) -> list[ModelEntry]:
    """The default models whose weights load (a tokenizer entry reads only its tokenizer's files)."""
    return [m for m in hub_models(catalog) if m.default and m.task != TOKENIZER_TASK]


def weights_gb(entry: ModelEntry) -> float:
    return (entry.params or 0) * DTYPE_BYTES[entry.dtype] / 1e9


def suggested_hardware(catalog: Catalog) -> str:
    """The smallest Space hardware for the largest default model.

    A default with `device_map` asks for a GPU: its weights must fit in GPU memory. Otherwise the
    models run on CPU, and up to `max_loaded_models` of them stay in RAM together.
    """
    defaults = default_models(catalog)
    largest = max((weights_gb(m) for m in defaults), default=0.0)
    if any(m.device_map for m in defaults):
        tiers, needed = GPU_HARDWARE, largest * WORKING_SET_FACTOR
    else:
        resident = min(catalog.defaults.max_loaded_models, len(defaults))
        tiers, needed = CPU_HARDWARE, RUNTIME_GB + largest * WORKING_SET_FACTOR * resident
    return next((name for name, memory_gb in tiers if needed <= memory_gb), tiers[-1][0])


def unsized_defaults(catalog: Catalog) -> list[str]:
    """Default Hub models without `params`: the hardware suggestion cannot count them."""
    return [m.id for m in default_models(catalog) if m.params is None]


def front_matter(catalog: Catalog, requirements: str) -> dict[str, Any]:
    matter = {
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
        "suggested_hardware": suggested_hardware(catalog),
        "models": list(dict.fromkeys(m.id for m in hub_models(catalog))),
        "preload_from_hub": list(dict.fromkeys(m.id for m in default_models(catalog))),
    }
    if catalog.defaults.sign_in.huggingface is not None:
        # The Space's OAuth app: the Space then sets what Gradio's sign-in reads (OAUTH_CLIENT_ID, ...).
        # Its default scopes (openid, profile) cover the allow-list: the userinfo names the account's
        # organizations without more.
        matter["hf_oauth"] = True
    return matter


def system_packages(catalog: Catalog) -> list[str]:
    """Debian packages for packages.txt: ffmpeg for speech, Tesseract and its languages for documents."""
    tasks = {m.task for tab in catalog.tabs.values() for m in tab.models}
    packages = []
    if "automatic-speech-recognition" in tasks:
        packages.append("ffmpeg")
    if "document-question-answering" in tasks:
        packages.append("tesseract-ocr")
        packages += [f"tesseract-ocr-{code.replace('_', '-')}" for code in catalog.defaults.ocr_languages]
    return packages


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
