"""Image studio engine speed and memory, against plain Pillow and libvips, in one run.

    .venv/bin/python -m benchmarks.imageops_bench [--quick] [--whole-process]

Part 0 (whole process, start-up included): `jsoncraft ops --resize 1024 --format webp --quality
80` on one 12-MP JPEG and on a folder of 12, against libvips' `thumbnail` + `webpsave` in a loop
in a fresh process (the `vips` command line when installed, else pyvips), each run several times
in turn; printed: the median wall-clock seconds, the CPU seconds, and our time over libvips'
(the issue's targets: at most 2x on one photo, at most 1x on twelve). `--whole-process` runs only
this part.

Part 1 (speed): photo-like 12-MP JPEGs (scikit-image photos upscaled to 4000x3000 with sensor-like
noise, saved at quality 90) through (a) 1024 px WebP q80 and (b) 512 px JPEG thumbnail (q85):
- Pillow defaults: Image.open + thumbnail() (BICUBIC, reducing_gap=2.0) + save;
- Pillow thumbnail(reducing_gap=1.0), the tuning the issue measured;
- our engine (`process_image`) in this process, and through `map_images` on 2 workers;
- libvips `thumbnail_buffer` + save, with VIPS concurrency 1 and its default (one thread per core).
Then 12-MP PNG -> 1024 px WebP, where libvips is faster. Printed: images/second (wall clock), CPU
milliseconds per image for the single-process rows, the ratio to libvips, output size, and SSIM
of the result against a full-size decode resized with LANCZOS (quality: 1.0 = identical).

Part 2 (memory): a 1,000-image batch (2-MP JPEGs -> 1024 px WebP) through `map_images`, sampling
the resident memory (RSS, from /proc) of this process and of each worker, printed after 100,
500 and 1,000 images.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from app.services.studio.imageops import map_images, parse_spec, process_image
from app.services.studio.imageops.pool import shutdown_pools, worker_pids

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("astronaut", "coffee", "chelsea", "rocket")
PHOTO_SIZE = (4000, 3000)
BATCH_PHOTO_SIZE = (1600, 1200)
WEBP_SPEC = parse_spec(
    {"resize": {"long_edge": 1024}, "convert": {"format": "webp"}, "compress": {"quality": 80}}
)
THUMB_SPEC = parse_spec({"thumbnails": [512]})


@dataclass
class Row:
    name: str
    per_second: float
    cpu_ms: float | None
    size_kb: float
    ssim: float | None


def make_photos(size: tuple[int, int], count: int, seed: int = 1) -> list[bytes]:
    from skimage import data

    rng = np.random.default_rng(seed)
    photos = []
    for name in itertools.islice(itertools.cycle(SOURCES), count):
        base = Image.fromarray(getattr(data, name)()).convert("RGB")
        big = np.asarray(base.resize(size, Image.Resampling.BICUBIC), np.float32)
        noisy = np.clip(big + rng.normal(0, 4, big.shape).astype(np.float32), 0, 255)
        buf = io.BytesIO()
        Image.fromarray(noisy.astype(np.uint8)).save(buf, "JPEG", quality=90)
        photos.append(buf.getvalue())
    return photos


# -- whole process ----------------------------------------------------------------------------

VIPS_LOOP = """
import sys, pyvips
out = sys.argv[1]
for path in sys.argv[2:]:
    pyvips.Image.thumbnail(path, 1024).webpsave(out, Q=80)
