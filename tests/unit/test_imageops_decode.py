"""The engine on every bad or awkward input the issue lists: each gets its own clear error, or
is decoded the way a viewer would show it."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app.services.core.errors import ImageTooLargeError, InvalidImageError
from app.services.studio.imageops import OutputFile, parse_spec, process_image
from app.services.studio.imageops.decode import decode, read_header
from tests.utils.imageops_samples import (
    animated_gif,
    cmyk_jpeg,
    corrupt_jpeg,
    exif_rotated_jpeg,
    paletted_png_with_alpha,
    photo,
    photo_jpeg,
    png16_gradient,
)
from tests.utils.images import png_bomb, truncated_jpeg
from tests.utils.vision_images import encode


def run(data: bytes, name: str = "in.jpg", **spec: Any) -> list[OutputFile]:
    return process_image(data, name, parse_spec(spec or {"convert": {"format": "png"}}))


def opened(output: OutputFile) -> Image.Image:
    image = Image.open(io.BytesIO(output.data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", InvalidImageError, "empty"),
        (corrupt_jpeg(), InvalidImageError, "truncated or corrupt"),
        (truncated_jpeg(), InvalidImageError, "could not be read to the end"),
        (png_bomb(20000, 20000), ImageTooLargeError, "20000×20000 pixels"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', InvalidImageError, "SVG"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", InvalidImageError, "HTML page"),
        (b"just some notes\n", InvalidImageError, "text file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", InvalidImageError, "PDF"),
    ],
    ids=["empty", "corrupt", "truncated", "bomb", "svg", "html", "text", "pdf"],
)
def test_bad_input_gets_its_own_clear_error(data: bytes, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        run(data)
    assert words in caught.value.message


def test_the_bomb_is_refused_from_its_header_without_decoding() -> None:
    bomb = png_bomb(20000, 20000)  # 400 MP of 1-bit pixels in a few kB
    with pytest.raises(ImageTooLargeError, match="limit is 100 megapixels"):
        read_header(bomb, max_pixels=100_000_000)


def test_unsupported_message_lists_what_is_accepted() -> None:
    with pytest.raises(InvalidImageError) as caught:
        run(b"<svg/>")
    assert "JPEG, PNG, WebP, GIF, AVIF, TIFF or BMP" in caught.value.message


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "BMP", "AVIF", "WEBP"])
def test_other_formats_are_read_and_become_png_or_stay(fmt: str) -> None:
    source = photo((160, 120))
    outputs = run(encode(source, fmt), name=f"pic.{fmt.lower()}", resize={"long_edge": 80})
    [image] = outputs
    expected = "webp" if fmt == "WEBP" else "avif" if fmt == "AVIF" else "png"
    assert image.name == f"pic.{expected}"
    assert opened(image).size == (80, 60)


def test_animated_gif_uses_its_first_frame() -> None:
    [out] = run(animated_gif(), name="anim.gif", resize={"long_edge": 30})
    image = opened(out).convert("RGB")
    assert out.name == "anim.png"
    assert image.getpixel((15, 10)) == (255, 0, 0)  # the first frame is red, the second blue


def test_cmyk_jpeg_is_converted_to_the_colour_it_shows() -> None:
    [out] = run(cmyk_jpeg((0, 255, 255, 0)), convert={"format": "png"})
    red = opened(out).convert("RGB").getpixel((60, 40))
    assert red[0] > 230 and red[1] < 30 and red[2] < 30
    assert opened(out).mode == "RGB"


def test_16_bit_png_is_scaled_not_clipped_to_white() -> None:
    [out] = run(png16_gradient(), convert={"format": "png"})
    grey = np.asarray(opened(out).convert("L"))
    assert grey[0, 0] < 5
    assert 110 < grey[0, 128] < 145  # the middle of the ramp stays mid-grey
    assert grey[0, -1] > 250
    assert (grey == 255).mean() < 0.05  # clipping would make most of it white


def test_paletted_png_with_transparency_keeps_it() -> None:
    [out] = run(paletted_png_with_alpha(), convert={"format": "webp"})
    image = opened(out)
    assert image.mode == "RGBA"
    assert image.getpixel((10, 25))[3] == 0
    assert image.getpixel((90, 25))[3] == 255
    assert image.getpixel((90, 25))[1] > 180


def test_exif_rotated_photo_is_turned_upright_by_default() -> None:
    [out] = run(exif_rotated_jpeg(6), convert={"format": "png"})
    image = opened(out).convert("RGB")
    # Stored 200x100 with red on the left; orientation 6 means "turn 90° clockwise to view".
    assert image.size == (100, 200)
    assert image.getpixel((50, 20))[0] > 200  # red ends up on top
    assert image.getpixel((50, 180))[2] > 200


def test_exif_rotation_is_left_alone_when_auto_orient_is_off() -> None:
    [out] = run(exif_rotated_jpeg(6), convert={"format": "png"}, auto_orient=False)
    assert opened(out).size == (200, 100)


def test_jpeg_is_decoded_small_when_the_output_is_small() -> None:
    header = read_header(photo_jpeg((4000, 3000)), max_pixels=100_000_000)
    decoded = decode(header, scale=1024 / 4000)
    # libjpeg scales by 1/2, 1/4 or 1/8: 1/2 is the smallest that still has 1024 px.
    assert decoded.image.size == (2000, 1500)
    full = decode(read_header(photo_jpeg((400, 300)), max_pixels=100_000_000), scale=1.0)
    assert full.image.size == (400, 300)
