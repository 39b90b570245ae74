"""Generation parameters inside PNG, JPEG and WebP files, and read back from them."""

from __future__ import annotations

import dataclasses
import io
import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from app.services.core.errors import InvalidImageError, InvalidInputError
from app.services.generation.layout_preview import render_preview
from app.services.generation.metadata import (
    PNG_KEYWORD,
    GenerationMetadata,
    embed,
    read,
)
from app.services.generation.render import OFFLINE_MODEL_ID, render_for_model
from tests.utils.prompt_factories import prompt_data

META = GenerationMetadata(
    provider="together",
    model="black-forest-labs/FLUX.2-dev",
    width=64,
    height=48,
    prompt_format="json",
    prompt_sent='{"scene":"a <cat> & a \\"dog\\" ]]> ☃"}',
    seed=42,
    steps=28,
    guidance=3.5,
    preset="builtin:style/anime",
    negative=None,
    prompt_id=7,
    prompt_version=2,
    request_id="req-1",
)


def _image(fmt: str, mode: str = "RGB", **options: object) -> bytes:
    image = Image.new(mode, (64, 48), (10, 120, 200, 128) if mode == "RGBA" else (10, 120, 200))
    image.putpixel((3, 4), (250, 10, 10, 255) if mode == "RGBA" else (250, 10, 10))
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


FORMATS = [
    ("PNG", "RGB", {}),
    ("PNG", "RGBA", {}),
    ("JPEG", "RGB", {"quality": 90}),
    ("WEBP", "RGB", {"quality": 80}),
    ("WEBP", "RGB", {"lossless": True}),
    ("WEBP", "RGBA", {"lossless": True}),
    ("WEBP", "RGBA", {"quality": 80}),
]


@pytest.mark.parametrize(("fmt", "mode", "options"), FORMATS)
def test_metadata_round_trips_and_the_pixels_stay_the_same(
    fmt: str, mode: str, options: dict
) -> None:
    original = _image(fmt, mode, **options)
    assert read(original) is None

    stored = embed(original, META)

    assert read(stored) == META
    reopened = Image.open(io.BytesIO(stored))
    reopened.load()
    assert reopened.format == fmt and reopened.size == (64, 48)
    assert np.array_equal(_pixels(stored), _pixels(original))


def test_other_tools_see_it_where_they_look() -> None:
    png = Image.open(io.BytesIO(embed(_image("PNG"), META)))
    assert json.loads(png.text[PNG_KEYWORD.decode()])["model"] == META.model
    jpeg = Image.open(io.BytesIO(embed(_image("JPEG"), META)))
    assert b"jsoncraft:generation" in jpeg.info["xmp"]
    webp = Image.open(io.BytesIO(embed(_image("WEBP", lossless=True), META)))
    assert b"jsoncraft:generation" in webp.info["xmp"]


@pytest.mark.parametrize(("fmt", "mode", "options"), FORMATS)
def test_embedding_again_replaces_the_old_metadata(fmt: str, mode: str, options: dict) -> None:
    once = embed(_image(fmt, mode, **options), META)
    newer = dataclasses.replace(META, seed=99, request_id="req-2")

    twice = embed(once, newer)

    assert read(twice) == newer
    assert twice.count(b"jsoncraft") == once.count(b"jsoncraft")


def test_a_jpeg_keeps_its_jfif_header_first() -> None:
    stored = embed(_image("JPEG"), META)
    assert stored[2:4] == b"\xff\xe0" and stored[6:11] == b"JFIF\x00"


def test_the_layout_preview_carries_what_it_was_made_from() -> None:
    prompt = prompt_data("A lighthouse", color_palette=[{"hex": "#1b2a49"}])
    rendered = render_for_model(prompt, OFFLINE_MODEL_ID)
    png, size = render_preview(prompt, aspect="16:9", seed=5)
    meta = GenerationMetadata(
        provider="offline",
        model=OFFLINE_MODEL_ID,
        width=size.width,
        height=size.height,
        prompt_format=rendered.prompt_format,
        prompt_sent=rendered.text,
        seed=5,
    )

    back = read(embed(png, meta))

    assert back is not None
    assert json.loads(back.prompt_sent)["scene"] == "A lighthouse"
    assert (back.width, back.height) == (960, 544)


# -- garbage in, a clear refusal out -------------------------------------------------------------


