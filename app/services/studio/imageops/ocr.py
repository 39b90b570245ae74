"""Text in the image as `<stem>.ocr.txt` (one line per line) and `<stem>.ocr.json` (with
confidence and a pixel box per line), read by the analyzer's RapidOCR engine."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from PIL import Image

from app.services.studio.imageops.outputs import JSON_MEDIA_TYPE, TEXT_MEDIA_TYPE, OutputFile

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Decode at least this long an edge for OCR; the engine itself reads at 960 px, and a little
# more lets its own downscale keep thin strokes.
OCR_SOURCE_EDGE = 1280


def ocr_outputs(image: Image.Image, *, stem: str, size: tuple[int, int]) -> list[OutputFile]:
    """`size` is the upright size of the original image: boxes are given in its pixels, even
    when a smaller copy was decoded to read from."""
    # The OCR engine (RapidOCR on onnxruntime, with OpenCV and the analyzer's vision package)
    # takes seconds to load: only a spec that asks for text pays for it.
    from app.services.analyzer.vision.ocr import read_text

    lines = read_text(_rgb(image), max_lines=None)
    width, height = size
    text = "\n".join(line.text for line in lines)
    document = {
        "text": text,
        "lines": [
            {
                "text": line.text,
                "confidence": round(line.score, 4),
                # [x, y, width, height] in pixels of the (upright) original.
                "box": [
                    round(line.x * width),
                    round(line.y * height),
                    round(line.w * width),
                    round(line.h * height),
                ],
            }
            for line in lines
        ],
    }
    return [
        OutputFile(f"{stem}.ocr.txt", (text + "\n" if text else "").encode(), TEXT_MEDIA_TYPE),
        OutputFile(
            f"{stem}.ocr.json",
            json.dumps(document, ensure_ascii=False, indent=2).encode(),
            JSON_MEDIA_TYPE,
        ),
    ]


def _rgb(image: Image.Image) -> npt.NDArray[np.uint8]:
    import numpy as np

    if image.mode in ("RGBA", "LA"):
        # Text on a transparent background reads as it looks in a viewer: on white.
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return np.asarray(image.convert("RGB"))
