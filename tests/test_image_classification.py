"""The image classification tab through the running app: formats, modes, top_k, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image


def _save(tmp_path: Path, name: str, image: Image.Image, **kwargs) -> str:
    path = tmp_path / name
    image.save(path, **kwargs)
    return str(path)


def _rgb() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))


def _check(result, top_k: int) -> None:
    labels, code = result
    confidences = [c["confidence"] for c in labels["confidences"]]
    assert len(confidences) == top_k
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert "pipeline(" in code and "image-classification" in code and f"top_k={top_k}" in code


@pytest.mark.parametrize(
    "name, make, kwargs",
    [
        ("a.png", _rgb, {}),
        ("a.jpg", _rgb, {}),
        ("a.webp", _rgb, {}),
        ("a.gif", lambda: _rgb().convert("P"), {}),
        ("a.tiff", _rgb, {}),
        ("a.bmp", _rgb, {}),
        ("rgba.png", lambda: _rgb().convert("RGBA"), {}),
        ("grey.png", lambda: _rgb().convert("L"), {}),
        ("grey16.png", lambda: Image.fromarray(np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 20), {}),
        ("cmyk.jpg", lambda: _rgb().convert("CMYK"), {}),
    ],
)
def test_formats_and_modes(client, tmp_path, name, make, kwargs) -> None:
    path = _save(tmp_path, name, make(), **kwargs)
    _check(client.predict(handle_file(path), "ViT (test)", 3, api_name="/classify_image"), 3)


def test_top_k_and_second_model(client, tmp_path) -> None:
    path = _save(tmp_path, "a.png", _rgb())
    _check(client.predict(handle_file(path), "ConvNeXt (test)", 1, api_name="/classify_image"), 1)
    _check(client.predict(handle_file(path), "ViT (test)", 7, api_name="/classify_image"), 7)


def test_bad_images(client, tmp_path) -> None:
    with pytest.raises(AppError, match="provide an image"):
        client.predict(None, "ViT (test)", 5, api_name="/classify_image")
    text = tmp_path / "notes.png"
    text.write_text("hello, not an image")
    with pytest.raises(AppError, match="not an image"):
        client.predict(handle_file(str(text)), "ViT (test)", 5, api_name="/classify_image")
    buffer = io.BytesIO()
    _rgb().resize((256, 256)).save(buffer, format="PNG")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(AppError, match="damaged or truncated"):
        client.predict(handle_file(str(truncated)), "ViT (test)", 5, api_name="/classify_image")
    bomb = _save(tmp_path, "bomb.png", Image.new("1", (8000, 8000)))
    with pytest.raises(AppError, match="too large"):
        client.predict(handle_file(bomb), "ViT (test)", 5, api_name="/classify_image")
