"""`jsoncraft ops`: the same engine from the command line, end to end."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from app.cli import main
from tests.utils.imageops_samples import photo_jpeg, zip_of
from tests.utils.images import truncated_jpeg

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.jpg").write_bytes(photo_jpeg((1600, 1200)))
    (folder / "sub" / "two.png").write_bytes(_png(Image.new("RGB", (300, 200), (0, 120, 200))))
    (folder / "notes.txt").write_text("not picked up from a folder")
    (folder / ".hidden.jpg").write_bytes(photo_jpeg((64, 48)))
    return folder


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _lines(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line)


def test_contract_line_resize_convert_quality(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["ops", str(inputs), "--resize", "1024", "--format", "webp", "--quality", "80"]
    code = main([*argv, "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    assert sorted(p.name for p in out.iterdir()) == ["one.webp", "two.webp"]
    one = Image.open(out / "one.webp")
    assert (one.format, one.size) == ("WEBP", (1024, 768))
    assert Image.open(out / "two.webp").size == (300, 200)  # never enlarged
    assert "ok     one.jpg -> one.webp" in stdout
    assert stdout.strip().endswith(f"2 done, 0 failed; results in {out}")


def test_bad_items_fail_alone_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "batch.zip"
    archive.write_bytes(
        zip_of({"good.jpg": photo_jpeg((200, 150)), "../evil.jpg": photo_jpeg((20, 20))})
    )
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(truncated_jpeg())
    out = tmp_path / "out"
    code = main(["ops", str(archive), str(broken), "--thumbnail", "64", "--ocr", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 1
    lines = _lines(stdout)
    assert any(line.startswith("error  batch.zip/../evil.jpg: ") for line in lines)
    assert any(line.startswith("error  broken.jpg: ") and "truncated" in line for line in lines)
    assert "ok     batch.zip/good.jpg -> good.ocr.txt, good.ocr.json, good_thumb_64.jpg" in lines
    assert sorted(p.name for p in out.iterdir()) == [
        "good.ocr.json",
        "good.ocr.txt",
        "good_thumb_64.jpg",
    ]


def test_same_names_get_a_suffix_on_all_their_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "photo.jpg").write_bytes(photo_jpeg((120, 90)))
    out = tmp_path / "out"
    code = main(
        ["ops", str(tmp_path / "a"), str(tmp_path / "b"), "--filter", "grayscale",
         "--thumbnail", "32", "--out", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == [
        "photo-2.jpg",
        "photo-2_thumb_32.jpg",
        "photo.jpg",
        "photo_thumb_32.jpg",
    ]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--fit", "12"], "expected WIDTHxHEIGHT"),
        (["--resize", "0"], "whole number above 0"),
        (["--format", "gif"], "invalid choice"),
        (["--filter", "brightness=lots"], "must be a number"),
        (["--filter", "glow"], "filters.0.name"),
        ([], "pick at least one operation"),
        (["--resize", "10", "--fit", "10x10"], "not allowed with argument"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        code = main(["ops", str(inputs), "--out", str(tmp_path / "o"), *args])
        raise SystemExit(code)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert words in err


def test_missing_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ops", str(tmp_path / "nope.jpg"), "--resize", "10", "--out", str(tmp_path)])
    assert code == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_runs_as_a_command(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "ops", str(inputs / "one.jpg"), "--resize", "1024",
         "--format", "webp", "--quality", "80", "--out", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "ok     one.jpg -> one.webp"
    assert Image.open(out / "one.webp").size == (1024, 768)
