"""Images and archives for the image-studio engine tests, built in code: every bad input the
issue lists, plus photo-like content (a scikit-image photo) where codecs need real detail."""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Any

import numpy as np
from PIL import Image

from tests.utils.vision_images import encode, skimage_photo

ORIENTATION = 0x0112


def photo(size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """Photo-like RGB (real detail, so codec sizes and quality behave as on photos)."""
    return skimage_photo("astronaut").convert("RGB").resize(size, Image.Resampling.BICUBIC)


def photo_jpeg(size: tuple[int, int] = (1200, 900), **params: Any) -> bytes:
    return encode(photo(size), "JPEG", quality=params.pop("quality", 90), **params)


def split_red_blue(size: tuple[int, int] = (200, 100)) -> Image.Image:
    """Left half red, right half blue: orientation and crops show up in which colour is where."""
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    """Stored 200x100 (red left), tagged to be shown turned a quarter (100x200 upright)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "TestCam"  # Make
    return encode(split_red_blue(), "JPEG", quality=95, exif=exif)


def cmyk_jpeg(cmyk: tuple[int, int, int, int] = (0, 255, 255, 0)) -> bytes:
    return encode(Image.new("CMYK", (120, 80), cmyk), "JPEG", quality=95)


def png16_gradient(size: tuple[int, int] = (256, 64)) -> bytes:
    """16-bit greyscale PNG, black on the left to full white on the right."""
    ramp = np.linspace(0, 65535, size[0]).astype(np.uint16)
    return encode(Image.fromarray(np.tile(ramp, (size[1], 1))), "PNG")


def paletted_png_with_alpha() -> bytes:
    """A palette PNG whose colour 0 is transparent (left half), colour 1 opaque green."""
    image = Image.new("P", (100, 50), 1)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0] * (256 * 3 - 6))
    image.paste(0, (0, 0, 50, 50))
    return encode(image, "PNG", transparency=0)


def animated_gif() -> bytes:
    """Two frames: red, then blue."""
    frames = [Image.new("RGB", (60, 40), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def corrupt_jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4


def zip_of(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


def rgb_profile(description: str, *, swap_red_green: bool) -> bytes:
    """A minimal ICC v2 RGB display profile (sRGB primaries, gamma 2.2). With the red and green
    primaries swapped, a pixel (255, 0, 0) in it *means* green: converting it to sRGB must
    move it to green, which no code that ignores the profile would do."""
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    if swap_red_green:
        red, green = green, red

    def xyz(values: tuple[float, float, float]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    ascii_text = description.encode("ascii") + b"\0"
    desc = (
        b"desc\0\0\0\0"
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + struct.pack(">II", 0, 0)
        + struct.pack(">HB", 0, 0)
        + b"\0" * 67
    )
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2 (u8.8)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz((0.9642, 1.0, 0.8249))),
        (b"rXYZ", xyz(red)),
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0no copyright\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, payload in tags:
        padded = payload + b"\0" * (-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(payload))
        data += padded
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)  # perceptual
        + b"".join(struct.pack(">i", round(v * 65536)) for v in (0.9642, 1.0, 0.8249))
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data
