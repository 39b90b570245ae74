"""One image through the whole spec: decode, orient, crop, resize, filters, background,
watermark, then the files (image, OCR text, thumbnails).

The order is fixed (`OpsSpec.steps`). OCR reads the upright original, before crop, resize,
filters and watermark, so the text found is the photo's and not our watermark's. Thumbnails
are made from the finished image.
"""

from __future__ import annotations

import logging
import re

from PIL import Image

from app.services.images.decode import sanitize_filename
from app.services.studio.imageops.decode import ORIENTATION_TAG, Header, decode, read_header
from app.services.studio.imageops.encode import Metadata, encode_image, has_alpha, to_srgb
from app.services.studio.imageops.filters import apply_filters
from app.services.studio.imageops.geometry import (
    crop_to_aspect,
    long_edge_scale,
    output_scale,
    resize,
    thumbnail,
)
from app.services.studio.imageops.ocr import OCR_SOURCE_EDGE, ocr_outputs
from app.services.studio.imageops.outputs import IMAGE_FORMATS, OutputFile
from app.services.studio.imageops.spec import Compress, OpsSpec
from app.services.studio.imageops.watermark import add_watermark
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Source format -> output format when the spec does not convert (others become PNG: lossless,
# and it keeps transparency, which GIF and TIFF may have).
_SAME_FORMAT = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "AVIF": "avif"}
THUMBNAIL_QUALITY = {"jpeg": 85, "webp": 80}
# EXIF orientation -> the transpose that makes the image upright (the table in ImageOps).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")


def process_image(
    data: bytes, name: str, spec: OpsSpec, *, settings: Settings | None = None
) -> list[OutputFile]:
    """Run the spec on one image. Raises a UserFacingError subclass whose message is meant for
    that image's row (corrupt, too large, unsupported, provider failed...)."""
    settings = settings or get_settings()
    header = read_header(data, max_pixels=settings.max_image_pixels)
    upright_size = header.upright_size(auto_orient=spec.auto_orient)
    decoded = decode(header, scale=decode_scale(spec, upright_size))
    upright_size = header.upright_size(auto_orient=spec.auto_orient)  # a PNG's EXIF comes late
    image = decoded.image
    oriented = spec.auto_orient and header.orientation in _UPRIGHT
    if oriented:
        image = image.transpose(_UPRIGHT[header.orientation])
    stem = output_stem(name)
    outputs: list[OutputFile] = []

    ocr_files = ocr_outputs(image, stem=stem, size=upright_size) if spec.ocr else []
    if spec.crop is not None:
        image = crop_to_aspect(image, spec.crop)
    if spec.resize is not None:
        image = resize(image, spec.resize)
    if spec.filters:
        image = apply_filters(image, spec.filters)
    if spec.remove_background is not None:
        # OpenCV's GrabCut and the saliency map: loaded only for this operation.
        from app.services.studio.imageops.background import remove_background

        image = remove_background(
            image, provider=spec.remove_background.provider, settings=settings
        )
    if spec.watermark is not None:
        image = add_watermark(image, spec.watermark)
    image.info = {}  # what is written is decided below, not by what Pillow carried along

    icc = decoded.icc_profile
    if spec.image_ops:
        fmt = output_format(spec, decoded.format, alpha=has_alpha(image))
        if spec.metadata == "keep":
            metadata = Metadata(
                exif=_exif_bytes(header, reset_orientation=oriented), icc_profile=icc
            )
            main = image
        else:
            metadata = Metadata()
            main = to_srgb(image, icc)
        outputs.append(
            OutputFile(
                f"{stem}.{IMAGE_FORMATS[fmt][2]}",
                encode_image(main, fmt, compress=spec.compress, metadata=metadata),
                IMAGE_FORMATS[fmt][1],
                main.width,
                main.height,
            )
        )
    outputs.extend(ocr_files)
    if spec.thumbnails:
        display = to_srgb(image, icc)  # thumbnails carry no profile: show the colours as sRGB
        outputs.extend(_thumbnail(display, size, stem) for size in sorted(set(spec.thumbnails)))
    return outputs


def decode_scale(spec: OpsSpec, upright_size: tuple[int, int]) -> float:
    """The smallest fraction of the image's size every output can be made from."""
    needs = []
    if spec.image_ops:
        # Thumbnails come from the finished image, so they need no more than it has.
        needs.append(output_scale(upright_size, crop=spec.crop, spec=spec.resize))
    elif spec.thumbnails:
        needs.append(long_edge_scale(upright_size, max(spec.thumbnails)))
    if spec.ocr:
        needs.append(long_edge_scale(upright_size, OCR_SOURCE_EDGE))
    return max(needs, default=1.0)


def output_format(spec: OpsSpec, source_format: str, *, alpha: bool) -> str:
    if spec.convert is not None:
        return spec.convert.format
    fmt = _SAME_FORMAT.get(source_format, "png")
    if fmt == "jpeg" and alpha:
        return "png"  # a cut-out photo keeps its transparency unless JPEG was asked for
    return fmt


def output_stem(name: str) -> str:
    """The file name without folders or extension, safe to use in a download."""
    cleaned = sanitize_filename(name)
    stem = _EXTENSION.sub("", cleaned).strip(" .")
    return stem or "image"


def _thumbnail(image: Image.Image, size: int, stem: str) -> OutputFile:
    small = thumbnail(image, size)
    fmt = "webp" if has_alpha(small) else "jpeg"
    quality = Compress(quality=THUMBNAIL_QUALITY[fmt])
    return OutputFile(
        f"{stem}_thumb_{size}.{IMAGE_FORMATS[fmt][2]}",
        encode_image(small, fmt, compress=quality, metadata=Metadata()),
        IMAGE_FORMATS[fmt][1],
        small.width,
        small.height,
    )


def _exif_bytes(header: Header, *, reset_orientation: bool) -> bytes | None:
    exif = header.exif
    if not exif:
        return None
    if reset_orientation and ORIENTATION_TAG in exif:
        # The pixels are upright now; keeping the tag would make viewers turn them again.
        del exif[ORIENTATION_TAG]
    try:
        return exif.tobytes() or None
    except (ValueError, TypeError, OSError) as e:  # odd maker notes Pillow cannot re-serialise
        log.info("EXIF could not be re-written (%s); leaving it out", e)
        return None
