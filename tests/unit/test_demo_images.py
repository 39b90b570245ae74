"""Demo images: drawn deterministically, and described from measurements of their own pixels."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import pytest
from PIL import Image

from app.services.analyzer.vision import analyze_image
from app.services.analyzer.vision.colour import nearest_color_name
from app.services.analyzer.vision.palette import extract_palette
from app.services.core.errors import NotFoundError
from app.services.demo.images import (
    DemoScene,
    demo_catalog,
    describe_demo,
    get_demo,
    render_demo_png,
)
from app.services.library.prompts import render_prose, validate_prompt

SLUGS = [scene.slug for scene in demo_catalog()]


@cache
def rendered(slug: str) -> bytes:
    """One render per scene, shared by the tests of this module (drawing is the slow part)."""
    return render_demo_png(get_demo(slug))


@cache
def described(slug: str) -> dict[str, Any]:
    return describe_demo(get_demo(slug), Image.open(io.BytesIO(rendered(slug))))


def test_catalog_has_enough_distinct_scenes() -> None:
    scenes = demo_catalog()
    assert len(scenes) >= 12
    assert len(set(SLUGS)) == len(SLUGS)
    assert len({s.title for s in scenes}) == len(scenes)
    assert all(isinstance(s, DemoScene) for s in scenes)


def test_unknown_slug_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        get_demo("no-such-scene")


@pytest.mark.parametrize("slug", SLUGS)
def test_scene_renders_the_same_bytes_every_time(slug: str) -> None:
    first = rendered(slug)
    assert render_demo_png(get_demo(slug)) == first
    image = Image.open(io.BytesIO(first))
    assert image.format == "PNG"
    assert image.size in {(1024, 768), (768, 1024), (1024, 1024)}


@pytest.mark.parametrize("slug", SLUGS)
def test_described_prompt_is_valid_and_measured(slug: str) -> None:
    prompt = described(slug)
    assert validate_prompt(prompt) == []
    palette = prompt["color_palette"]
    assert len(palette) >= 5
    assert sum(c["proportion"] for c in palette) == pytest.approx(1.0, abs=0.002)
    assert all(c["name"] for c in palette)
    assert len({c["hex"] for c in palette}) == len(palette)
    assert prompt["meta"]["source"] == "demo"
    assert "lighting.key" in prompt["meta"]["heuristic_fields"]
    assert set(get_demo(slug).tags) <= set(prompt["tags"])
    assert render_prose(prompt).startswith(prompt["scene"][:20])


@pytest.mark.parametrize("slug", SLUGS)
def test_orientation_and_aspect_ratio_match_the_size(slug: str) -> None:
    width, height = Image.open(io.BytesIO(rendered(slug))).size
    composition = described(slug)["composition"]
    expected = "landscape" if width > height else "portrait" if height > width else "square"
    assert composition["orientation"] == expected
    ratio_w, ratio_h = (int(n) for n in composition["aspect_ratio"].split(":"))
    assert ratio_w * height == ratio_h * width


def test_the_sunset_is_warmer_than_the_sea_floor() -> None:
    sunset = described("sunset-sea")["lighting"]["color_temperature_k"]
    underwater = described("underwater")["lighting"]["color_temperature_k"]
    assert sunset < 4000 < underwater
    assert "warm tones" in described("sunset-sea")["tags"]
    assert "cool tones" in described("underwater")["tags"]


def test_night_scenes_are_low_key_and_bright_ones_are_not() -> None:
    for slug in ("night-city", "lighthouse-night", "aurora-lake"):
        assert described(slug)["lighting"]["key"] == "low-key", slug
    assert described("bauhaus-circles")["lighting"]["key"] == "high-key"


def test_the_synthwave_grid_is_measured_as_mirror_symmetric() -> None:
    assert described("neon-synthwave")["composition"]["symmetry"] == "vertical"
    assert described("still-life")["composition"]["symmetry"] == "none"


def test_the_poster_carries_its_text() -> None:
    texts = [t["text"] for t in described("open-daily-poster")["text_render"]]
    assert texts[:2] == ["JSONCRAFT", "OPEN DAILY"]


def test_palette_of_a_flat_image() -> None:
    image = Image.new("RGB", (100, 100), "#d62828")
    image.paste((27, 42, 74), (0, 0, 100, 25))
    palette = extract_palette(image)
    assert [(c["hex"], c["proportion"]) for c in palette] == [("#d62828", 0.75), ("#1b2a4a", 0.25)]
    assert [c["name"] for c in palette] == ["red", "navy"]


def test_nearest_color_name() -> None:
    assert nearest_color_name((250, 250, 250)) == "white"
    assert nearest_color_name((5, 5, 5)) == "black"
    assert nearest_color_name((40, 90, 200)) == "blue"


def test_describing_does_not_change_the_catalog() -> None:
    scene = get_demo("window-silhouette")
    before = dict(scene.subjects[0])
    prompt = describe_demo(scene, Image.new("RGB", (64, 48), "gray"))
    prompt["subjects"][0]["description"] = "changed"
    assert dict(scene.subjects[0]) == before


@pytest.mark.parametrize("slug", ["lighthouse-night", "bauhaus-circles", "neon-synthwave"])
def test_demo_prompts_and_the_analyzer_name_a_scene_alike(slug: str) -> None:
    """The demo measures with the analyzer's functions, so both words agree on the same pixels."""
    demo, analyzed = described(slug), analyze_image(rendered(slug))
    for field, name in (("lighting", "key"), ("lighting", "contrast"), ("composition", "symmetry")):
        assert demo[field][name] == analyzed[field][name], (field, name)
