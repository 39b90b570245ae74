"""`jsoncraft generate`: images from a JSON prompt, made here and now, written into a folder.

    python -m app.cli generate 42 --model flux-schnell --n 2 --seed 7 --aspect 16:9 --out out/
    python -m app.cli generate prompt.json --model jsoncraft/layout-preview

PROMPT is a saved prompt's id (its current version) or a JSON prompt file. The provider is
called from this process (TOGETHER_* and FAL_* settings pick the endpoints), with the same
rendering, sizes, presets and embedded metadata as the job queue's runs, but no queue and no
credits: it is an operator's tool. One line per image written (`PATH  MODEL  seed S  WxH`);
any failure is one line on stderr (`error: ...`) and a non-zero exit: 2 when the command,
its input or the setup is wrong (unknown model, missing key, no such prompt), 1 when the
provider or the disk failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from app.services.generation.direct import MadeFile, SavedSource

MAX_PROMPT_FILE = 1024 * 1024  # a JSON prompt is a few kilobytes
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
_HELP = (
    "Generate images from a saved prompt (its id) or a JSON prompt file, calling the provider "
    "directly from this process. An operator's tool like `analyze`: no job queue and no "
    "credits are involved, and nothing is added to the gallery. Images are written into DIR "
    "with their parameters embedded (PNG text chunk or XMP); one line is printed per image."
)


class _CommandError(Exception):
    """A refusal already worded for the person at the terminal."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def add_generate_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    generate = sub.add_parser(
        "generate",
        help="generate images from a saved prompt or a JSON file (no queue, no credits)",
        description=_HELP,
    )
    # A wrong flag is a one-line error like every other refusal here, not argparse's usage dump.
    setattr(generate, "error", _one_line_error)  # noqa: B010
    generate.add_argument("prompt", metavar="PROMPT", help="a saved prompt's id, or a .json file")
    generate.add_argument("--model", required=True, metavar="ID", help="model id or alias")
    generate.add_argument("--n", type=int, default=1, metavar="N", help="images, 1-4 (default 1)")
    generate.add_argument("--seed", type=int, metavar="S", help="first seed (default: random)")
    generate.add_argument("--aspect", default="1:1", metavar="W:H", help="e.g. 16:9 (default 1:1)")
    generate.add_argument("--preset", metavar="NAME", help="a style preset, e.g. film-noir")
    generate.add_argument(
        "--out", type=Path, default=Path("."), metavar="DIR", help="folder (default: here)"
    )
    generate.set_defaults(func=cmd_generate)


def cmd_generate(args: argparse.Namespace) -> int:
    from app.services.core.errors import (
        InvalidInputError,
        MissingKeyError,
        NotFoundError,
        UnknownModelError,
        UserFacingError,
    )

    # Provider retries log warnings; here the one line that matters is the outcome.
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        return _generate(args)
    except _CommandError as e:
        return _fail(e.message, e.code)
    except (InvalidInputError, NotFoundError, UnknownModelError, MissingKeyError) as e:
        return _fail(e.message, 2)
    except UserFacingError as e:
        return _fail(e.message, 1)
    except Exception as e:  # noqa: BLE001 - an operator tool answers in one line, never a traceback
        return _fail(f"an unexpected {type(e).__name__} stopped the generation: {e}"[:500], 1)


def _generate(args: argparse.Namespace) -> int:
    from app.services.generation.direct import make_images, plan_images

    out = _writable_folder(args.out)
    data, source = _load_prompt(args.prompt)
    plan = plan_images(
        data,
        model=args.model,
        n=args.n,
        seed=args.seed,
        aspect=args.aspect,
        preset=args.preset,
        source=source,
    )
    for index, made in enumerate(make_images(plan), start=1):
        path = _write(out, made, index)
        meta = made.metadata
        _print(f"{path}  {meta.model}  seed {meta.seed}  {meta.width}x{meta.height}")
    return 0


def _writable_folder(folder: Path) -> Path:
    """The output folder, created if missing, proven writable before any provider is paid."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise _CommandError(f"cannot write images into {folder}: {e.strerror or e}", 2) from e
    return folder


def _load_prompt(text: str) -> tuple[dict[str, Any], SavedSource | None]:
    path = Path(text)
    if path.is_file():
        return _read_prompt_file(path), None
    if text.strip().isdigit():
        return _saved(int(text.strip()))
    if path.exists():
        raise _CommandError(f"{path} is not a file: give a JSON prompt file or a prompt id", 2)
    raise _CommandError(f"no such file: {path} (give a JSON prompt file or a prompt id)", 2)


def _read_prompt_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_PROMPT_FILE + 1)
    except OSError as e:
        raise _CommandError(f"cannot read {path}: {e.strerror or e}", 2) from e
    if len(raw) > MAX_PROMPT_FILE:
        raise _CommandError(f"{path} is too large for a JSON prompt (over 1 MB)", 2)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise _CommandError(f"{path} is not UTF-8 text, so it is not a JSON prompt", 2) from e
    except json.JSONDecodeError as e:
        raise _CommandError(
            f"{path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}", 2
        ) from e
    if not isinstance(data, dict):
        raise _CommandError(f"{path} holds JSON but not a prompt: it must be an object {{...}}", 2)
    return data


def _saved(prompt_id: int) -> tuple[dict[str, Any], SavedSource]:
    from app.services.core.db import session_scope
    from app.services.core.migrations import upgrade_to_head
    from app.services.generation.direct import saved_prompt

    if prompt_id > 2**31 - 1:
        raise _CommandError(f"There is no saved prompt with id {prompt_id}.", 2)
    upgrade_to_head()
    with session_scope() as session:
        found = saved_prompt(session, prompt_id=prompt_id)
    return found.data, found


def _write(folder: Path, made: MadeFile, index: int) -> Path:
    """A new file per image (never overwriting one already there), named by model and seed."""
    meta = made.metadata
    stem = f"{meta.model.rsplit('/', 1)[-1]}-{meta.seed}-{index}".replace(" ", "_")
    extension = _EXTENSIONS.get(made.mime_type, ".png")
    for attempt in range(1, 1000):
        path = folder / f"{stem}{'' if attempt == 1 else f'-{attempt}'}{extension}"
        try:
            with path.open("xb") as f:
                f.write(made.data)
            return path
        except FileExistsError:
            continue
        except OSError as e:
            raise _CommandError(f"cannot write {path}: {e.strerror or e}", 1) from e
    raise _CommandError(f"too many files named {stem}* in {folder} already", 1)


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")
    return code


def _one_line_error(message: str) -> NoReturn:
    sys.stderr.write(f"error: {message} (see: jsoncraft generate --help)\n")
    raise SystemExit(2)


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
