"""Whole-image statistics and the shared words for them (key, contrast, symmetry, temperature)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.services.analyzer.vision.colour import mccamy_kelvin
from app.services.analyzer.vision.pixel_stats import (
    PixelStats,
    contrast_level,
    light_key,
    measure_pixels,
    symmetry_name,
)


@pytest.mark.parametrize(
    ("mean", "key"),
    [
        (0.0, "low-key"),
        (84.9, "low-key"),
        (85.0, "mid-key"),
        (170.0, "mid-key"),
        (170.1, "high-key"),
    ],
)
def test_light_key_thresholds(mean: float, key: str) -> None:
    assert light_key(mean) == key


@pytest.mark.parametrize(
    ("std", "level"), [(29.9, "low"), (30.0, "medium"), (62.0, "medium"), (62.1, "high")]
)
def test_contrast_thresholds(std: float, level: str) -> None:
    assert contrast_level(std) == level


@pytest.mark.parametrize(
    ("vertical", "horizontal", "name"),
    [(0.8, 0.9, "vertical"), (0.79, 0.8, "horizontal"), (0.79, 0.79, "none"), (-1.0, -1.0, "none")],
)
def test_symmetry_names(vertical: float, horizontal: float, name: str) -> None:
    stats = PixelStats(100.0, 40.0, 6500.0, vertical, horizontal)
    assert symmetry_name(stats) == name


def test_black_has_no_colour_temperature_so_daylight_is_assumed() -> None:
    assert mccamy_kelvin(np.zeros(3)) == 6500.0
    assert measure_pixels(Image.new("RGB", (300, 200), "black")).color_temperature_k == 6500.0


def test_the_faintest_light_is_still_measured_not_taken_for_black() -> None:
    # One barely-red pixel in a 256x256 black image: the dimmest non-black average there is.
    image = Image.new("RGB", (256, 256), "black")
    image.putpixel((10, 10), (1, 0, 0))
    assert measure_pixels(image).color_temperature_k < 4000  # red light reads warm


def test_warm_and_cool_light() -> None:
    assert mccamy_kelvin(np.array([255.0, 170.0, 90.0])) < 4000
    assert mccamy_kelvin(np.array([150.0, 190.0, 255.0])) > 9000
    assert 6000 <= mccamy_kelvin(np.array([255.0, 255.0, 255.0])) <= 7000


def test_a_mirrored_image_is_vertically_symmetric() -> None:
    left = np.random.default_rng(3).integers(0, 255, (64, 32, 3), dtype=np.uint8)
    image = Image.fromarray(np.concatenate([left, left[:, ::-1]], axis=1))
    stats = measure_pixels(image)
    assert stats.vertical_symmetry > 0.99
    assert symmetry_name(stats) == "vertical"
