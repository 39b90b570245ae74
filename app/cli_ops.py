"""`jsoncraft ops`: the image studio's engine on local files, no account or database needed.

    python -m app.cli ops photos/ shots.zip --resize 1024 --format webp --quality 80 --out out/

Inputs are files, folders (searched recursively for images and zips) or zips. One line is
printed per image as it finishes: `ok  NAME -> OUTPUTS` or `error  NAME: WHY`. The exit code
is 0 when every image worked, 1 when any failed, 2 when the arguments are wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NoReturn

if TYPE_CHECKING:
    from app.services.studio.imageops import OutputFile

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif", ".tif", ".tiff", ".bmp"}
_BATCH_LIMIT = 1_000_000  # the command line has no plan limits
# Up to this many files (and no zip, whose size is unknown until it is read) run in this process:
# a one-shot command pays for the process pool's start-up on every run, about as long as a dozen
# 12-MP photos take on two cores. A bigger batch gets the pool's isolation (an image that kills
# its worker fails alone) and its parallel OCR.
_IN_PROCESS_FILES = 16


def add_ops_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ops = sub.add_parser(
        "ops",
        help="run image operations on files, folders or zips",
        description="Run image operations (the /studio engine) on local files.",
    )
    # A wrong flag is a one-line error like every other refusal here, not argparse's usage dump.
    setattr(ops, "error", _one_line_error)  # noqa: B010
    ops.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or zips")
    ops.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    size = ops.add_mutually_exclusive_group()
    size.add_argument("--resize", type=_positive, metavar="N", help="long edge in pixels")
    size.add_argument("--fit", type=_size, metavar="WxH", help="fit inside, never enlarged")
    size.add_argument("--fill", type=_size, metavar="WxH", help="cover and centre-crop")
    size.add_argument("--exact", type=_size, metavar="WxH", help="stretch to exactly this size")
    ops.add_argument("--crop", metavar="W:H", help='centre crop to an aspect ratio, e.g. "16:9"')
    ops.add_argument("--format", choices=["jpeg", "png", "webp", "avif"], help="convert")
    quality = ops.add_mutually_exclusive_group()
    quality.add_argument("--quality", type=_positive, metavar="N", help="1-100")
    quality.add_argument("--target-kb", type=_positive, metavar="N", help="aim for this size")
    meta = ops.add_mutually_exclusive_group()
    meta.add_argument("--keep-metadata", action="store_true", help="keep EXIF and ICC profile")
    meta.add_argument("--strip-metadata", action="store_true", help="remove it (the default)")
    ops.add_argument("--no-auto-orient", action="store_true", help="ignore EXIF orientation")
    ops.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="NAME[=AMOUNT]",
        help="grayscale, sepia, sharpen, blur, brightness, contrast, saturation; repeatable",
    )
    ops.add_argument("--watermark", metavar="TEXT")
    ops.add_argument(
        "--watermark-position",
        default="bottom-right",
        choices=["top-left", "top-right", "bottom-left", "bottom-right", "center"],
    )
    ops.add_argument("--watermark-opacity", type=float, default=0.5, metavar="0-1")
    ops.add_argument(
        "--remove-background",
        nargs="?",
        const="local",
        choices=["local", "fal"],
        help="offline (local, the default) or Fal.ai (needs FAL_KEY)",
    )
    ops.add_argument("--ocr", action="store_true", help="write the text as .ocr.txt/.ocr.json")
    ops.add_argument(
        "--thumbnail", action="append", type=_positive, default=[], metavar="N", help="repeatable"
    )
    ops.add_argument(
        "--workers", type=_positive, help="images processed at once (default: CPU cores)"
    )
    ops.set_defaults(func=cmd_ops)


def cmd_ops(args: argparse.Namespace) -> int:
    from app.services.studio.imageops import iter_inputs, map_images, parse_spec

    spec = parse_spec(spec_from_args(args))  # InvalidInputError -> exit 2 with its message
    paths = _input_files([Path(p) for p in args.inputs])
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    counts = {"ok": 0, "failed": 0}

    def work() -> Iterator[tuple[str, bytes, str]]:
        for item in iter_inputs(_opened(paths), max_items=_BATCH_LIMIT):
            if item.data is None:
                _print(f"error  {item.name}: {item.error}")
                counts["failed"] += 1
            else:
                yield item.name, item.data, item.name

    few = len(paths) <= _IN_PROCESS_FILES and not any(p.suffix.lower() == ".zip" for p in paths)
    results = map_images(work(), spec, workers=args.workers, in_process=True if few else None)
    for name, result in results:
        if isinstance(result, list):
            written = _write_outputs(out_dir, name, result, used)
            _print(f"ok     {name} -> {', '.join(written) or '(nothing)'}")
            counts["ok"] += 1
        else:
            _print(f"error  {name}: {result.message}")
            counts["failed"] += 1
    _print(f"{counts['ok']} done, {counts['failed']} failed; results in {out_dir}")
    return 1 if counts["failed"] else 0


def spec_from_args(args: argparse.Namespace) -> dict[str, object]:
    """The flags as an operations spec (only what was given, so defaults stay defaults)."""
    spec: dict[str, object] = {}
    if args.resize:
        spec["resize"] = {"mode": "long_edge", "long_edge": args.resize}
    for mode in ("fit", "fill", "exact"):
        if getattr(args, mode):
            width, height = getattr(args, mode)
            spec["resize"] = {"mode": mode, "width": width, "height": height}
    if args.crop:
        spec["crop"] = {"aspect": args.crop}
    if args.format:
        spec["convert"] = {"format": args.format}
    if args.quality:
        spec["compress"] = {"quality": args.quality}
    elif args.target_kb:
        spec["compress"] = {"target_kb": args.target_kb}
    if args.keep_metadata:
        spec["metadata"] = "keep"
    elif args.strip_metadata:
        spec["metadata"] = "strip"
    if args.no_auto_orient:
        spec["auto_orient"] = False
    if args.filter:
        spec["filters"] = [_filter(text) for text in args.filter]
    if args.watermark:
        spec["watermark"] = {
            "text": args.watermark,
            "position": args.watermark_position,
            "opacity": args.watermark_opacity,
        }
    if args.remove_background:
        spec["remove_background"] = {"provider": args.remove_background}
    if args.ocr:
        spec["ocr"] = True
    if args.thumbnail:
        spec["thumbnails"] = args.thumbnail
    return spec


def _input_files(paths: list[Path]) -> list[Path]:
    from app.services.core.errors import InvalidInputError

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.suffix.lower() in _IMAGE_SUFFIXES | {".zip"}
            )
        elif path.is_file():
            files.append(path)
        else:
            raise InvalidInputError(f"no such file or folder: {path}")
    if not files:
        raise InvalidInputError("no images or zips found in the inputs")
    return files


def _opened(paths: list[Path]) -> Iterator[tuple[str, BinaryIO]]:
    for path in paths:
        # Open one at a time: iter_inputs is done with a file before it asks for the next.
        with path.open("rb") as f:
            yield path.name, f


def _write_outputs(
    out_dir: Path, name: str, outputs: list[OutputFile], used: set[str]
) -> list[str]:
    """Write one image's files; a second input with the same name gets `-2`, `-3`... on all
    of its files, so an image and its thumbnails and text keep matching names."""
    from app.services.studio.imageops.pipeline import output_stem

    stem = output_stem(name)
    names = [o.name for o in outputs]
    suffix = 1
    while any(n in used for n in names):
        suffix += 1
        names = [f"{stem}-{suffix}{o.name[len(stem) :]}" for o in outputs]
    for file_name, output in zip(names, outputs, strict=True):
        (out_dir / file_name).write_bytes(output.data)
        used.add(file_name)
    return names


def _filter(text: str) -> dict[str, object]:
    name, sep, amount = text.partition("=")
    if not sep:
        return {"name": name.strip()}
    try:
        return {"name": name.strip(), "amount": float(amount)}
    except ValueError:
        _one_line_error(f"--filter {text}: the amount must be a number, e.g. brightness=1.2")


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.strip().isdigit() or not height.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, e.g. 800x600: {text}")
    return int(width), int(height)


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0: {text}")
    return int(text)


def _one_line_error(message: str) -> NoReturn:
    sys.stderr.write(f"error: {message} (see: jsoncraft ops --help)\n")
    raise SystemExit(2)


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
