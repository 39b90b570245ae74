"""The studio form becomes the spec the service validates; picked files wait on disk."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from app.services.core.errors import ImageTooLargeError, InvalidInputError
from app.services.studio import staging
from app.services.studio.imageops.spec import parse_spec
from app.settings import Settings
from app.state.studio_form import DEFAULT_OPTIONS, OPERATIONS, build_raw_spec
from tests.utils.images import jpeg_bytes

NONE = dict.fromkeys(OPERATIONS, False)


def ticked(*names: str) -> dict[str, bool]:
    return {**NONE, **dict.fromkeys(names, True)}


def test_nothing_ticked_is_an_empty_spec_the_service_refuses() -> None:
    raw = build_raw_spec(NONE, DEFAULT_OPTIONS, [], [])
    assert raw == {}
    with pytest.raises(InvalidInputError, match="pick at least one operation"):
        parse_spec(raw)


def test_the_browser_test_combination() -> None:
    options = {**DEFAULT_OPTIONS, "long_edge": "640", "format": "webp"}
    spec = parse_spec(build_raw_spec(ticked("resize", "convert", "ocr"), options, [], []))
    assert spec.resize is not None and spec.resize.long_edge == 640
    assert spec.convert is not None and spec.convert.format == "webp"
    assert spec.ocr
    assert spec.ai_operations == ["ocr"]


def test_every_operation_with_its_options_passes_the_service() -> None:
    options = {
        **DEFAULT_OPTIONS,
        "resize_mode": "fill",
        "width": "800",
        "height": "600",
        "crop_aspect": "custom",
        "crop_custom": "5:7",
        "format": "png",
        "compress_mode": "target",
        "target_kb": "150",
        "metadata": "keep",
        "watermark_text": "  © Robin  ",
        "watermark_position": "center",
        "watermark_opacity": "0.3",
        "amount_blur": "3.5",
    }
    raw = build_raw_spec(
        dict.fromkeys(OPERATIONS, True), options, ["blur", "grayscale"], [256, 64, 256]
    )
    spec = parse_spec(raw)
    assert spec.resize is not None and (spec.resize.width, spec.resize.height) == (800, 600)
    assert spec.crop is not None and spec.crop.aspect == "5:7"
    assert spec.compress is not None and spec.compress.target_kb == 150
    assert spec.metadata == "keep" and spec.auto_orient
    assert [(f.name, f.amount) for f in spec.filters] == [("grayscale", None), ("blur", 3.5)]
    assert spec.watermark is not None and spec.watermark.text == "© Robin"
    assert spec.remove_background is not None and spec.remove_background.provider == "local"
    assert spec.thumbnails == [64, 256]
    assert spec.describe is not None and spec.describe.model == "local/jsoncraft-vision"


def test_describe_alone_is_a_job_and_names_the_model_picked() -> None:
    options = {**DEFAULT_OPTIONS, "describe_model": "google/gemini-2.5-flash"}
    raw = build_raw_spec(ticked("describe"), options, [], [])
    assert raw == {"describe": {"model": "google/gemini-2.5-flash"}}
    spec = parse_spec(raw)
    assert spec.steps[-1] == "describe" and not spec.image_ops
    with pytest.raises(InvalidInputError, match="describe.model"):
        parse_spec(build_raw_spec(ticked("describe"), {**options, "describe_model": ""}, [], []))


@pytest.mark.parametrize(
    ("names", "options", "filters", "thumbs", "message"),
    [
        (("resize",), {"long_edge": "12ab"}, [], [], "resize.long_edge: enter a whole number"),
        (("resize",), {"long_edge": ""}, [], [], "resize.long_edge: enter a whole number"),
        (("filters",), {}, [], [], "filters: pick at least one filter"),
        (("thumbnails",), {}, [], [], "thumbnails: pick at least one size"),
        (("watermark",), {"watermark_text": "   "}, [], [], "watermark.text: type the text"),
        (("filters",), {"amount_blur": "x"}, ["blur"], [], "filters.blur: enter a number"),
    ],
)
def test_form_mistakes_name_the_field(
    names: tuple[str, ...],
    options: dict[str, str],
    filters: list[str],
    thumbs: list[int],
    message: str,
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        build_raw_spec(ticked(*names), {**DEFAULT_OPTIONS, **options}, filters, thumbs)


def test_service_refusals_come_through_in_its_own_words() -> None:
    raw = build_raw_spec(
        ticked("remove_background", "convert"), {**DEFAULT_OPTIONS, "format": "jpeg"}, [], []
    )
    with pytest.raises(InvalidInputError, match="JPEG has no transparency"):
        parse_spec(raw)
    raw = build_raw_spec(ticked("resize"), {**DEFAULT_OPTIONS, "long_edge": "0"}, [], [])
    with pytest.raises(InvalidInputError, match=r"resize\.long_edge"):
        parse_spec(raw)


def test_staged_files_are_listed_counted_and_removed(isolated_settings: Settings) -> None:
    folder = staging.new_staging_dir(7)
    assert Path(folder).parent == isolated_settings.data_dir / "studio-staging"
    photo = staging.stage(folder, name="../../etc/photo.jpg", stream=io.BytesIO(jpeg_bytes()))
    assert photo["name"] == "photo.jpg" and photo["kind"] == "image" and photo["images"] == 1
    assert Path(str(photo["path"])).parent == Path(folder)

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.jpg", jpeg_bytes())
        z.writestr("nested/b.PNG", b"not checked here")
        z.writestr("__MACOSX/._a.jpg", b"")
        z.writestr("notes.txt", b"hello")
    archive.seek(0)
    row = staging.stage(folder, name="photos.zip", stream=archive)
    assert row["kind"] == "zip" and row["images"] == 2

    broken = staging.stage(folder, name="broken.zip", stream=io.BytesIO(b"PK nope"))
    assert broken["images"] == 0

    staging.discard(folder)
    assert not Path(folder).exists()


def test_a_file_over_the_upload_limit_is_refused_and_not_kept(
    isolated_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.settings import reset_settings

    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    reset_settings()
    folder = staging.new_staging_dir(1)
    with pytest.raises(ImageTooLargeError, match="upload limit"):
        staging.stage(folder, name="big.jpg", stream=io.BytesIO(b"x" * 5000))
    assert list(Path(folder).iterdir()) == []
