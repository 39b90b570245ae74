"""Every operation of the spec, checked on the pixels, sizes, formats and metadata it writes."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app.services.core.errors import InvalidInputError
from app.services.studio.imageops import OutputFile, parse_spec, process_image
from tests.utils.imageops_samples import (
    ORIENTATION,
    exif_rotated_jpeg,
    photo,
    photo_jpeg,
    rgb_profile,
    split_red_blue,
)
from tests.utils.vision_images import encode, text_poster


def run(data: bytes, name: str = "photo.jpg", **spec: Any) -> list[OutputFile]:
    return process_image(data, name, parse_spec(spec))


def opened(output: OutputFile) -> Image.Image:
    image = Image.open(io.BytesIO(output.data))
    image.load()
    return image


def one(data: bytes, **spec: Any) -> tuple[OutputFile, Image.Image]:
    [out] = run(data, **spec)
    return out, opened(out)


# -- resize and crop ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resize", "size"),
    [
        ({"long_edge": 300}, (300, 225)),
        ({"long_edge": 5000}, (1200, 900)),  # never enlarged
        ({"mode": "fit", "width": 300, "height": 300}, (300, 225)),
        ({"mode": "fit", "width": 600, "height": 150}, (200, 150)),
        ({"mode": "exact", "width": 333, "height": 111}, (333, 111)),
        ({"mode": "fill", "width": 300, "height": 300}, (300, 300)),
        ({"mode": "fill", "width": 2400, "height": 400}, (2400, 400)),  # fill may enlarge
    ],
)
def test_resize_modes(resize: dict[str, Any], size: tuple[int, int]) -> None:
    out, image = one(photo_jpeg((1200, 900)), resize=resize)
    assert image.size == size
    assert (out.width, out.height) == size


def test_fill_crops_the_centre_instead_of_stretching() -> None:
    source = encode(split_red_blue((400, 100)), "PNG")  # red | blue
    _, image = one(source, resize={"mode": "fill", "width": 100, "height": 100})
    image = image.convert("RGB")
    # The centred 100x100 box straddles the border: red on its left, blue on its right.
    assert image.getpixel((10, 50))[0] > 200
    assert image.getpixel((90, 50))[2] > 200


def test_crop_to_aspect_ratio_keeps_the_centre() -> None:
    _, image = one(photo_jpeg((1200, 900)), crop={"aspect": "16:9"})
    assert image.size == (1200, 675)
    _, square = one(encode(split_red_blue((400, 100)), "PNG"), crop={"aspect": "1:1"})
    assert square.size == (100, 100)


def test_crop_then_resize() -> None:
    _, image = one(photo_jpeg((1200, 900)), crop={"aspect": "1:1"}, resize={"long_edge": 256})
    assert image.size == (256, 256)


def test_big_jpeg_resized_small_matches_a_full_decode() -> None:
    """Shrink-on-load must not cost visible quality: compare with a full-size LANCZOS resize."""
    source = photo_jpeg((4000, 3000), quality=95)
    _, ours = one(source, resize={"long_edge": 1024}, convert={"format": "png"})
    reference = Image.open(io.BytesIO(source)).resize((1024, 768), Image.Resampling.LANCZOS)
    diff = np.abs(np.asarray(ours, np.int16) - np.asarray(reference, np.int16))
    assert diff.mean() < 2.5


# -- formats and compression ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "pillow", "media"),
    [
        ("jpeg", "JPEG", "image/jpeg"),
        ("png", "PNG", "image/png"),
        ("webp", "WEBP", "image/webp"),
        ("avif", "AVIF", "image/avif"),
    ],
)
def test_convert(fmt: str, pillow: str, media: str) -> None:
    out, image = one(photo_jpeg((320, 240)), convert={"format": fmt})
    assert image.format == pillow
    assert out.media_type == media
    assert out.name == f"photo.{'jpg' if fmt == 'jpeg' else fmt}"


def test_same_format_when_not_converting() -> None:
    out, image = one(encode(photo((320, 240)), "WEBP"), resize={"long_edge": 100})
    assert image.format == "WEBP"
    out, image = one(photo_jpeg((320, 240)), resize={"long_edge": 100})
    assert image.format == "JPEG"


def test_jpeg_output_of_transparent_image_is_flattened_on_white() -> None:
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    rgba.paste((255, 0, 0, 255), (50, 0, 100, 100))
    _, image = one(encode(rgba, "PNG"), convert={"format": "jpeg"})
    assert image.mode == "RGB"
    assert min(image.getpixel((10, 50))) > 245  # transparent -> white, not black
    assert image.getpixel((90, 50))[0] > 230


def test_quality_changes_the_size() -> None:
    source = photo_jpeg((800, 600))
    low, _ = one(source, convert={"format": "webp"}, compress={"quality": 20})
    high, _ = one(source, convert={"format": "webp"}, compress={"quality": 95})
    assert len(low.data) * 2 < len(high.data)


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_target_size_is_met_with_the_highest_quality_that_fits(fmt: str) -> None:
    source = photo_jpeg((1200, 900))
    out, _ = one(source, convert={"format": fmt}, compress={"target_kb": 40})
    assert 20 * 1024 < len(out.data) <= 40 * 1024  # close to the target, not far below it


def test_target_size_png_reduces_colours() -> None:
    source = encode(photo((400, 300)), "PNG")
    out, image = one(source, convert={"format": "png"}, compress={"target_kb": 60})
    assert len(out.data) <= 60 * 1024
    assert image.mode == "P"


def test_impossible_target_gives_the_smallest_file() -> None:
    out, image = one(photo_jpeg((1200, 900)), convert={"format": "jpeg"}, compress={"target_kb": 1})
    assert image.size == (1200, 900)  # still a valid image, as small as the codec goes
    floor, _ = one(photo_jpeg((1200, 900)), convert={"format": "jpeg"}, compress={"quality": 5})
    assert len(out.data) <= len(floor.data)


# -- metadata and orientation ---------------------------------------------------------------


def test_strip_removes_exif_and_icc() -> None:
    srgb = rgb_profile("sRGB test", swap_red_green=False)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    source = encode(photo((200, 150)), "JPEG", exif=exif, icc_profile=srgb)
    _, image = one(source, metadata="strip")
    assert not image.getexif()
    assert "icc_profile" not in image.info


def test_keep_keeps_exif_and_icc_with_orientation_reset() -> None:
    profile = rgb_profile("sRGB test", swap_red_green=False)
    rotated = Image.open(io.BytesIO(exif_rotated_jpeg(6)))
    source = encode(rotated, "JPEG", exif=rotated.getexif(), icc_profile=profile)
    _, image = one(source, metadata="keep", convert={"format": "jpeg"})
    assert image.size == (100, 200)  # turned upright...
    assert image.getexif().get(ORIENTATION, 1) == 1  # ...so no viewer turns it again
    assert image.getexif()[0x010F] == "TestCam"
    assert image.info["icc_profile"] == profile


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_keep_metadata_in_other_formats(fmt: str) -> None:
    _, image = one(exif_rotated_jpeg(6), metadata="keep", convert={"format": fmt})
    assert image.getexif()[0x010F] == "TestCam"


def test_strip_converts_a_non_srgb_profile_so_colours_survive() -> None:
    swapped = rgb_profile("Swapped primaries", swap_red_green=True)
    # (255, 0, 0) in this profile is green; without the profile it would read as red.
    source = encode(Image.new("RGB", (64, 64), (255, 0, 0)), "PNG", icc_profile=swapped)
    _, stripped = one(source, metadata="strip", convert={"format": "png"})
    r, g, b = stripped.convert("RGB").getpixel((32, 32))
    assert g > 200 and r < 60
    _, kept = one(source, metadata="keep", convert={"format": "png"})
    assert kept.convert("RGB").getpixel((32, 32)) == (255, 0, 0)  # pixels as they were...
    assert kept.info["icc_profile"] == swapped  # ...with the profile that explains them


def test_auto_orient_alone_is_an_operation() -> None:
    [out] = run(exif_rotated_jpeg(8), auto_orient=True)
    assert opened(out).size == (100, 200)


# -- filters --------------------------------------------------------------------------------


def _mean(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), np.float64).mean(axis=(0, 1))


def test_grayscale_and_sepia() -> None:
    source = photo_jpeg((320, 240))
    _, grey = one(source, filters=[{"name": "grayscale"}], convert={"format": "png"})
    assert grey.mode == "L"
    _, sepia = one(source, filters=[{"name": "sepia"}], convert={"format": "png"})
    r, g, b = _mean(sepia)
    assert r > g > b  # warm brown tones


@pytest.mark.parametrize(
    ("name", "amount", "check"),
    [
        ("brightness", 1.5, lambda before, after: _mean(after).mean() > _mean(before).mean() + 20),
        ("brightness", 0.5, lambda before, after: _mean(after).mean() < _mean(before).mean() - 20),
        (
            "contrast",
            1.8,
            lambda before, after: (
                np.asarray(after.convert("L")).std() > np.asarray(before.convert("L")).std() * 1.3
            ),
        ),
        ("saturation", 0.1, lambda before, after: _chroma(after) < _chroma(before) * 0.2),
        ("saturation", 2.0, lambda before, after: _chroma(after) > _chroma(before) * 1.5),
        (
            "blur",
            4.0,
            lambda before, after: _edges(after) < _edges(before) * 0.6,
        ),
        (
            "sharpen",
            2.0,
            lambda before, after: _edges(after) > _edges(before) * 1.2,
        ),
    ],
)
def test_amount_filters(name: str, amount: float, check: Any) -> None:
    source = encode(photo((320, 240)), "PNG")
    before = Image.open(io.BytesIO(source))
    _, after = one(source, filters=[{"name": name, "amount": amount}])
    assert check(before, after)


def _chroma(image: Image.Image) -> float:
    return float(np.ptp(np.asarray(image.convert("RGB"), np.int16), axis=2).mean())


def _edges(image: Image.Image) -> float:
    grey = np.asarray(image.convert("L"), np.float64)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_filters_leave_transparency_alone() -> None:
    rgba = photo((100, 100)).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((100, 100)))
    _, image = one(encode(rgba, "PNG"), filters=[{"name": "blur"}, {"name": "brightness"}])
    assert np.array_equal(np.asarray(image.getchannel("A")), np.asarray(rgba.getchannel("A")))


# -- watermark, background, OCR, thumbnails -------------------------------------------------


@pytest.mark.parametrize(
    ("position", "region"),
    [("bottom-right", (0.55, 0.75, 1.0, 1.0)), ("top-left", (0.0, 0.0, 0.45, 0.25))],
)
def test_watermark_is_drawn_where_asked(position: str, region: tuple[float, ...]) -> None:
    plain = Image.new("RGB", (800, 400), (40, 90, 160))
    _, marked = one(
        encode(plain, "PNG"),
        watermark={"text": "JSONCraft", "position": position, "opacity": 0.9},
    )
    changed = np.any(np.asarray(marked) != np.asarray(plain), axis=2)
    ys, xs = np.nonzero(changed)
    assert len(ys) > 500
    x0, y0, x1, y1 = region
    assert xs.min() >= x0 * 800 and xs.max() <= x1 * 800
    assert ys.min() >= y0 * 400 and ys.max() <= y1 * 400


def test_watermark_opacity_blends() -> None:
    plain = Image.new("RGB", (600, 300), (0, 0, 0))
    _, faint = one(encode(plain, "PNG"), watermark={"text": "MARK", "opacity": 0.2})
    _, strong = one(encode(plain, "PNG"), watermark={"text": "MARK", "opacity": 1.0})
    assert np.asarray(faint).max() < 80
    assert np.asarray(strong).max() > 240


def _product_shot() -> bytes:
    rng = np.random.default_rng(3)
    ramp = np.linspace(225, 190, 350)[:, None, None].repeat(450, 1).repeat(3, 2)
    image = Image.fromarray(np.clip(ramp + rng.normal(0, 4, ramp.shape), 0, 255).astype(np.uint8))
    from PIL import ImageDraw

    ImageDraw.Draw(image).ellipse((150, 100, 300, 250), fill=(200, 40, 30))
    return encode(image, "JPEG", quality=92)


def test_local_background_removal_cuts_out_the_subject() -> None:
    out, image = one(_product_shot(), remove_background={"provider": "local"})
    assert out.name == "photo.png"  # a JPEG source becomes PNG to keep the transparency
    alpha = np.asarray(image.getchannel("A"))
    assert alpha[10, 10] == 0 and alpha[340, 440] == 0  # background corners
    assert alpha[175, 225] == 255  # the middle of the ball
    assert 0.1 < (alpha > 128).mean() < 0.25  # about the ball's area (~11% of the frame)


def test_local_background_removal_says_when_it_finds_no_subject() -> None:
    flat = encode(Image.new("RGB", (300, 200), (128, 128, 128)), "PNG")
    with pytest.raises(InvalidInputError, match="no clear subject"):
        run(flat, remove_background={"provider": "local"})


def test_background_removal_refuses_explicit_jpeg() -> None:
    with pytest.raises(InvalidInputError, match="JPEG has no transparency"):
        parse_spec({"remove_background": {}, "convert": {"format": "jpeg"}})


def test_ocr_writes_text_and_json_with_pixel_boxes() -> None:
    outputs = run(text_poster("HELLO 2026"), name="poster.png", ocr=True)
    names = [o.name for o in outputs]
    assert names == ["poster.ocr.txt", "poster.ocr.json"]  # OCR alone writes no image
    text = outputs[0].data.decode()
    assert "HELLO" in text and "2026" in text
    document = json.loads(outputs[1].data)
    assert document["text"] == text.rstrip("\n")
    [line] = document["lines"]
    x, y, w, h = line["box"]
    assert 0 < x < 600 < x + w < 1200 and 0 < y < 250 < y + h < 500  # centred on the poster
    assert line["confidence"] > 0.6


def test_thumbnails_one_per_size() -> None:
    outputs = run(photo_jpeg((1200, 900)), thumbnails=[64, 256])
    assert [(o.name, o.width, o.height) for o in outputs] == [
        ("photo_thumb_64.jpg", 64, 48),
        ("photo_thumb_256.jpg", 256, 192),
    ]
    assert opened(outputs[1]).format == "JPEG"


def test_thumbnails_of_transparent_results_are_webp() -> None:
    outputs = run(_product_shot(), remove_background={}, thumbnails=[128])
    assert [o.name for o in outputs] == ["photo.png", "photo_thumb_128.webp"]
    assert opened(outputs[1]).mode == "RGBA"


def test_everything_at_once_in_pipeline_order() -> None:
    outputs = run(
        photo_jpeg((1600, 1200)),
        name="holiday shot.JPG",
        crop={"aspect": "1:1"},
        resize={"long_edge": 400},
        convert={"format": "webp"},
        compress={"quality": 70},
        filters=[{"name": "contrast", "amount": 1.1}],
        watermark={"text": "(c) me"},
        thumbnails=[100],
    )
    assert [(o.name, o.width, o.height) for o in outputs] == [
        ("holiday shot.webp", 400, 400),
        ("holiday shot_thumb_100.jpg", 100, 100),
    ]