def _png_with_chunk(data: bytes, *, crc: int | None = None, kind: bytes = b"iTXt") -> bytes:
    png = _image("PNG")
    iend = png.rindex(b"IEND") - 4
    chunk = struct.pack(">I", len(data)) + kind + data
    chunk += struct.pack(">I", zlib.crc32(kind + data) if crc is None else crc)
    return png[:iend] + chunk + png[iend:]


def _ours(text: bytes) -> bytes:
    return PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + text


def _body(**changes: object) -> bytes:
    body = json.loads(META.to_json())
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        (_ours(b"{not json"), "not valid JSON"),
        (_ours(b"\xff\xfe"), "not valid JSON"),
        (_ours(b"[" * 100_000), "not valid JSON"),
        (_ours(b"[]"), "not in JSONCraft's format"),
        (_ours(b'{"format": "invokeai"}'), "not in JSONCraft's format"),
        (_ours(_body(version=2)), "newer JSONCraft"),
        (_ours(b'{"format": "jsoncraft.generation", "version": 1}'), "missing fields"),
        (_ours(_body(seed="42")), "seed"),
        (_ours(_body(seed=-1)), "seed"),
        (_ours(_body(width=0)), "width"),
        (_ours(_body(steps=True)), "steps"),
        (_ours(_body(guidance=float("nan"))), "guidance"),
        (_ours(_body(guidance="high")), "guidance"),
        (_ours(_body(model="")), "model"),
        (_ours(_body(prompt_format="yaml")), "prompt format"),
        (_ours(_body(prompt_sent="x" * 300_000)), "too long"),
        (PNG_KEYWORD + b"\x00\x01\x00\x00\x00" + zlib.compress(b"{}"), "compressed"),
        (PNG_KEYWORD + b"\x00\x00\x00", "damaged"),
    ],
)
def test_garbage_metadata_is_refused_clearly(chunk: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        read(_png_with_chunk(chunk))


def test_an_oversized_chunk_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(InvalidInputError, match="too large"):
        read(_png_with_chunk(_ours(b" " * (1024 * 1024 + 10))))


def test_a_damaged_chunk_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="checksum"):
        read(_png_with_chunk(_ours(META.to_json().encode()), crc=1234))


def test_other_tools_text_chunks_are_not_ours() -> None:
    png = _png_with_chunk(b"parameters\x00\x00\x00\x00\x00a cat, masterpiece")
    assert read(png) is None


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"GIF89a" + b"\x00" * 20, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "png"],
)
def test_files_that_are_not_images_are_refused(data: object) -> None:
    with pytest.raises(InvalidImageError, match="PNG, JPEG or WebP"):
        read(data)  # type: ignore[arg-type]
    with pytest.raises(InvalidImageError):
        embed(data, META)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_files_are_refused(fmt: str) -> None:
    data = embed(_image(fmt), META)
    with pytest.raises(InvalidImageError, match="truncated|damaged"):
        read(data[: len(data) // 3] if fmt != "JPEG" else data[:30])


def _jpeg_with_xmp(packet: bytes) -> bytes:
    jpeg = _image("JPEG")
    body = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def test_xml_entity_bombs_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    )
    with pytest.raises(InvalidInputError, match="not plain XMP"):
        read(_jpeg_with_xmp(bomb))


def test_broken_xmp_is_refused_and_foreign_xmp_is_ignored() -> None:
    with pytest.raises(InvalidInputError, match="not valid XML"):
        read(_jpeg_with_xmp(b"<x:xmpmeta><unclosed"))
    camera = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rating>5</rating></x:xmpmeta>'
    assert read(_jpeg_with_xmp(camera)) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"model": " "},
        {"provider": None},
        {"width": -1},
        {"height": 2.5},
        {"steps": 0},
        {"seed": 2**64},
        {"guidance": float("inf")},
        {"prompt_version": 0},
        {"prompt_format": "xml"},
    ],
)
def test_embed_refuses_nonsense_metadata(changes: dict) -> None:
    with pytest.raises(InvalidInputError):
        embed(_image("PNG"), dataclasses.replace(META, **changes))


def test_a_jpeg_cannot_hold_huge_details_and_says_to_use_png() -> None:
    huge = dataclasses.replace(META, prompt_sent="x" * 70_000)
    with pytest.raises(InvalidInputError, match="download it as PNG"):
        embed(_image("JPEG"), huge)
    assert read(embed(_image("PNG"), huge)) == huge
