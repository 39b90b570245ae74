"""The image engine starts fast: it imports no database or storage code, loads OpenCV, RapidOCR
and onnxruntime only for the operations that use them, and runs a small batch without starting
a process pool. Each check runs in a fresh interpreter, so what other tests imported does not
count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.utils.vision_images import encode

ROOT = Path(__file__).resolve().parents[2]

# Top-level packages and our modules the engine must not load just to start or to convert.
NOT_LOADED = [
    "sqlmodel",
    "sqlalchemy",
    "boto3",
    "botocore",
    "app.services.core.db",
    "app.services.core.models",
    "app.services.core.storage",
    "app.services.images.intake",
    "onnxruntime",
    "cv2",
    "rapidocr",
    "httpx",
]

# Prints, as JSON: which NOT_LOADED modules are loaded, and this process's child processes.
REPORT = """
import json, os, sys
from pathlib import Path
def children():
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found += (task / "children").read_text().split()
    return found
loaded = [m for m in NOT_LOADED if m in sys.modules]
print(json.dumps({"loaded": loaded, "children": children()}))
"""


def _run(body: str, cwd: Path) -> dict[str, list[str]]:
    script = f"NOT_LOADED = {NOT_LOADED!r}\n{body}\n{REPORT}"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_importing_the_engine_loads_no_database_storage_or_heavy_library() -> None:
    report = _run("import app.services.studio.imageops", ROOT)
    assert report["loaded"] == []


def test_jsoncraft_ops_on_small_images_loads_none_of_them_and_starts_no_process(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):  # more than one, on two workers: the threads, not the calling thread
        (folder / f"photo{i}.png").write_bytes(
            encode(Image.new("RGB", (120 + i, 90), (200, 50, 50)), "PNG")
        )
    body = f"""
from app.cli import main
code = main(["ops", {str(folder)!r}, "--format", "webp", "--crop", "1:1", "--workers", "2",
             "--out", {str(tmp_path / "out")!r}])
assert code == 0, code
"""
    report = _run(body, tmp_path)
    assert report == {"loaded": [], "children": []}
    for i in range(3):
        with Image.open(tmp_path / "out" / f"photo{i}.webp") as written:
            assert written.size == (90, 90)


def test_jsoncraft_ops_on_many_files_uses_the_pool(tmp_path: Path) -> None:
    # More files than `jsoncraft ops` keeps in its own process: a big batch keeps the pool's
    # isolation (an image that kills its worker fails alone).
    folder = tmp_path / "in"
    folder.mkdir()
    small = encode(Image.new("RGB", (60, 40), (20, 120, 200)), "PNG")
    for i in range(17):
        (folder / f"photo{i:02}.png").write_bytes(small)
    body = f"""
from app.cli import main
code = main(["ops", {str(folder)!r}, "--format", "webp", "--workers", "2",
             "--out", {str(tmp_path / "out")!r}])
assert code == 0, code
"""
    report = _run(body, tmp_path)
    assert len(report["children"]) >= 1
    assert len(list((tmp_path / "out").glob("photo*.webp"))) == 17


SMALL_BATCH = """
from PIL import Image
from app.services.studio.imageops import map_images, parse_spec
from tests.utils.vision_images import encode

spec = parse_spec({{"resize": {{"long_edge": 50}}, "convert": {{"format": "png"}}}})
small = encode(Image.new("RGB", (120, 90), (200, 50, 50)), "PNG")
results = dict(map_images([(i, small, f"{{i}}.png") for i in range({count})], spec, workers=2))
assert sorted(results) == list(range({count})), results
assert all(isinstance(r, list) and r[0].width == 50 for r in results.values()), results
"""


def test_a_small_batch_starts_no_process_pool() -> None:
    # Two workers hold 2 images each in flight: a batch of 4 fits in this process.
    report = _run(SMALL_BATCH.format(count=4), ROOT)
    assert report["children"] == []


def test_a_bigger_batch_does_start_the_pool() -> None:
    # The same check sees the pool when there is one (the fork server and its two workers).
    report = _run(SMALL_BATCH.format(count=5), ROOT)
    assert len(report["children"]) >= 1
