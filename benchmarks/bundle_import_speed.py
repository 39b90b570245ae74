"""Bundle import and export speed on a fresh SQLite database, measured in one run.

    .venv/bin/python -m benchmarks.bundle_import_speed [--prompts 10000] [--images 200]

Builds a bundle of N prompts (each with two versions and two tags) sharing M distinct small
JPEGs in a temporary directory, imports it into a fresh DATA_DIR (SQLite + local storage),
exports the whole library again, then imports that export a second time (every item is a
duplicate). Prints the rates of each step. Nothing outside the temporary directory is touched.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _prompt(n: int) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "scene": f"Benchmark scene number {n}: a harbour at dusk with boats",
        "subjects": [
            {"type": "object", "description": f"fishing boat {n}", "position": "left third"},
            {"type": "person", "description": "a sailor", "action": "coiling rope"},
        ],
        "style": {"medium": "photograph", "genre": "seascape"},
        "color_palette": [
            {"hex": "#1d3557", "name": "navy", "proportion": 0.5},
            {"hex": "#e8a33d", "name": "amber", "proportion": 0.3},
        ],
        "lighting": {"conditions": "dusk", "direction": "back", "contrast": "medium"},
        "mood": "calm",
        "composition": {"aspect_ratio": "3:2", "orientation": "landscape"},
        "tags": ["harbour", f"batch-{n % 50}"],
    }


def _jpeg(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), ((i * 37) % 256, (i * 91) % 256, (i * 13) % 256)).save(
        buf, "JPEG", quality=85
    )
    return buf.getvalue()


def build_bundle(path: Path, *, prompts: int, images: int) -> None:
    names = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(images):
            data = _jpeg(i)
            name = f"images/{hashlib.sha256(data).hexdigest()}.jpg"
            zf.writestr(name, data, compress_type=zipfile.ZIP_STORED)
            names.append(name)
        items = []
        for n in range(1, prompts + 1):
            first = _prompt(n)
            second = {**first, "mood": "calm and quiet"}
            record = {
                "title": f"Benchmark prompt {n}",
                "tags": ["harbour", f"batch-{n % 50}"],
                "visibility": "private",
                "versions": [
                    {"number": 1, "data": first, "message": "Created", "created_at": None},
                    {"number": 2, "data": second, "message": "Calmer", "created_at": None},
                ],
                "image": names[n % images],
            }
            zf.writestr(f"prompts/{n}.json", json.dumps(record))
            items.append({"path": f"prompts/{n}.json", "title": record["title"]})
        manifest = {"format": "jsoncraft-bundle", "version": 1, "created_at": "", "items": items}
        zf.writestr("manifest.json", json.dumps(manifest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jsoncraft-bench-") as tmp:
        root = Path(tmp)
        os.environ.update(
            DATA_DIR=str(root / "data"),
            APP_ENV="test",
            SECRET_KEY="benchmark-secret-key-that-is-long-enough-0123",
        )
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("STORAGE_BACKEND", None)
        # Imported after the environment is set, so settings and the engine use the temp dir.
        from sqlmodel import Session

        from app.services.accounts import auth
        from app.services.core.db import get_engine
        from app.services.core.migrations import upgrade_to_head
        from app.services.core.storage import get_storage
        from app.services.library.bundles import export_bundle, import_bundle
        from app.settings import reset_settings

        reset_settings()
        upgrade_to_head()
        storage = get_storage()

        bundle = root / "bench.zip"
        started = time.perf_counter()
        build_bundle(bundle, prompts=args.prompts, images=args.images)
        built = time.perf_counter() - started
        size_mb = bundle.stat().st_size / 1e6
        _say(
            f"built bundle: {args.prompts} prompts x 2 versions, {args.images} images, "
            f"{size_mb:.1f} MB in {built:.1f} s"
        )

        with Session(get_engine(), expire_on_commit=False) as session:
            owner = auth.create_user(
                session, email="bench@example.com", password="a long benchmark passphrase"
            )
            session.commit()

            started = time.perf_counter()
            with bundle.open("rb") as source:
                report = import_bundle(session, storage=storage, owner=owner, source=source)
            took = time.perf_counter() - started
            _say(
                f"import: {report.imported} prompts, {report.images_added} images in {took:.1f} s "
                f"= {report.imported / took:.0f} prompts/s"
            )

            out = root / "export.zip"
            started = time.perf_counter()
            with out.open("wb") as sink:
                result = export_bundle(session, storage=storage, owner=owner, out=sink)
            session.commit()
            took = time.perf_counter() - started
            _say(
                f"export: {result.item_count} prompts, {result.image_count} images, "
                f"{result.size_bytes / 1e6:.1f} MB in {took:.1f} s "
                f"= {result.item_count / took:.0f} prompts/s"
            )

            started = time.perf_counter()
            with out.open("rb") as source:
                again = import_bundle(session, storage=storage, owner=owner, source=source)
            took = time.perf_counter() - started
            _say(
                f"re-import (all duplicates): {again.skipped_duplicates} skipped in {took:.1f} s "
                f"= {again.skipped_duplicates / took:.0f} prompts/s"
            )


if __name__ == "__main__":
    main()
