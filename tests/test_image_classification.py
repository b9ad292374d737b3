"""The image classification tab through the running app: formats, modes, top_k, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from snippets import last_line, run_snippet

from playground.media.images import EXAMPLES_DIR


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
    # Beyond twice Pillow's own limit, opening the file already fails (Gradio opens it first).
    huge = _save(tmp_path, "huge.png", Image.new("1", (20000, 20000)))
    with pytest.raises(AppError, match=r"too large: \d+ MP declared \(a possible decompression bomb\)"):
        client.predict(handle_file(huge), "ViT (test)", 5, api_name="/classify_image")
    _check(
        client.predict(handle_file(_save(tmp_path, "ok.png", _rgb())), "ViT (test)", 2, api_name="/classify_image"), 2
    )


def _scores(client, path: str, model: str = "ViT (test)", top_k: int = 10) -> dict[str, float]:
    labels, _ = client.predict(handle_file(path), model, top_k, api_name="/classify_image")
    return {c["label"]: c["confidence"] for c in labels["confidences"]}


def _pattern() -> Image.Image:
    """A picture whose orientation matters: a bright block in one corner of a gradient."""
    array = np.zeros((48, 80, 3), dtype=np.uint8)
    array[..., 0] = np.linspace(0, 255, 80, dtype=np.uint8)
    array[:16, :20] = 255
    return Image.fromarray(array)


@pytest.mark.parametrize("model", ["ViT (test)", "ConvNeXt (test)", "ResNet (test)", "MobileNet v2 (test)"])
def test_every_catalog_architecture(client, tmp_path, model) -> None:
    path = _save(tmp_path, "a.png", _rgb())
    _check(client.predict(handle_file(path), model, 4, api_name="/classify_image"), 4)
    labels, _ = client.predict(handle_file(path), model, 10, api_name="/classify_image")
    # All ten classes: a full softmax sums to 1.
    assert sum(c["confidence"] for c in labels["confidences"]) == pytest.approx(1.0, abs=1e-4)


def test_exif_orientation_applied(client, tmp_path) -> None:
    upright = _pattern()
    # Stored turned left, with EXIF orientation 6 ("turn right to display") to undo it.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    tagged = _save(tmp_path, "tagged.png", stored, exif=exif)  # lossless, so scores compare exactly
    assert Image.open(tagged).getexif()[0x0112] == 6
    tagged_scores = _scores(client, tagged)
    assert tagged_scores == pytest.approx(_scores(client, _save(tmp_path, "upright.png", upright)), abs=1e-5)
    assert tagged_scores != pytest.approx(_scores(client, _save(tmp_path, "stored.png", stored)), abs=1e-5)


def test_16_bit_greyscale_keeps_its_range(client, tmp_path) -> None:
    grey = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))
    eight = _save(tmp_path, "grey8.png", Image.fromarray(grey, "L"))
    sixteen = _save(tmp_path, "grey16.png", Image.fromarray(grey.astype(np.uint16) * 257))
    assert Image.open(sixteen).mode.startswith("I")
    assert _scores(client, sixteen) == pytest.approx(_scores(client, eight), abs=1e-5)


def test_cmyk_converted(client, tmp_path) -> None:
    rgb = _pattern()
    cmyk = _save(tmp_path, "cmyk.tiff", rgb.convert("CMYK"))
    assert Image.open(cmyk).mode == "CMYK"
    assert _scores(client, cmyk) == pytest.approx(_scores(client, _save(tmp_path, "rgb.png", rgb)), abs=1e-5)


def test_gif_first_frame(client, tmp_path) -> None:
    first, second = _pattern(), _pattern().transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    frames = [frame.quantize(colors=64) for frame in (first, second)]
    animation = tmp_path / "anim.gif"
    frames[0].save(animation, save_all=True, append_images=frames[1:], duration=100, loop=0)
    frame_one = _save(tmp_path, "one.png", Image.open(animation).convert("RGB"))
    scores = _scores(client, str(animation))
    assert scores == pytest.approx(_scores(client, frame_one), abs=1e-5)
    assert scores != pytest.approx(_scores(client, _save(tmp_path, "two.png", frames[1].convert("RGB"))), abs=1e-5)


def test_transparency_composited_on_white(client, tmp_path) -> None:
    rgba = _pattern().convert("RGBA")
    rgba.putalpha(Image.fromarray(np.where(np.arange(80) < 40, 0, 255).astype(np.uint8)[None, :].repeat(48, 0)))
    white = Image.new("RGB", rgba.size, "white")
    white.paste(rgba, mask=rgba.getchannel("A"))
    assert _scores(client, _save(tmp_path, "rgba.png", rgba)) == pytest.approx(
        _scores(client, _save(tmp_path, "white.png", white)), abs=1e-5
    )


def test_image_sources_and_shipped_examples(app, client) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(app.url + "config", timeout=10) as response:
        config = json.load(response)
    images = [c for c in config["components"] if c.get("type") == "image"]
    assert images and all(set(c["props"]["sources"]) == {"upload", "webcam", "clipboard"} for c in images)
    datasets = [c for c in config["components"] if c.get("type") == "dataset"]
    shipped = sorted(p.name for p in EXAMPLES_DIR.glob("*.png"))
    assert len(shipped) >= 3 and "CC0" in (EXAMPLES_DIR / "LICENSE.md").read_text()
    listed = json.dumps([d["props"]["samples"] for d in datasets])
    assert all(name in listed for name in shipped), "every shipped example is a clickable example"
    _check(client.predict(handle_file(str(EXAMPLES_DIR / shipped[0])), "ViT (test)", 3, api_name="/classify_image"), 3)


def test_image_over_the_upload_limit(test_catalog, tmp_path) -> None:
    from conftest import catalog_variant, launch_app

    catalog = catalog_variant(test_catalog, tmp_path / "models.yaml", max_upload_mb=0.25)
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 255, (400, 400, 3), dtype=np.uint8))
    big = _save(tmp_path, "big.png", noise)  # ~470 KB of incompressible pixels
    small = _save(tmp_path, "small.png", _rgb())
    running = launch_app(catalog, tmp_path, "--tabs", "image_classification")
    try:
        limited = running.client()
        with pytest.raises(Exception, match=r"big.png exceeds the maximum file size of 262144 bytes"):
            limited.predict(handle_file(big), "ViT (test)", 3, api_name="/classify_image")
        _check(limited.predict(handle_file(small), "ViT (test)", 3, api_name="/classify_image"), 3)  # still serving
    finally:
        running.stop()


def test_show_code_snippet_reproduces_the_app(client, test_models, tmp_path) -> None:
    import ast

    _rgb().save(tmp_path / "your_image.jpg", quality=100)
    labels, code = client.predict(
        handle_file(str(tmp_path / "your_image.jpg")), "ResNet (test)", 4, api_name="/classify_image"
    )
    # Catalog paths are relative to models.yaml: run where the catalog lives, with the picture there.
    printed = ast.literal_eval(
        last_line(run_snippet(code, {"your_image.jpg": tmp_path / "your_image.jpg"}, cwd=test_models))
    )
    assert [r["label"] for r in printed] == [c["label"] for c in labels["confidences"]]
    assert [r["score"] for r in printed] == pytest.approx([c["confidence"] for c in labels["confidences"]], abs=1e-5)


def test_snippet_loads_the_model_as_the_app_did(client, tmp_path) -> None:
    from snippet_calls import app_load_kwargs, pipeline_loads

    _, code = client.predict(
        handle_file(_save(tmp_path, "a.png", _rgb())), "ConvNeXt (test)", 3, api_name="/classify_image"
    )
    assert pipeline_loads(code) == {"./convnext": app_load_kwargs(client, "ConvNeXt (test)")}
