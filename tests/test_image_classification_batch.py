"""`/classify_image_batch`: concurrent requests are batched by Gradio and answered exactly like
`/classify_image` answers each one alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image


def _image(tmp_path: Path, seed: int, size: tuple[int, int]) -> str:
    path = tmp_path / f"image-{seed}.png"
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (*size, 3), dtype=np.uint8)).save(path)
    return str(path)


def test_batched_requests_match_single_requests(client, tmp_path: Path) -> None:
    images = [_image(tmp_path, seed, size) for seed, size in ((1, (40, 60)), (2, (64, 64)), (3, (90, 30)))]
    requests = [(images[i % 3], 3 if i % 2 else 5) for i in range(8)]  # two top_k groups in one batch
    jobs = [client.submit(handle_file(path), None, top_k, api_name="/classify_image_batch") for path, top_k in requests]
    for (path, top_k), job in zip(requests, jobs):
        batched = job.result(timeout=120)
        single, _code = client.predict(handle_file(path), None, top_k, api_name="/classify_image")
        assert [c["label"] for c in batched["confidences"]] == [c["label"] for c in single["confidences"]]
        assert [c["confidence"] for c in batched["confidences"]] == pytest.approx(
            [c["confidence"] for c in single["confidences"]], abs=1e-5
        )
        assert len(batched["confidences"]) == top_k


def test_batch_endpoint_refuses_bad_input_clearly(client, tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_text("not an image")
    with pytest.raises(AppError, match="not an image"):
        client.predict(handle_file(str(junk)), None, 5, api_name="/classify_image_batch")
    with pytest.raises(AppError, match="minimum value 1"):  # Gradio checks the slider range
        client.predict(handle_file(_image(tmp_path, 4, (32, 32))), None, 0, api_name="/classify_image_batch")