"""


def whole_process(rounds: int) -> None:
    """What a person waits for: interpreter, imports, pool (if any) and the work, end to end."""
    photos = make_photos(PHOTO_SIZE, 12, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one, twelve = folder / "one", folder / "twelve"
        one.mkdir()
        twelve.mkdir()
        for i, data in enumerate(photos):
            (twelve / f"p{i:02}.jpg").write_bytes(data)
        (one / "p00.jpg").write_bytes(photos[0])
        print(
            f"\nWhole process, start-up included: 12-MP JPEG -> 1024 px WebP q80; median of "
            f"{rounds} runs each, taken in turn; load average {os.getloadavg()[0]:.1f}"
        )
        print(f"  {'case':<30} {'ours s':>7} {'libvips s':>9} {'ratio':>6} {'CPU s ours/vips':>16}")
        for title, source in (("1 photo", one), ("12 photos", twelve)):
            files = sorted(str(p) for p in source.iterdir())
            ours_cmd = [
                sys.executable, "-m", "app.cli", "ops", str(source), "--resize", "1024",
                "--format", "webp", "--quality", "80", "--out", str(folder / "out"),
            ]  # fmt: skip
            ours, theirs = [], []
            for _ in range(rounds):
                ours.append(_timed(ours_cmd))
                theirs.append(_timed(_vips_command(files, str(folder / "vips.webp"))))
            wall_ours = statistics.median(w for w, _ in ours)
            wall_vips = statistics.median(w for w, _ in theirs)
            cpu_ours = statistics.median(c for _, c in ours)
            cpu_vips = statistics.median(c for _, c in theirs)
            print(
                f"  {title:<30} {wall_ours:7.2f} {wall_vips:9.2f} {wall_ours / wall_vips:5.2f}x "
                f"{cpu_ours:7.2f}/{cpu_vips:<7.2f}"
            )
    print(f"  load average {os.getloadavg()[0]:.1f} at the end of this part")


def _vips_command(files: list[str], out: str) -> list[str]:
    vips = shutil.which("vips")
    if vips is None:
        return [sys.executable, "-c", VIPS_LOOP, out, *files]
    loop = "; ".join(f"{vips} thumbnail {f} '{out}[Q=80]' 1024" for f in files)
    return ["sh", "-c", loop]


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


# -- the contenders -------------------------------------------------------------------------


def pillow(edge: int, fmt: str, quality: int, gap: float | None) -> Callable[[bytes], bytes]:
    def run(data: bytes) -> bytes:
        image = Image.open(io.BytesIO(data))
        if gap is None:
            image.thumbnail((edge, edge))
        else:
            image.thumbnail((edge, edge), reducing_gap=gap)
        out = io.BytesIO()
        image.save(out, fmt, quality=quality)
        return out.getvalue()

    return run


def engine(spec_name: str) -> Callable[[bytes], bytes]:
    import cv2

    spec = WEBP_SPEC if spec_name == "webp" else THUMB_SPEC

    def run(data: bytes) -> bytes:
        # One thread, as in a pool worker: this row is the engine's cost per CPU.
        cv2.setNumThreads(1)
        return process_image(data, "photo.jpg", spec)[0].data

    return run


def vips(edge: int, fmt: str, quality: int, threads: int) -> Callable[[bytes], bytes]:
    import pyvips

    def run(data: bytes) -> bytes:
        pyvips.concurrency_set(threads)
        image = pyvips.Image.thumbnail_buffer(data, edge)
        if fmt == "WEBP":
            return bytes(image.webpsave_buffer(Q=quality))
        return bytes(image.jpegsave_buffer(Q=quality))

    return run


def measure(
    fn: Callable[[bytes], bytes], photos: list[bytes], rounds: int
) -> tuple[float, float, list[bytes]]:
    fn(photos[0])  # warm up (lazy imports, first-call set-up)
    wall, cpu = time.perf_counter(), time.process_time()
    outputs = [fn(data) for data in itertools.islice(itertools.cycle(photos), rounds)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return rounds / wall, cpu * 1000 / rounds, outputs


def measure_pool(spec_name: str, photos: list[bytes], rounds: int) -> tuple[float, list[bytes]]:
    spec = WEBP_SPEC if spec_name == "webp" else THUMB_SPEC
    list(map_images([(i, photos[i], "p.jpg") for i in range(2)], spec, workers=2))  # warm
    items = (
        (i, data, "p.jpg")
        for i, data in enumerate(itertools.islice(itertools.cycle(photos), rounds))
    )
    started = time.perf_counter()
    outputs = [result[0].data for _, result in map_images(items, spec, workers=2)]  # type: ignore[index]
    return rounds / (time.perf_counter() - started), outputs


def ssim_to_reference(output: bytes, source: bytes) -> float:
    from skimage.metrics import structural_similarity

    result = Image.open(io.BytesIO(output)).convert("RGB")
    reference = (
        Image.open(io.BytesIO(source)).convert("RGB").resize(result.size, Image.Resampling.LANCZOS)
    )
    return float(
        structural_similarity(
            np.asarray(result), np.asarray(reference), channel_axis=2, data_range=255
        )
    )


def speed(photos: list[bytes], rounds: int) -> None:
    cases = [
        ("12-MP JPEG -> 1024 px WebP q80", 1024, "WEBP", 80, "webp"),
        ("12-MP JPEG -> 512 px JPEG thumbnail q85", 512, "JPEG", 85, "thumb"),
    ]
    for title, edge, fmt, quality, spec_name in cases:
        rows: list[Row] = []
        contenders: list[tuple[str, Callable[[bytes], bytes]]] = [
            ("Pillow defaults (thumbnail)", pillow(edge, fmt, quality, None)),
            ("Pillow thumbnail(reducing_gap=1.0)", pillow(edge, fmt, quality, 1.0)),
            ("engine, 1 process", engine(spec_name)),
            ("libvips thumbnail, 1 thread", vips(edge, fmt, quality, 1)),
            ("libvips thumbnail, default threads", vips(edge, fmt, quality, 0)),
        ]
        for name, fn in contenders:
            rate, cpu_ms, outputs = measure(fn, photos, rounds)
            rows.append(
                Row(name, rate, cpu_ms, _kb(outputs), ssim_to_reference(outputs[0], photos[0]))
            )
        rate, outputs = measure_pool(spec_name, photos, rounds * 2)
        rows.insert(3, Row("engine, map_images on 2 workers", rate, None, _kb(outputs), None))
        _print_table(title, rows)


def png_case(photos: list[bytes], rounds: int) -> None:
    """Where libvips wins: no shrink-on-load for PNG, and Pillow's zlib inflate is the cost."""
    pngs = []
    for data in photos[:2]:
        buf = io.BytesIO()
        Image.open(io.BytesIO(data)).save(buf, "PNG")
        pngs.append(buf.getvalue())
    rows = []
    for name, fn in (
        ("engine, 1 process", engine("webp")),
        ("libvips thumbnail, 1 thread", vips(1024, "WEBP", 80, 1)),
        ("libvips thumbnail, default threads", vips(1024, "WEBP", 80, 0)),
    ):
        rate, cpu_ms, outputs = measure(fn, pngs, rounds)
        rows.append(Row(name, rate, cpu_ms, _kb(outputs), ssim_to_reference(outputs[0], pngs[0])))
    _print_table("12-MP PNG -> 1024 px WebP q80 (no shrink-on-load for PNG)", rows)


