"""The committed Space files are exactly what `python app.py space-files` writes from the catalog."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from playground.catalog import load_catalog
from playground.space import front_matter, system_packages

ROOT = Path(__file__).resolve().parents[1]


def test_committed_space_files_match_the_generator(tmp_path: Path) -> None:
    for name in ("app.py", "models.yaml", "requirements.txt", "README.md", "packages.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    for package in ("playground", "tabs"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "app.py", "space-files"], cwd=tmp_path, check=True, capture_output=True)
    for name in ("README.md", "packages.txt"):
        assert (tmp_path / name).read_text() == (ROOT / name).read_text(), f"{name} drifted: run `python app.py space-files`"


def test_front_matter_follows_requirements_and_catalog() -> None:
    catalog = load_catalog(ROOT / "models.yaml")
    matter = yaml.safe_load((ROOT / "README.md").read_text().split("---\n")[1])
    assert matter == front_matter(catalog, (ROOT / "requirements.txt").read_text())
    assert f"gradio=={matter['sdk_version']}" in (ROOT / "requirements.txt").read_text()
    assert matter["app_file"] == "app.py" and matter["sdk"] == "gradio"
    assert set(matter["preload_from_hub"]) <= set(matter["models"])
    assert "ffmpeg" in system_packages(catalog) and "tesseract-ocr" in system_packages(catalog)
