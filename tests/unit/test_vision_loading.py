"""Decoding for the offline analyzer: every mode, size and broken file Pillow can hand us."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.services.analyzer.vision import analyze_image, load_image
from app.services.analyzer.vision.geometry import aspect_ratio, orientation, position_name
from app.services.core.errors import ImageTooLargeError, InvalidImageError
from app.services.library.prompts import validate_prompt
from tests.utils.images import png_bomb, truncated_jpeg
from tests.utils.vision_images import encode

MODES = {
    "L": Image.new("L", (120, 80), 90),
    "LA": Image.new("LA", (120, 80), (90, 128)),
    "RGBA": Image.new("RGBA", (120, 80), (200, 30, 30, 0)),
    "CMYK": Image.new("CMYK", (120, 80), (0, 200, 200, 0)),
    "P": Image.new("RGB", (120, 80), (20, 160, 60)).convert("P"),
    "1": Image.new("1", (120, 80), 1),
    "I;16": Image.fromarray(np.full((80, 120), 60000, np.uint16)),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_pixel_mode_becomes_rgb_and_analyses(mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else ("TIFF" if mode == "I;16" else "PNG")
    data = encode(MODES[mode], fmt)
    image = load_image(data)
    assert image.mode == "RGB"
    assert image.size == (120, 80)
    assert validate_prompt(analyze_image(data)) == []


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (16, 1))
    image = load_image(encode(Image.fromarray(ramp), "TIFF"))
    row = np.asarray(image)[0, :, 0]
    assert row[0] < 5 and row[-1] > 250 and 110 < row[128] < 145


def test_transparency_is_flattened_onto_white() -> None:
    image = load_image(encode(Image.new("RGBA", (10, 10), (255, 0, 0, 0))))
    assert image.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (2, 3)])
def test_tiny_images_analyse(size: tuple[int, int]) -> None:
    prompt = analyze_image(encode(Image.new("RGB", size, (10, 200, 30))))
    assert validate_prompt(prompt) == []
    assert prompt["composition"]["aspect_ratio"] == aspect_ratio(*size)


def test_huge_images_are_downscaled_but_keep_their_shape() -> None:
    data = encode(Image.new("RGB", (6000, 4000), (120, 130, 140)), "JPEG")
    assert max(load_image(data).size) <= 1024
    prompt = analyze_image(data)
    assert prompt["composition"]["aspect_ratio"] == "3:2"
    assert prompt["meta"]["measurements"]["width"] == 6000


def test_animated_gif_uses_the_first_frame() -> None:
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    prompt = analyze_image(data)
    assert prompt["color_palette"][0]["hex"] == "#ff0000"
    assert prompt["meta"]["measurements"]["animated"] is True


def test_exif_orientation_6_reads_as_portrait() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    data = encode(Image.new("RGB", (600, 400), (90, 90, 90)), "JPEG", exif=exif)
    assert load_image(data).size == (400, 600)
    composition = analyze_image(data)["composition"]
    assert composition["orientation"] == "portrait"
    assert composition["aspect_ratio"] == "2:3"


@pytest.mark.parametrize(
    "data", [b"", b"not an image at all", b"<svg xmlns='http://www.w3.org/2000/svg'/>"]
)
def test_non_images_are_refused_clearly(data: bytes) -> None:
    with pytest.raises(InvalidImageError, match="not an image"):
        load_image(data)


def test_truncated_files_are_refused() -> None:
    with pytest.raises(InvalidImageError, match="damaged"):
        analyze_image(truncated_jpeg())


def test_decompression_bombs_are_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLargeError):
        load_image(png_bomb())


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((4032, 3024), "4:3"),
        ((3024, 4032), "3:4"),
        ((1920, 1080), "16:9"),
        ((1500, 1001), "3:2"),
        ((1000, 730), "1.37:1"),
        ((730, 1000), "1:1.37"),
        ((512, 512), "1:1"),
        ((5000, 1), "999:1"),
    ],
)
def test_aspect_ratio_names(size: tuple[int, int], expected: str) -> None:
    assert aspect_ratio(*size) == expected


def test_orientation_and_positions() -> None:
    assert orientation(3, 2) == "landscape"
    assert orientation(2, 3) == "portrait"
    assert orientation(5, 5) == "square"
    assert position_name(0.5, 0.5) == "center"
    assert position_name(0.1, 0.1) == "top left"
    assert position_name(0.5, 0.95) == "bottom center"
    assert position_name(0.9, 0.5) == "center right"


def test_a_60_megapixel_photo_is_accepted_and_analysed_downscaled() -> None:
    data = encode(Image.new("RGB", (9000, 6700), (150, 110, 70)), "JPEG")
    prompt = analyze_image(data)
    assert prompt["meta"]["measurements"]["width"] == 9000
    assert prompt["composition"]["orientation"] == "landscape"
