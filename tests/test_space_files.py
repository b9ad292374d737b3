"""Space files: the committed ones are what `python app.py space-files` writes; hardware and packages follow the catalog."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from playground.config.catalog import CatalogError, load_catalog, parse_catalog
from playground.config.space import (
    SPACE_CATALOG_NAME,
    SPACE_LIMITS,
    apply_space_defaults,
    default_catalog,
    front_matter,
    suggested_hardware,
    system_packages,
)

ROOT = Path(__file__).resolve().parents[1]


def copy_project(target: Path) -> None:
    for name in ("app.py", "models.yaml", SPACE_CATALOG_NAME, "requirements.txt", "README.md", "packages.txt"):
        shutil.copy(ROOT / name, target / name)
    for package in ("playground", "tabs"):
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))


def front_matter_of(readme: Path) -> dict:
    return yaml.safe_load(readme.read_text().split("---\n")[1])


def test_committed_space_files_match_the_generator(tmp_path: Path) -> None:
    copy_project(tmp_path)
    subprocess.run([sys.executable, "app.py", "space-files"], cwd=tmp_path, check=True, capture_output=True)
    for name in ("README.md", "packages.txt"):
        assert (tmp_path / name).read_text() == (ROOT / name).read_text(), (
            f"{name} drifted: run `python app.py space-files`"
        )


def test_front_matter_follows_requirements_and_the_space_catalog() -> None:
    catalog = load_catalog(ROOT / SPACE_CATALOG_NAME)
    matter = front_matter_of(ROOT / "README.md")
    assert matter == front_matter(catalog, (ROOT / "requirements.txt").read_text())
    assert f"gradio=={matter['sdk_version']}" in (ROOT / "requirements.txt").read_text()
    assert matter["app_file"] == "app.py" and matter["sdk"] == "gradio" and matter["python_version"] == "3.11"
    assert set(matter["preload_from_hub"]) == {m.id for tab in catalog.tabs.values() for m in tab.models if m.default}
    assert set(matter["preload_from_hub"]) < set(matter["models"])
    assert matter["suggested_hardware"] == "cpu-basic", "models.space.yaml is sized for the free CPU Space"
    assert (ROOT / "packages.txt").read_text().split() == [
        "ffmpeg",
        "tesseract-ocr",
        "tesseract-ocr-eng",
        "tesseract-ocr-kor",
    ]


def test_catalog_option_writes_another_catalogs_files(tmp_path: Path) -> None:
    copy_project(tmp_path)
    data = yaml.safe_load((ROOT / "models.yaml").read_text())
    data["defaults"]["ocr_languages"] = ["eng", "chi_sim"]
    llama = next(m for m in data["tabs"]["text_generation"]["models"] if m["id"].startswith("meta-llama/"))
    for entry in data["tabs"]["text_generation"]["models"]:
        entry.pop("default", None)
    llama.update(default=True, params="8B")
    (tmp_path / "gpu.yaml").write_text(yaml.safe_dump(data))
    result = subprocess.run(
        [sys.executable, "app.py", "space-files", "--catalog", "gpu.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    matter = front_matter_of(tmp_path / "README.md")
    # 8B parameters in bfloat16 = 16 GB of weights: more than a T4 holds, so the next GPU up.
    assert matter["suggested_hardware"] == "l4x1"
    assert "meta-llama/Llama-3.1-8B-Instruct" in matter["preload_from_hub"]
    assert "openai/whisper-large-v3-turbo" in matter["models"]
    assert (tmp_path / "packages.txt").read_text().split()[-1] == "tesseract-ocr-chi-sim"


def catalog_with(defaults: dict, models: list[dict]) -> object:
    return parse_catalog(
        {"defaults": defaults, "tabs": {"text_generation": {"task": "text-generation", "models": models}}}
    )


@pytest.mark.parametrize(
    "params,dtype,device_map,max_loaded,expected",
    [
        ("494M", "auto", None, 3, "cpu-basic"),  # 2 GB float32, three defaults resident: ~11 GB
        ("1.5B", "auto", None, 3, "cpu-upgrade"),  # 6 GB float32, three defaults resident: ~29 GB
        ("1.5B", "auto", None, 1, "cpu-basic"),  # only one model resident at a time
        ("1.5B", "bfloat16", "auto", 3, "t4-small"),  # GPU: 3 GB of weights
        ("70B", "bfloat16", "auto", 3, "a100-large"),  # larger than any tier: the largest
    ],
)
def test_suggested_hardware_from_the_largest_default(
    params: str, dtype: str, device_map: str | None, max_loaded: int, expected: str
) -> None:
    largest = {"id": "org/big", "default": True, "params": params, "dtype": dtype, "device_map": device_map}
    not_default = {"id": "org/huge", "params": "100B"}
    catalog = parse_catalog(
        {
            "defaults": {"max_loaded_models": max_loaded},
            "tabs": {
                "text_generation": {"task": "text-generation", "models": [largest, not_default]},
                "fill_mask": {"task": "fill-mask", "models": [{"id": "org/mlm", "default": True, "params": "110M"}]},
                "image_classification": {
                    "task": "image-classification",
                    "models": [{"id": "org/vit", "default": True}],
                },
            },
        }
    )
    assert suggested_hardware(catalog) == expected


def test_params_and_ocr_languages_are_validated() -> None:
    assert (
        catalog_with({}, [{"id": "org/m", "params": "1.5B"}]).tabs["text_generation"].models[0].params == 1_500_000_000
    )
    with pytest.raises(CatalogError, match="params must be a count"):
        catalog_with({}, [{"id": "org/m", "params": "big"}])
    with pytest.raises(CatalogError, match="not Tesseract language codes"):
        catalog_with({"ocr_languages": ["Korean"]}, [{"id": "org/m"}])


def test_packages_follow_the_tasks() -> None:
    text_only = catalog_with({"ocr_languages": ["eng", "kor"]}, [{"id": "org/m"}])
    assert system_packages(text_only) == []


def test_a_space_runs_its_own_catalog_with_capped_limits() -> None:
    assert default_catalog(ROOT, on_space=True) == ROOT / SPACE_CATALOG_NAME
    assert default_catalog(ROOT, on_space=False) == ROOT / "models.yaml"
    catalog = catalog_with(
        {
            "allow_custom_models": True,
            "max_upload_mb": 500,
            "queue_size": 1000,
            "max_audio_minutes": 2,
            "max_pdf_pages": 100,
        },
        [{"id": "org/m"}],
    )
    apply_space_defaults(catalog)
    limits = catalog.defaults
    assert not limits.allow_custom_models
    assert (limits.max_upload_mb, limits.queue_size, limits.max_pdf_pages) == (
        SPACE_LIMITS["max_upload_mb"],
        SPACE_LIMITS["queue_size"],
        SPACE_LIMITS["max_pdf_pages"],
    )
    assert limits.max_audio_minutes == 2, "a stricter catalog value stays"


def test_hugging_face_sign_in_asks_the_space_for_its_oauth_app() -> None:
    catalog = load_catalog(ROOT / SPACE_CATALOG_NAME)
    requirements = (ROOT / "requirements.txt").read_text()
    assert "hf_oauth" not in front_matter(catalog, requirements), "the shipped Space is open to everyone"
    data = yaml.safe_load((ROOT / SPACE_CATALOG_NAME).read_text())
    data["defaults"]["sign_in"] = {"huggingface": {"users": ["alice"], "organizations": ["my-class"]}}
    matter = front_matter(parse_catalog(data), requirements)
    assert matter["hf_oauth"] is True and "hf_oauth_scopes" not in matter
