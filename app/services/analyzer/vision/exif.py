"""Camera data from EXIF: make, model, lens, focal length, aperture, exposure, ISO."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from PIL import ExifTags, Image

_TAG = ExifTags.Base
# Phone and compact sensors are tiny: their real focal length (4-7 mm) says nothing about the
# field of view. Without a 35 mm equivalent, trust only lengths an interchangeable lens has.
_MIN_TRUSTED_RAW_FOCAL = 8.0
_MAX_TEXT = 80


@dataclass(frozen=True)
class CameraData:
    make: str = ""
    model: str = ""
    lens_model: str = ""
    focal_length_mm: float | None = None  # as recorded
    focal_length_35mm: float | None = None  # full-frame equivalent, when recorded
    aperture: float | None = None
    exposure_time: float | None = None  # seconds
    iso: int | None = None
    taken_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.raw)


def read_camera(exif: Image.Exif) -> CameraData:
    base = {int(k): v for k, v in exif.items()}
    try:
        sub = {int(k): v for k, v in exif.get_ifd(ExifTags.IFD.Exif).items()}
    except (KeyError, ValueError, TypeError, OSError):
        sub = {}  # a broken sub-IFD must not sink the rest of the analysis
    tags = {**base, **sub}
    data = CameraData(
        make=_text(tags.get(_TAG.Make)),
        model=_text(tags.get(_TAG.Model)),
        lens_model=_text(tags.get(_TAG.LensModel)),
        focal_length_mm=_number(tags.get(_TAG.FocalLength)),
        focal_length_35mm=_number(tags.get(_TAG.FocalLengthIn35mmFilm)),
        aperture=_number(tags.get(_TAG.FNumber)),
        exposure_time=_number(tags.get(_TAG.ExposureTime)),
        iso=_integer(tags.get(_TAG.ISOSpeedRatings)),
        taken_at=_text(tags.get(_TAG.DateTimeOriginal) or tags.get(_TAG.DateTime)),
    )
    raw = {
        "make": data.make,
        "model": data.model,
        "lens_model": data.lens_model,
        "focal_length_mm": data.focal_length_mm,
        "focal_length_35mm": data.focal_length_35mm,
        "aperture": data.aperture,
        "exposure": _exposure_text(data.exposure_time),
        "iso": data.iso,
        "taken_at": data.taken_at,
    }
    return replace(data, raw={k: v for k, v in raw.items() if v})


def equivalent_focal_length(data: CameraData) -> float | None:
    """Full-frame-equivalent focal length in the schema's 4..1200 mm range, if known."""
    focal = data.focal_length_35mm
    if focal is None and data.focal_length_mm and data.focal_length_mm >= _MIN_TRUSTED_RAW_FOCAL:
        focal = data.focal_length_mm
    return round(focal, 1) if focal is not None and 4 <= focal <= 1200 else None


def lens_kind(focal_35mm: float) -> str:
    if focal_35mm < 20:
        return "ultra wide-angle"
    if focal_35mm < 35:
        return "wide-angle"
    if focal_35mm <= 70:
        return "standard"
    return "telephoto" if focal_35mm <= 300 else "super-telephoto"


def _exposure_text(seconds: float | None) -> str:
    if not seconds:
        return ""
    if seconds >= 1:
        return f"{seconds:g} s"
    return f"1/{round(1 / seconds)} s"


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    # Camera firmware pads strings with NULs and spaces; keep it printable and short.
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:_MAX_TEXT]


def _number(value: object) -> float | None:
    if isinstance(value, tuple) and value:
        value = value[0]
    try:
        number = float(value)  # type: ignore[arg-type]  # IFDRational, int, Fraction, str
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if number != number or number <= 0 or number == float("inf"):  # NaN, 0/0, bogus
        return None
    return round(number, 4)


def _integer(value: object) -> int | None:
    number = _number(value)
    return round(number) if number is not None else None
