"""The operations spec: what a studio job, `POST /api/jobs` and `jsoncraft ops` ask for.

One pydantic model, validated once at the edge, so the engine, the job queue, the cost preview and
the UI all read the same thing. Every field is optional; an empty spec is refused because it would
produce nothing. The pipeline order is fixed (see `OpsSpec.steps`) so results do not depend on the
order a person ticked the boxes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.services.core.errors import InvalidInputError

ImageFormat = Literal["jpeg", "png", "webp", "avif"]
FilterName = Literal[
    "grayscale", "sepia", "sharpen", "blur", "brightness", "contrast", "saturation"
]
# Filters that take an amount: a factor for brightness/contrast/saturation (1.0 = unchanged),
# a radius in pixels for blur and a strength for sharpen.
AMOUNT_FILTERS: frozenset[str] = frozenset(
    {"brightness", "contrast", "saturation", "blur", "sharpen"}
)
MAX_EDGE = 16_384
_ASPECT = re.compile(r"^\s*(\d{1,3})\s*[:x/]\s*(\d{1,3})\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resize(_Strict):
    """long_edge: scale so the longer side is `long_edge`. exact: stretch to width x height.
    fit: scale to fit inside width x height. fill: scale and centre-crop to cover width x height.
    Images are never enlarged except by `exact` and `fill`."""

    mode: Literal["long_edge", "exact", "fit", "fill"] = "long_edge"
    long_edge: Annotated[int, Field(ge=1, le=MAX_EDGE)] | None = None
    width: Annotated[int, Field(ge=1, le=MAX_EDGE)] | None = None
    height: Annotated[int, Field(ge=1, le=MAX_EDGE)] | None = None

    @model_validator(mode="after")
    def _sizes_for_mode(self) -> Resize:
        if self.mode == "long_edge" and self.long_edge is None:
            raise ValueError("resize to a long edge needs long_edge (pixels)")
        if self.mode != "long_edge" and (self.width is None or self.height is None):
            raise ValueError(f"resize mode {self.mode!r} needs both width and height (pixels)")
        return self


class Crop(_Strict):
    """Centre crop to an aspect ratio such as "16:9", "1:1" or "4x5"."""

    aspect: str

    @field_validator("aspect")
    @classmethod
    def _valid_aspect(cls, value: str) -> str:
        match = _ASPECT.match(value)
        if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
            raise ValueError('aspect must look like "16:9" (two whole numbers from 1 to 999)')
        return f"{int(match.group(1))}:{int(match.group(2))}"

    @property
    def ratio(self) -> float:
        w, h = self.aspect.split(":")
        return int(w) / int(h)


class Convert(_Strict):
    format: ImageFormat


class Compress(_Strict):
    """Either a fixed quality (1–100) or a target file size in kilobytes (searched for)."""

    quality: Annotated[int, Field(ge=1, le=100)] | None = None
    target_kb: Annotated[int, Field(ge=1, le=100_000)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Compress:
        if (self.quality is None) == (self.target_kb is None):
            raise ValueError("compress takes either quality (1-100) or target_kb, not both")
        return self


class Filter(_Strict):
    name: FilterName
    amount: Annotated[float, Field(gt=0, le=10)] | None = None


class Watermark(_Strict):
    text: Annotated[str, Field(min_length=1, max_length=100)]
    position: Literal["top-left", "top-right", "bottom-left", "bottom-right", "center"] = (
        "bottom-right"
    )
    opacity: Annotated[float, Field(ge=0.05, le=1.0)] = 0.5


class RemoveBackground(_Strict):
    """local: OpenCV GrabCut seeded by saliency (offline; good on a clear subject against a
    plain background, weak on hair and busy scenes). fal: Fal.ai's remote model (needs FAL_KEY)."""

    provider: Literal["local", "fal"] = "local"


class Describe(_Strict):
    """Run the analyzer on each image and save its JSON prompt to the gallery, tagged with the
    job. `model` is an analyzer model id (the offline one needs no key); the jobs layer checks
    that it is offered and prices it."""

    model: Annotated[str, Field(min_length=1, max_length=200)]


class OpsSpec(_Strict):
    resize: Resize | None = None
    crop: Crop | None = None
    convert: Convert | None = None
    compress: Compress | None = None
    metadata: Literal["keep", "strip"] = "strip"
    auto_orient: bool = True
    filters: Annotated[list[Filter], Field(max_length=10)] = []
    watermark: Watermark | None = None
    remove_background: RemoveBackground | None = None
    ocr: bool = False
    thumbnails: Annotated[list[Annotated[int, Field(ge=16, le=2048)]], Field(max_length=5)] = []
    describe: Describe | None = None

    @model_validator(mode="after")
    def _coherent(self) -> OpsSpec:
        if not self.produces_anything:
            raise ValueError("pick at least one operation")
        if self.remove_background is not None and self.output_format_override == "jpeg":
            raise ValueError(
                "background removal makes a transparent image, and JPEG has no transparency: "
                "convert to PNG, WebP or AVIF"
            )
        return self

    @property
    def output_format_override(self) -> str | None:
        return self.convert.format if self.convert else None

    @property
    def image_ops(self) -> bool:
        """Whether the job writes a processed image per input (OCR and thumbnails alone do not)."""
        return any(
            (
                self.resize,
                self.crop,
                self.convert,
                self.compress,
                self.filters,
                self.watermark,
                self.remove_background,
                # Stripping metadata or straightening a photo is a result worth downloading on
                # its own, but only when asked for: both are defaults, and {} must not pass.
                "metadata" in self.model_fields_set and self.metadata == "strip",
                "auto_orient" in self.model_fields_set and self.auto_orient,
            )
        )

    @property
    def produces_anything(self) -> bool:
        return self.image_ops or self.ocr or bool(self.thumbnails) or self.describe is not None

    @property
    def ai_operations(self) -> list[str]:
        """The priced, model-backed operations in this spec, for the cost preview."""
        ops = []
        if self.remove_background is not None:
            ops.append(f"remove_background_{self.remove_background.provider}")
        if self.ocr:
            ops.append("ocr")
        return ops

    @property
    def steps(self) -> list[str]:
        """The pipeline in the order it runs, for display and logs."""
        order = [
            ("auto_orient", self.auto_orient),
            ("crop", self.crop),
            ("resize", self.resize),
            ("filters", self.filters),
            ("remove_background", self.remove_background),
            ("watermark", self.watermark),
            ("ocr", self.ocr),
            ("thumbnails", self.thumbnails),
            ("encode", self.image_ops),
            # The analyzer reads the finished image (the original when nothing changes it).
            ("describe", self.describe),
        ]
        return [name for name, on in order if on]


def parse_spec(raw: Any) -> OpsSpec:
    """Validate a spec from JSON (a dict or a JSON string); errors name the field that is wrong."""
    try:
        if isinstance(raw, str | bytes):
            return OpsSpec.model_validate_json(raw)
        return OpsSpec.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err["loc"]) or "spec"
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "json_invalid":
                msg = "the operations spec is not valid JSON"
                where = "spec"
            problems.append(f"{where}: {msg}")
        raise InvalidInputError("Check the operations: " + "; ".join(problems)) from None
