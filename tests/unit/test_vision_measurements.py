"""What the offline analyzer measures from pixels and EXIF: palette, light, shape, focus, camera."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from app.services.analyzer.vision import analyze_image
from app.services.library.prompts import validate_prompt
from tests.utils.vision_images import encode, gradient, half_red_half_blue, photo_jpeg, solid


@cache
def analysed(data: bytes) -> dict[str, Any]:
    prompt = analyze_image(data)
    assert validate_prompt(prompt) == []
    return prompt


def test_palette_finds_both_halves_with_their_shares() -> None:
    palette = analysed(half_red_half_blue())["color_palette"]
    shares = {c["hex"]: c["proportion"] for c in palette}
    assert abs(shares["#ff0000"] - 0.5) < 0.03
    assert abs(shares["#0000ff"] - 0.5) < 0.03
    assert palette[0]["name"] == "red" or palette[1]["name"] == "red"


def test_palette_of_a_photo_has_several_colours_summing_to_one() -> None:
    palette = analysed(photo_jpeg("coffee"))["color_palette"]
    assert len(palette) >= 5
    assert abs(sum(c["proportion"] for c in palette) - 1) < 0.01


def test_dark_image_is_low_key_and_bright_image_high_key() -> None:
    assert analysed(solid((20, 22, 30)))["lighting"]["key"] == "low-key"
    assert analysed(solid((235, 238, 240)))["lighting"]["key"] == "high-key"
    assert analysed(solid((128, 128, 128)))["lighting"]["key"] == "mid-key"


def test_warm_light_measures_lower_kelvin_than_cool_light() -> None:
    warm = analysed(solid((255, 170, 90)))["lighting"]["color_temperature_k"]
    neutral = analysed(solid((240, 240, 240)))["lighting"]["color_temperature_k"]
    cool = analysed(solid((150, 190, 255)))["lighting"]["color_temperature_k"]
    assert warm < neutral < cool
    assert warm < 4000 and cool > 8000


def test_light_direction_follows_the_bright_side() -> None:
    assert analysed(gradient(10, 250))["lighting"]["direction"] == "right"
    assert analysed(gradient(250, 10))["lighting"]["direction"] == "left"
    assert analysed(solid((200, 200, 200)))["lighting"]["direction"] == "ambient"


def test_contrast_is_measured() -> None:
    assert analysed(gradient(0, 255))["lighting"]["contrast"] == "high"
    assert analysed(solid((90, 90, 90)))["lighting"]["contrast"] == "low"


def test_orientation_and_aspect_ratio_of_portrait_and_landscape() -> None:
    portrait = analysed(solid((60, 120, 60), size=(400, 600)))["composition"]
    landscape = analysed(solid((60, 120, 60), size=(640, 360)))["composition"]
    assert (portrait["orientation"], portrait["aspect_ratio"]) == ("portrait", "2:3")
    assert (landscape["orientation"], landscape["aspect_ratio"]) == ("landscape", "16:9")


def test_subject_off_centre_is_located_and_on_the_thirds() -> None:
    image = Image.new("RGB", (600, 400), (235, 235, 230))
    ImageDraw.Draw(image).ellipse((370, 85, 430, 145), fill=(200, 20, 20))  # near (2/3, 1/3)
    composition = analysed(encode(image))["composition"]
    assert composition["subject_position"] == "top right"
    assert composition["rule_of_thirds"] is True


def test_centred_subject_is_centre_and_symmetric() -> None:
    image = Image.new("RGB", (600, 400), (20, 30, 60))
    ImageDraw.Draw(image).ellipse((250, 150, 350, 250), fill=(250, 220, 90))
    composition = analysed(encode(image))["composition"]
    assert composition["subject_position"] == "center"
    assert composition["rule_of_thirds"] is False
    assert composition["symmetry"] == "vertical"


def test_blurred_photo_is_less_sharp_than_the_original() -> None:
    sharp = analysed(photo_jpeg("camera"))["meta"]["measurements"]["laplacian_variance"]
    blurred = analysed(photo_jpeg("camera", blur=3))["meta"]["measurements"]["laplacian_variance"]
    assert blurred < sharp / 5


def test_blurred_background_reads_as_shallow_depth_of_field() -> None:
    # A crisp checkerboard "subject" in front of a strongly blurred, busy background.
    rng = np.random.default_rng(7)
    noise = rng.integers(40, 120, (400, 600, 3), dtype=np.uint8)
    image = Image.fromarray(noise, "RGB").filter(ImageFilter.GaussianBlur(5))
    tiles = (np.indices((100, 120)).sum(axis=0) // 10 % 2 * 255).astype(np.uint8)
    image.paste(Image.fromarray(tiles, "L").convert("RGB"), (240, 150))
    camera = analysed(encode(image))["camera"]
    assert camera["depth_of_field"] == "shallow"


def test_exif_camera_data_is_read_back() -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS R6"  # Model
    sub = exif.get_ifd(0x8769)  # the Exif sub-IFD
    sub[0x920A] = 50.0  # FocalLength
    sub[0x829D] = 1.8  # FNumber
    sub[0x829A] = 1 / 125  # ExposureTime
    sub[0x8827] = 400  # ISOSpeedRatings
    prompt = analysed(photo_jpeg("astronaut", exif=exif))
    camera, raw = prompt["camera"], prompt["meta"]["exif"]
    assert camera["focal_length_mm"] == 50
    assert camera["aperture"] == 1.8
    assert camera["lens"] == "standard"
    assert raw["make"] == "Canon" and raw["model"] == "EOS R6"
    assert raw["exposure"] == "1/125 s" and raw["iso"] == 400
    assert "camera" not in prompt["meta"]["heuristic_fields"]


def test_phone_focal_length_without_35mm_equivalent_is_not_reported_as_full_frame() -> None:
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif.get_ifd(0x8769)[0x920A] = 4.25  # a phone's real focal length
    prompt = analysed(photo_jpeg("coffee", exif=exif))
    assert "focal_length_mm" not in prompt["camera"]
    assert prompt["meta"]["exif"]["focal_length_mm"] == 4.25


def test_no_exif_means_no_camera_numbers() -> None:
    prompt = analysed(solid((100, 100, 100)))
    assert "exif" not in prompt["meta"]
    assert set(prompt["camera"]) <= {"depth_of_field", "shot_type"}
