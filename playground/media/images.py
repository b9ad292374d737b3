"""Opening user images safely: any format Pillow reads, normalised to an RGB picture the models expect.

Handles EXIF orientation, palette/alpha/greyscale/16-bit/CMYK modes, the first frame of animations,
and refuses decompression bombs and truncated files with a clear message instead of a traceback.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from playground.core.texts import SHARED_LOCALES, Texts

# Example pictures that ship with the repository (licence: assets/examples/LICENSE.md).
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
# Pillow's default bomb limit is ~89 MP; a demo never needs more than this and stays responsive.
MAX_PIXELS = 40_000_000

TEXTS = Texts.load("images", SHARED_LOCALES)


def to_rgb(image: Any) -> Any:
    """An RGB copy of a PIL image, converting every mode correctly (alpha composited on white)."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float greyscale: scale the real range into 8 bits instead of clipping to white.
        import numpy as np

        array = np.asarray(image, dtype=np.float32)
        low, high = float(array.min()), float(array.max())
        scaled = (array - low) / (high - low) * 255.0 if high > low else np.zeros_like(array)
        image = Image.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def open_image(source: Any, max_pixels: int = MAX_PIXELS, max_bytes: int | None = None) -> Any:
    """A PIL RGB image from a path, a PIL image or a NumPy array; raises UserError when unusable."""
    from PIL import Image

    if source is None or (isinstance(source, str) and not source.strip()):
        raise TEXTS.error("no_image")
    if isinstance(source, Image.Image):
        return (
            _checked(source, max_pixels, "image").copy()
            if source.mode == "RGB"
            else to_rgb(_checked(source, max_pixels, "image"))
        )
    if not isinstance(source, (str, Path)):
        import numpy as np

        return to_rgb(Image.fromarray(np.asarray(source)))
    path = Path(source)
    name = path.name
    if max_bytes is not None and path.exists() and path.stat().st_size > max_bytes:
        raise TEXTS.error("too_big_file", size_mb=path.stat().st_size / 2**20, limit_mb=max_bytes / 2**20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _checked(image, max_pixels, name)
                image.seek(0)  # animations: the first frame
                image.load()
                return to_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses before the size reaches us (beyond twice its own limit); its message has the count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        megapixels = int(found.group(1)) / 1e6 if found else max_pixels / 1e6
        raise TEXTS.error("bomb_declared", megapixels=megapixels, limit=max_pixels / 1e6) from None
    except Image.UnidentifiedImageError:
        raise TEXTS.error("not_image", name=name) from None
    except (OSError, SyntaxError, ValueError) as exc:
        if "truncated" in str(exc).lower() or isinstance(exc, (OSError, SyntaxError)):
            raise TEXTS.error("corrupt", name=name) from None
        raise


def _checked(image: Any, max_pixels: int, name: str) -> Any:
    width, height = image.size
    if width * height > max_pixels:
        raise TEXTS.error("bomb", width=width, height=height, megapixels=width * height / 1e6, limit=max_pixels / 1e6)
    if width == 0 or height == 0:
        raise TEXTS.error("corrupt", name=name)
    return image
