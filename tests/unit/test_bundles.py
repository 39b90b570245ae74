"""Bundles: export -> import round trips, all-or-nothing validation, and hostile zip files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.services.accounts import auth
from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import Asset, Bundle, Prompt, PromptTag, PromptVersion, Tag, User
from app.services.core.storage import Storage, get_storage
from app.services.images.intake import ingest_image
from app.services.library.bundles import (
    MAX_ENTRIES,
    BundleRejectedError,
    export_bundle,
    import_bundle,
    list_bundles,
)
from app.services.library.bundles.archive import check_directory
from app.services.library.writes import add_version, create_prompt
from app.settings import Settings
from tests.utils.images import jpeg_bytes, png_bomb

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long passphrase here"


def prompt_data(scene: str, **extra: Any) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "scene": scene,
        "subjects": [{"description": "a lighthouse", "position": "right third"}],
        "style": {"medium": "photograph"},
        "color_palette": [{"hex": "#1b2a4a", "proportion": 0.6}],
        "lighting": {"conditions": "dusk"},
        "composition": {"aspect_ratio": "3:2"},
        **extra,
    }


def make_user(session: Session, email: str) -> User:
    user = auth.create_user(session, email=email, password=PASSWORD)
    session.commit()
    return user


def add_prompt(
    session: Session,
    owner: User,
    title: str,
    *,
    image: bytes | None = None,
    tags: list[str] | None = None,
    versions: int = 1,
    visibility: str = "private",
) -> Prompt:
    assert owner.id is not None
    asset_id = None
    if image is not None:
        asset = ingest_image(
            session=session,
            storage=get_storage(),
            owner_id=owner.id,
            stream=io.BytesIO(image),
            filename="photo.jpg",
        )
        asset_id = asset.id
    prompt = create_prompt(
        session,
        owner_id=owner.id,
        title=title,
        data=prompt_data(f"{title}, version 1"),
        asset_id=asset_id,
        tags=tags or [],
        visibility=visibility,
        model="local/test",
    )
    assert prompt.id is not None
    for n in range(2, versions + 1):
        add_version(
            session,
            prompt_id=prompt.id,
            data=prompt_data(f"{title}, version {n}", mood="calm"),
            author_id=owner.id,
            message=f"edit {n}",
        )
    session.commit()
    return prompt


def export_bytes(session: Session, owner: User, **kwargs: Any) -> bytes:
    out = io.BytesIO()
    export_bundle(session, storage=get_storage(), owner=owner, out=out, **kwargs)
    session.commit()
    return out.getvalue()


def do_import(session: Session, owner: User, data: bytes, name: str = "b.zip") -> Any:
    return import_bundle(
        session, storage=get_storage(), owner=owner, source=io.BytesIO(data), filename=name
    )


def zip_of(files: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def manifest(items: list[dict[str, Any]], version: Any = 1) -> str:
    return json.dumps(
        {"format": "jsoncraft-bundle", "version": version, "created_at": "x", "items": items}
    )


def prompt_file(title: str, data: dict[str, Any], image: str | None = None) -> str:
    return json.dumps(
        {
            "title": title,
            "tags": ["t"],
            "visibility": "private",
            "versions": [{"number": 1, "data": data, "message": "m", "created_at": None}],
            "image": image,
        }
    )


def hand_made_bundle(prompts: list[tuple[str, dict[str, Any], bytes | None]]) -> bytes:
    files: dict[str, bytes | str] = {}
    items = []
    for n, (title, data, image) in enumerate(prompts, start=1):
        name = None
        if image is not None:
            name = f"images/{hashlib.sha256(image).hexdigest()}.jpg"
            files[name] = image
        files[f"prompts/{n}.json"] = prompt_file(title, data, name)
        items.append({"path": f"prompts/{n}.json", "title": title, "image": name})
    files["manifest.json"] = manifest(items)
    return zip_of(files)


def stored_files(settings: Settings) -> set[str]:
    root = settings.storage_dir
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def count(session: Session, model: Any, **where: Any) -> int:
    query = select(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return len(session.exec(query).all())


# --- round trips ---------------------------------------------------------------------------


def test_export_then_import_into_a_fresh_user_keeps_everything(session: Session) -> None:
    ada = make_user(session, "ada@example.com")
    red, blue = jpeg_bytes(color=(200, 30, 30)), jpeg_bytes(color=(30, 30, 200))
    add_prompt(session, ada, "Red one", image=red, tags=["warm", "sea"], versions=3)
    add_prompt(session, ada, "Red again", image=red, tags=["warm"])  # same image, shared
    add_prompt(session, ada, "Blue", image=blue, visibility="public")
    add_prompt(session, ada, "No image")

    data = export_bytes(session, ada)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        man = json.loads(zf.read("manifest.json"))
    assert man["format"] == "jsoncraft-bundle" and man["version"] == 1
    assert [i["path"] for i in man["items"]] == [f"prompts/{n}.json" for n in range(1, 5)]
    assert len([n for n in names if n.startswith("images/")]) == 2  # stored once each

    bob = make_user(session, "bob@example.com")
    report = do_import(session, bob, data)
    assert report.ok and report.imported == 4 and report.skipped_duplicates == 0
    assert report.images_added == 2 and report.errors == []
    assert report.message == "Imported 4 prompts, skipped 0 duplicates."

    mine = session.exec(select(Prompt).where(Prompt.owner_id == bob.id).order_by(col(Prompt.id)))
    imported = {p.title: p for p in mine.all()}
    assert set(imported) == {"Red one", "Red again", "Blue", "No image"}
    assert imported["Blue"].visibility == "public"
    assert imported["Red one"].model == "local/test"
    red_one = imported["Red one"]
    versions = session.exec(
        select(PromptVersion)
        .where(PromptVersion.prompt_id == red_one.id)
        .order_by(col(PromptVersion.number))
    ).all()
    assert [v.number for v in versions] == [1, 2, 3]
    assert [v.message for v in versions][1:] == ["edit 2", "edit 3"]
    assert versions[-1].data == prompt_data("Red one, version 3", mood="calm")
    assert red_one.current_version_id == versions[-1].id
    tags = session.exec(
        select(Tag.name).join(PromptTag).where(PromptTag.prompt_id == red_one.id)  # type: ignore[arg-type]
    ).all()
    assert sorted(tags) == ["sea", "warm"]
    bob_assets = session.exec(select(Asset).where(Asset.owner_id == bob.id)).all()
    assert {a.content_hash for a in bob_assets} == {
        hashlib.sha256(red).hexdigest(),
        hashlib.sha256(blue).hexdigest(),
    }
    assert imported["Red one"].asset_id == imported["Red again"].asset_id
    assert imported["No image"].asset_id is None

    # Both sides are recorded; the export's zip is kept in storage for a later download.
    export_row = list_bundles(session, owner=ada)[0]
    assert export_row.kind == "export" and export_row.item_count == 4
    assert export_row.storage_key and export_row.storage_key.startswith(f"bundles/{ada.id}/")
    assert get_storage().read_bytes(export_row.storage_key) == data
    import_row = list_bundles(session, owner=bob)[0]
    assert import_row.kind == "import" and import_row.report["imported"] == 4
    assert import_row.filename == "b.zip"


def test_importing_again_skips_duplicates(session: Session) -> None:
    ada = make_user(session, "ada@example.com")
    add_prompt(session, ada, "One", image=jpeg_bytes())
    add_prompt(session, ada, "Two")
    data = export_bytes(session, ada)
    report = do_import(session, ada, data)  # into the same library: everything is there
    assert report.ok and report.imported == 0 and report.skipped_duplicates == 2
    assert report.images_added == 0
    assert {d.title for d in report.duplicates} == {"One", "Two"}
    assert all(d.existing_prompt_id for d in report.duplicates)
    assert count(session, Prompt, owner_id=ada.id) == 2
    assert report.message == "Imported 0 prompts, skipped 2 duplicates."


def test_a_duplicate_inside_one_bundle_is_imported_once(session: Session) -> None:
    bob = make_user(session, "bob@example.com")
    image = jpeg_bytes()
    same = prompt_data("Twice")
    data = hand_made_bundle([("A", same, image), ("B", same, image), ("C", same, None)])
    report = do_import(session, bob, data)
    assert (report.imported, report.skipped_duplicates) == (2, 1)
    assert [d.index for d in report.duplicates] == [2]


def test_export_by_tag_and_by_ids(session: Session) -> None:
    ada = make_user(session, "ada@example.com")
    bob = make_user(session, "bob@example.com")
    sea = add_prompt(session, ada, "Sea", tags=["sea"])
    add_prompt(session, ada, "Land", tags=["land"])
    public = add_prompt(session, bob, "Bob public", visibility="public")
    private = add_prompt(session, bob, "Bob private")

    def titles(data: bytes) -> list[str]:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [i["title"] for i in json.loads(zf.read("manifest.json"))["items"]]

    assert titles(export_bytes(session, ada, tag="SEA ")) == ["Sea"]
    assert titles(export_bytes(session, ada, prompt_ids=[public.id, sea.id])) == [
        "Bob public",
        "Sea",
    ]
    with pytest.raises(NotFoundError, match=str(private.id)):
        export_bytes(session, ada, prompt_ids=[sea.id, private.id])
    with pytest.raises(NotFoundError, match='tag "nothing"'):
        export_bytes(session, ada, tag="nothing")


def test_export_without_its_image_object_still_exports_the_prompt(session: Session) -> None:
    ada = make_user(session, "ada@example.com")
    prompt = add_prompt(session, ada, "Lost image", image=jpeg_bytes())
    asset = session.get(Asset, prompt.asset_id)
    assert asset is not None
    get_storage().delete(asset.storage_key)
    out = io.BytesIO()
    result = export_bundle(session, storage=get_storage(), owner=ada, out=out)
    assert result.item_count == 1 and result.missing_images == 1 and result.image_count == 0
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("prompts/1.json"))["image"] is None


# --- all or nothing ------------------------------------------------------------------------


def test_one_bad_item_rejects_the_bundle_and_names_the_item(
    session: Session, isolated_settings: Settings
) -> None:
    bob = make_user(session, "bob@example.com")
    before = stored_files(isolated_settings)
    bad = prompt_data("")  # the scene must not be empty
    bad["color_palette"] = [{"hex": "orange"}]
    data = hand_made_bundle(
        [
            ("Good", prompt_data("Fine"), jpeg_bytes()),
            ("Broken", bad, None),
            ("Also good", prompt_data("Fine too"), None),
        ]
    )
    with pytest.raises(BundleRejectedError) as caught:
        do_import(session, bob, data)
    report = caught.value.report
    assert not report.ok and report.imported == 0
    assert [(e.index, e.title) for e in report.errors] == [(2, "Broken")]
    message = report.errors[0].message
    assert "version 1 does not match the prompt schema" in message
    assert "scene: Scene must not be empty." in message
    assert "color_palette[0].hex" in message
    assert "item 2 ('Broken')" in caught.value.message
    assert count(session, Prompt) == 0 and count(session, Asset) == 0
    assert count(session, Bundle) == 0
    assert stored_files(isolated_settings) == before  # not even the good item's image


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r.update(title="  "), "it has no title."),
        (lambda r: r.update(title="x" * 201), "title is longer than 200"),
        (lambda r: r.update(tags="sea"), "tags must be a list"),
        (lambda r: r.update(tags=["x" * 65]), "longer than 64 characters"),
        (lambda r: r.update(visibility="everyone"), 'visibility must be "private" or "public"'),
        (lambda r: r.update(versions=[]), "it has no versions."),
        (lambda r: r.update(image="../../etc/passwd"), "image must be a file name like"),
        (lambda r: r.update(image="images/" + "0" * 64 + ".png"), "is missing from the bundle"),
    ],
)
def test_item_field_checks(session: Session, mutate: Any, expected: str) -> None:
    bob = make_user(session, "bob@example.com")
    record = json.loads(prompt_file("Item", prompt_data("Fine")))
    mutate(record)
    data = zip_of(
        {
            "manifest.json": manifest([{"path": "prompts/1.json", "title": "Item"}]),
            "prompts/1.json": json.dumps(record),
        }
    )
    with pytest.raises(BundleRejectedError) as caught:
        do_import(session, bob, data)
    errors = caught.value.report.errors
    assert errors[0].index == 1 and expected in errors[0].message, errors


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "is not usable"),
        (jpeg_bytes()[:300], "is not usable"),
        (png_bomb(), "megapixels"),
    ],
)
def test_images_are_checked_like_uploads(session: Session, image: bytes, expected: str) -> None:
    bob = make_user(session, "bob@example.com")
    data = hand_made_bundle([("Pic", prompt_data("Fine"), image)])
    with pytest.raises(BundleRejectedError) as caught:
        do_import(session, bob, data)
    assert expected in caught.value.report.errors[0].message
    assert count(session, Asset) == 0


def test_an_image_whose_bytes_do_not_match_its_name_is_refused(session: Session) -> None:
    bob = make_user(session, "bob@example.com")
    name = f"images/{hashlib.sha256(b'other').hexdigest()}.jpg"
    data = zip_of(
        {
            "manifest.json": manifest([{"path": "prompts/1.json", "title": "Pic"}]),
            "prompts/1.json": prompt_file("Pic", prompt_data("Fine"), name),
            name: jpeg_bytes(),
        }
    )
    with pytest.raises(BundleRejectedError) as caught:
        do_import(session, bob, data)
    assert "does not match its checksum" in caught.value.report.errors[0].message


def test_a_database_failure_removes_the_images_the_import_wrote(
    session: Session, isolated_settings: Settings
) -> None:
    make_user(session, "bob@example.com")
    before = stored_files(isolated_settings)
    # An owner row that does not exist: images are written, then the first flush of a row that
    # points at the owner fails its foreign key, as a real mid-import database failure would.
    ghost = User(id=9999, email="ghost@example.com")
    data = hand_made_bundle([("Pic", prompt_data("Fine"), jpeg_bytes())])
    with pytest.raises(Exception, match="FOREIGN KEY"):
        do_import(session, ghost, data)
    assert stored_files(isolated_settings) == before
    assert count(session, Prompt) == 0 and count(session, Asset) == 0


def test_cleanup_keeps_files_another_owner_still_uses(
    session: Session, isolated_settings: Settings
) -> None:
    ada = make_user(session, "ada@example.com")
    image = jpeg_bytes()
    add_prompt(session, ada, "Shared image", image=image)
    before = stored_files(isolated_settings)
    ghost = User(id=9999, email="ghost@example.com")
    with pytest.raises(Exception, match="FOREIGN KEY"):
        do_import(session, ghost, hand_made_bundle([("Pic", prompt_data("Other"), image)]))
    assert stored_files(isolated_settings) == before  # ada's original and thumbnail remain
    storage: Storage = get_storage()
    asset = session.exec(select(Asset)).one()
    assert storage.exists(asset.storage_key)


# --- hostile and broken files --------------------------------------------------------------


def refused(session: Session, data: bytes, match: str) -> None:
    bob = session.exec(select(User).where(User.email == "bob@example.com")).first() or make_user(
        session, "bob@example.com"
    )
    with pytest.raises(InvalidInputError, match=match) as caught:
        do_import(session, bob, data)
    assert not isinstance(caught.value, BundleRejectedError)
    assert count(session, Prompt) == 0


def valid_files() -> dict[str, bytes | str]:
    return {
        "manifest.json": manifest([{"path": "prompts/1.json", "title": "A"}]),
        "prompts/1.json": prompt_file("A", prompt_data("Fine")),
    }


@pytest.mark.parametrize(
    "name",
    ["../evil.json", "prompts/../../evil.json", "/etc/passwd", "C:/evil.json", "prompts\\x.json"],
)
def test_unsafe_paths_are_refused(session: Session, name: str) -> None:
    files = valid_files()
    files[name] = "{}"
    refused(session, zip_of(files), "unsafe file path")


def test_symlinks_are_refused(session: Session) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in valid_files().items():
            zf.writestr(name, content)
        link = zipfile.ZipInfo("images/link.png")
        link.create_system = 3
        link.external_attr = (0o120777 << 16) | 0x20
        zf.writestr(link, "/etc/passwd")
    refused(session, buf.getvalue(), "symbolic link")


def deflate_bomb(name: str, size: int) -> bytes:
    """A real zip entry of `size` zero bytes, built in well under a second and a few MB of RAM.

    An 8 MB run of zeros is deflated once and closed with a full flush, which makes its
    compressed block independent of what came before; the block is then repeated, so the
    archive really does inflate to `size` bytes (with a matching CRC).
    """
    chunk = bytes(8 * 1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeats = size // len(chunk)
    body = block * repeats + b"\x03\x00"  # an empty final block ends the stream
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    raw = name.encode()
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body), size, len(raw), 0
    )
    central = struct.pack(
        "<4s6H3L5H2L",
        *(b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(body), size, len(raw)),
        *(0, 0, 0, 0, 0, 0),
    )
    offset = len(local) + len(raw) + len(body)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(raw), offset, 0)
    return local + raw + body + central + raw + end


def test_the_bomb_helper_builds_a_real_bomb() -> None:
    with zipfile.ZipFile(io.BytesIO(deflate_bomb("x", 64 * 1024 * 1024))) as zf:
        info = zf.getinfo("x")
        assert info.file_size == 64 * 1024 * 1024 and info.compress_size < 100_000
        with zf.open("x") as f:
            total = sum(len(c) for c in iter(lambda: f.read(8 * 1024 * 1024), b""))
        assert total == info.file_size  # and the CRC matched, or zipfile would have raised


def test_a_one_gigabyte_zip_bomb_is_refused_fast(session: Session) -> None:
    bomb = deflate_bomb("images/" + "a" * 64 + ".png", 1024**3)
    assert len(bomb) < 2_000_000
    # Refused from the zip directory alone: no byte is inflated (timing is left to benchmarks).
    refused(session, bomb, "1 GB unpacked")


def test_a_highly_compressed_large_entry_is_refused(session: Session) -> None:
    refused(session, deflate_bomb("images/" + "b" * 64 + ".png", 64 * 1024**2), "zip bombs")


def test_archive_wide_limits(isolated_settings: Settings) -> None:
    def info(name: str, size: int, packed: int) -> zipfile.ZipInfo:
        item = zipfile.ZipInfo(name)
        item.file_size, item.compress_size = size, packed
        return item

    many = [info(f"x/{n}", 1, 1) for n in range(MAX_ENTRIES + 1)]
    with pytest.raises(InvalidInputError, match="50,001 files; the limit is 50,000"):
        check_directory(many, settings=isolated_settings)
    big = [info(f"images/{n}.png", 400 * 1024**2, 400 * 1024**2) for n in range(6)]
    with pytest.raises(InvalidInputError, match="more than 2 GB"):
        check_directory(big, settings=isolated_settings)
    twice = [info("prompts/1.json", 10, 10), info("prompts/1.json", 10, 10)]
    with pytest.raises(InvalidInputError, match="twice"):
        check_directory(twice, settings=isolated_settings)


def test_not_a_zip_and_a_truncated_zip(session: Session) -> None:
    refused(session, b"just some text, not a zip", "not a zip archive")
    refused(session, b"", "not a zip archive")
    whole = zip_of(valid_files())
    refused(session, whole[: len(whole) // 2], "not a zip archive")


def test_manifest_problems(session: Session) -> None:
    files = valid_files()
    del files["manifest.json"]
    refused(session, zip_of(files), "no manifest.json")
    refused(session, zip_of({**files, "manifest.json": "{nope"}), "not valid JSON")
    refused(
        session,
        zip_of({**files, "manifest.json": json.dumps({"format": "other", "version": 1})}),
        'must be "jsoncraft-bundle"',
    )
    refused(session, zip_of({**files, "manifest.json": manifest([], version=2)}), "version 2")
    refused(session, zip_of({**files, "manifest.json": manifest([], version="1")}), "unknown")
    refused(
        session,
        zip_of(
            {**files, "manifest.json": json.dumps({"format": "jsoncraft-bundle", "version": 1})}
        ),
        '"items"',
    )


def test_a_non_seekable_source_is_spooled(session: Session) -> None:
    ada = make_user(session, "ada@example.com")
    add_prompt(session, ada, "One")
    data = export_bytes(session, ada)
    bob = make_user(session, "bob@example.com")

    class Pipe(io.RawIOBase):
        def __init__(self, payload: bytes) -> None:
            self.inner = io.BytesIO(payload)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: Any) -> int:
            chunk = self.inner.read(min(len(buffer), 1000))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    report = import_bundle(session, storage=get_storage(), owner=bob, source=Pipe(data))  # type: ignore[arg-type]
    assert report.imported == 1


# --- command line --------------------------------------------------------------------------


def run_cli(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "STORAGE_"))}
    env.update(
        DATA_DIR=str(settings.data_dir),
        APP_ENV="test",
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
    )
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_export_and_import(
    session: Session, isolated_settings: Settings, tmp_path: Path
) -> None:
    from app.services.demo.seed import ensure_demo_user

    demo = ensure_demo_user(session, email=isolated_settings.demo_user_email)
    session.commit()
    add_prompt(session, demo, "Demo one", image=jpeg_bytes(), tags=["cli"])
    add_prompt(session, demo, "Demo two", tags=["other"])
    make_user(session, "bob@example.com")
    out = tmp_path / "library.zip"

    done = run_cli("export", "--out", str(out), "--tag", "cli", settings=isolated_settings)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Exported 1 prompts and 1 images to")
    assert zipfile.is_zipfile(out)

    done = run_cli("import", str(out), "--owner", "bob@example.com", settings=isolated_settings)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported 1, skipped 0 duplicates (1 new images)."
    done = run_cli("import", str(out), "--owner", "bob@example.com", settings=isolated_settings)
    assert done.stdout.strip() == "Imported 0, skipped 1 duplicates (0 new images)."
    done = run_cli("import", str(out), settings=isolated_settings)  # default owner: demo
    assert done.stdout.startswith("Imported 0, skipped 1"), done.stderr


def test_cli_errors_are_one_line_and_exit_non_zero(
    session: Session, isolated_settings: Settings, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    done = run_cli("import", str(junk), settings=isolated_settings)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: This file is not a JSONCraft bundle: it is not a zip archive, or it is damaged."
    ]
    done = run_cli("import", str(tmp_path / "missing.zip"), settings=isolated_settings)
    assert done.returncode == 2 and "no such file" in done.stderr
    out = tmp_path / "none.zip"
    done = run_cli(
        "export", "--out", str(out), "--owner", "nobody@example.com", settings=isolated_settings
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: No account with the email nobody@example.com."
    assert not out.exists() and not (tmp_path / "none.zip.part").exists()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(hand_made_bundle([("Broken", prompt_data(""), None)]))
    done = run_cli("import", str(bad), settings=isolated_settings)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("error: Nothing was imported: 1 of 1 items is invalid.")
    assert lines[1].startswith("  item 1 (Broken): version 1 does not match")


def test_two_items_pointing_at_one_file_and_absurd_nesting_are_item_errors(
    session: Session,
) -> None:
    bob = make_user(session, "bob@example.com")
    deep = "[" * 100_000 + "]" * 100_000
    data = zip_of(
        {
            "manifest.json": manifest(
                [
                    {"path": "prompts/1.json", "title": "A"},
                    {"path": "prompts/1.json", "title": "A again"},
                    {"path": "prompts/2.json", "title": "Deep"},
                ]
            ),
            "prompts/1.json": prompt_file("A", prompt_data("Fine")),
            "prompts/2.json": deep,
        }
    )
    with pytest.raises(BundleRejectedError) as caught:
        do_import(session, bob, data)
    assert [(e.index, e.message) for e in caught.value.report.errors] == [
        (2, "its file prompts/1.json is already used by item 1."),
        (3, "prompts/2.json is not valid JSON."),
    ]
