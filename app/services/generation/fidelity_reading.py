"""What the offline analyzer measures in a generated image, read lazily: only what a check asks for.

OCR is the slow stage (one to three seconds on a 1024 px image), so an image whose prompt has no
text is never read; face detection takes a few tenths of a second, the rest hundredths.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.services.analyzer.vision.colour import FloatArray, srgb_to_lab
from app.services.analyzer.vision.faces import Face, detect_faces
from app.services.analyzer.vision.loading import Frame, decode_frame
from app.services.analyzer.vision.ocr import TextLine, read_text
from app.services.analyzer.vision.palette import extract_palette, read_palette
from app.services.analyzer.vision.saliency import Saliency, spectral_residual
from app.services.analyzer.vision.sharpness import read_focus
from app.services.generation.fidelity_regions import Region, enclosed_regions

log = logging.getLogger(__name__)

_PALETTE_COLOURS = 8
# A graphic by the analyzer's describe rules: this share of pixels without local detail, and
# at most this many distinct colours (4 bits per channel).
_FLAT_SHARE, _FLAT_COLOURS = 0.6, 600


@dataclass(frozen=True)
class ImagePalette:
    hexes: list[str]
    labs: FloatArray  # (n, 3) CIELAB
    shares: FloatArray  # (n,) sums to 1


class ImageReading:
    """One decoded image and the measurements taken from it so far.

    Raises InvalidImageError / ImageTooLargeError at construction for bytes that are not an
    image we can read, so a bad file fails before any check runs.
    """

    def __init__(self, data: bytes, *, with_text: bool) -> None:
        self.frame: Frame = decode_frame(data)
        self._with_text = with_text  # OCR is slow: read text only when the prompt has some

    @property
    def aspect(self) -> float:
        return self.frame.width / max(1, self.frame.height)

    @cached_property
    def palette(self) -> ImagePalette:
        colours = extract_palette(self.frame.image, count=_PALETTE_COLOURS)
        hexes = [str(c["hex"]) for c in colours]
        rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in hexes], np.float64)
        shares = np.array([float(c["proportion"]) for c in colours], np.float64)
        return ImagePalette(hexes, srgb_to_lab(rgb.reshape(-1, 3)), shares / shares.sum())

    @cached_property
    def faces(self) -> list[Face]:
        return detect_faces(self.frame.grey)

    @cached_property
    def text(self) -> list[TextLine] | None:
        """Every line OCR reads; None when not asked for or the OCR engine is broken here."""
        if not self._with_text:
            return None
        try:
            return read_text(self.frame.rgb, max_lines=None)
        except Exception:
            # Same policy as the analyzer: a broken model costs the text check, not the score.
            log.exception("fidelity: text recognition failed; scoring without it")
            return None

    @cached_property
    def saliency(self) -> Saliency:
        return spectral_residual(self.frame.grey)

    @cached_property
    def is_flat(self) -> bool:
        """Flat colour (posters, illustrations, layout previews) rather than a photograph: the
        analyzer's own test for a graphic, mostly flat fills in few distinct colours."""
        if read_focus(self.frame.grey, self.saliency).flat_share < _FLAT_SHARE:
            return False
        return read_palette(self.frame).distinct_colors <= _FLAT_COLOURS

    @cached_property
    def regions(self) -> list[Region]:
        """Things enclosed by the frame, biggest first; text (the text check's) and faces
        (counted as people) are left out. Only meaningful on flat images: a photograph's
        shading breaks into many areas of colour that are not things."""
        boxes = [(t.x, t.y, t.w, t.h) for t in self.text or []]
        boxes += [(f.x, f.y, f.w, f.h) for f in self.faces]
        return enclosed_regions(self.frame.rgb, self.palette.labs, ignore=boxes)

    @property
    def subject_point(self) -> tuple[float, float] | None:
        """Where the main subject sits, None if nothing stands out.

        The analyzer's rule first: the biggest face (people look at faces first), else the
        salient centroid. On flat images the biggest enclosed area of colour replaces saliency,
        which there fires on every border between bands instead of on the subject.
        """
        if self.faces:
            return self.faces[0].centre
        if self.is_flat and self.regions:
            return self.regions[0].centre
        return self.saliency.centroid if self.saliency.coverage > 0 else None