def _kb(outputs: list[bytes]) -> float:
    return statistics.mean(len(o) for o in outputs) / 1024


def _print_table(title: str, rows: list[Row]) -> None:
    vips_one = next(r.per_second for r in rows if r.name.endswith("1 thread"))
    vips_all = next(r.per_second for r in rows if r.name.endswith("default threads"))
    print(f"\n{title}")
    print(
        f"  {'method':<36} {'img/s':>6} {'CPU ms/img':>10} {'vs vips 1t':>10} {'vs vips':>8} "
        f"{'KB out':>7} {'SSIM':>6}"
    )
    for r in rows:
        cpu = f"{r.cpu_ms:10.0f}" if r.cpu_ms is not None else f"{'-':>10}"
        ssim = f"{r.ssim:6.3f}" if r.ssim is not None else f"{'-':>6}"
        print(
            f"  {r.name:<36} {r.per_second:6.2f} {cpu} {r.per_second / vips_one:9.2f}x "
            f"{r.per_second / vips_all:7.2f}x {r.size_kb:7.0f} {ssim}"
        )


# -- memory ---------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory(count: int) -> None:
    photos = make_photos(BATCH_PHOTO_SIZE, len(SOURCES), seed=2)
    peaks = {"parent": 0.0, "worker": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            peaks["parent"] = max(peaks["parent"], rss_mb(os.getpid()))
            for pid in worker_pids(2):
                peaks["worker"] = max(peaks["worker"], rss_mb(pid))

    def items() -> Iterator[tuple[int, bytes, str]]:
        for i in range(count):
            yield i, bytes(photos[i % len(photos)]), f"{i}.jpg"  # a fresh copy per image

    list(map_images([(0, photos[0], "warm.jpg")], WEBP_SPEC, workers=2))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    marks = {m for m in (100, 500, 1000, count) if m <= count}
    print(
        f"\n{count} images ({BATCH_PHOTO_SIZE[0]}x{BATCH_PHOTO_SIZE[1]} JPEG -> 1024 px WebP q80) "
        "through map_images on 2 workers; RSS in MB"
    )
    print(
        f"  {'images done':>11} {'parent':>7} {'worker A':>9} {'worker B':>9} "
        f"{'peak parent':>12} {'peak worker':>12}"
    )
    started = time.perf_counter()
    failed = 0
    for done, (_, result) in enumerate(map_images(items(), WEBP_SPEC, workers=2), start=1):
        failed += not isinstance(result, list)
        if done in marks:
            workers = [rss_mb(pid) for pid in worker_pids(2)] + [0.0, 0.0]
            print(
                f"  {done:>11} {rss_mb(os.getpid()):7.0f} {workers[0]:9.0f} {workers[1]:9.0f} "
                f"{peaks['parent']:12.0f} {peaks['worker']:12.0f}"
            )
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    print(f"  {count} images in {elapsed:.1f} s ({count / elapsed:.1f} img/s), {failed} failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer images (about 30 s)")
    parser.add_argument("--whole-process", action="store_true", help="only part 0")
    args = parser.parse_args()
    if args.whole_process:
        print(f"load average {os.getloadavg()[0]:.1f} at the start, {os.cpu_count()} CPUs")
        whole_process(rounds=3 if args.quick else 7)
        return
    rounds = 6 if args.quick else 16
    batch = 200 if args.quick else 1000
    import pyvips

    pyvips.cache_set_max(0)  # the same photo twice must be decoded twice
    load = os.getloadavg()[0]
    print(
        f"load average {load:.1f} at the start (other work on the machine slows the wall-clock "
        "figures, the 2-worker rows most)"
    )
    print(
        f"Pillow {Image.__version__}, libvips {pyvips.version(0)}.{pyvips.version(1)}."
        f"{pyvips.version(2)}, {os.cpu_count()} CPUs"
    )
    photos = make_photos(PHOTO_SIZE, len(SOURCES))
    average = statistics.mean(map(len, photos)) / 1e6
    print(f"{len(photos)} sources, {average:.1f} MB each on average; {rounds} images per row")
    whole_process(rounds=3 if args.quick else 7)
    speed(photos, rounds)
    png_case(photos, max(3, rounds // 3))
    memory(batch)
    shutdown_pools()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
