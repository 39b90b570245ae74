"""Import and export of prompt bundles: a whole library (or a tag of it) in one zip file.

Bundle format, version 1
========================

A bundle is a zip archive holding three kinds of file::

    manifest.json                 what the bundle is and what it holds
    prompts/<n>.json              one prompt with its full version history, n = 1, 2, 3…
    images/<sha256>.<ext>         the source images, named by the SHA-256 of their bytes

`manifest.json`::

    {
      "format": "jsoncraft-bundle",        always this string
      "version": 1,                        the bundle format version (this document)
      "created_at": "2025-01-31T12:00:00+00:00",
      "generator": "JSONCraft 0.1.0",      informative
      "prompt_schema": "1.0",              the prompt schema version of the data inside
      "items": [
        {"path": "prompts/1.json", "title": "Lighthouse at dusk",
         "image": "images/9f86d0….png"},   image is null when the prompt has none
        …
      ]
    }

`prompts/<n>.json`::

    {
      "title": "Lighthouse at dusk",
      "tags": ["sea", "dusk"],
      "visibility": "private",             "private" or "public"
      "model": "local/demo",               optional: what made the first version
      "style": "photograph",               optional
      "versions": [                        oldest first; at least one
        {"number": 1, "data": {…a JSON prompt…}, "message": "Created",
         "created_at": "2025-01-30T09:00:00+00:00"},
        …
      ],
      "image": "images/9f86d0….png"        or null
    }

Each version's `data` must validate against the prompt schema (`jsoncraft-prompt.schema.json`).
An image file's name is the SHA-256 of its bytes, so an image shared by several prompts is
stored once, and a damaged image is caught by its checksum.

Reading rules (`import_bundle`)
-------------------------------
* Nothing is extracted before the archive's directory has been checked: paths with `..`,
  absolute paths, drive letters, backslashes, symbolic links, encrypted entries and duplicate
  names are refused; so are archives over `MAX_ENTRIES` files or `MAX_TOTAL_BYTES` unpacked,
  entries over their size cap, and large entries compressed more than `MAX_RATIO`:1 (zip bombs).
* Every item is validated before anything is written (titles, tags, visibility, every version
  against the schema, each image's checksum and that it decodes as a JPEG, PNG, WebP or GIF
  within the pixel limit). Any invalid item rejects the whole bundle, with a message per item.
* A prompt whose image and latest data match a prompt the owner already has is skipped as a
  duplicate; images are stored once per content hash.
* Import is all-or-nothing: one database transaction, and if it fails, the image files it wrote
  are removed again (unless another image record still points at them).
* Version numbers are renumbered 1…n in the order given; their messages and dates are kept.

Files other than these three kinds are ignored. Readers must refuse a `version` they do not know.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.services.core.errors import (
    ImageTooLargeError,
    InvalidImageError,
    InvalidInputError,
    NotFoundError,
)
from app.services.core.models import (
    Asset,
    Bundle,
    Prompt,
    PromptTag,
    PromptVersion,
    Tag,
    User,
    utcnow,
)
from app.services.core.storage import CHUNK_SIZE, Storage, content_key
from app.services.images.intake import ACCEPTED_FORMATS, ingest_image, make_thumbnail
from app.services.library.access import can_view
from app.services.library.prompts import SCHEMA_VERSION, validate_prompt
from app.services.library.writes import add_version, create_prompt
from app.settings import APP_VERSION, Settings, get_settings

log = logging.getLogger(__name__)

FORMAT_NAME = "jsoncraft-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_ENTRIES = 50_000
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_JSON_BYTES = 16 * 1024**2  # one prompt file with a long history is a few hundred kB
MAX_MANIFEST_BYTES = 64 * 1024**2
MAX_RATIO = 100
# Small files compress far better than 100:1 only when they are tiny; checking the ratio from
# this size on catches real bombs without refusing a short, repetitive JSON file.
RATIO_CHECK_FROM = 4 * 1024**2
MAX_TITLE_LENGTH = 200
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
VISIBILITIES = ("private", "public")
# A rejected 10,000-item bundle should produce a readable report, not a 10,000-line one.
MAX_REPORTED_ERRORS = 200
_FIELD_ERRORS_PER_VERSION = 5
_IMAGE_NAME = re.compile(r"images/([0-9a-f]{64})\.([a-z0-9]{1,10})")
_PROMPT_NAME = re.compile(r"prompts/[^/]{1,200}\.json")
# SQLite allows 32,766 bound parameters; stay well under it (and under other databases' limits).
_ID_CHUNK = 500
_EXPORT_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
}


class BundleRejectedError(InvalidInputError):
    """The bundle was readable but some items are invalid; `report` names each one."""

    def __init__(self, message: str, *, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ExportResult:
    bundle_id: int
    filename: str
    storage_key: str | None
    item_count: int
    image_count: int
    missing_images: int
    size_bytes: int


@dataclass(frozen=True)
class ItemError:
    index: int  # 1-based, as in prompts/<n>.json and in the message shown to people
    title: str
    message: str


@dataclass(frozen=True)
class ItemRef:
    index: int
    title: str
    existing_prompt_id: int | None = None


@dataclass
class ImportReport:
    ok: bool
    filename: str
    item_count: int
    message: str = ""
    imported: int = 0
    skipped_duplicates: int = 0
    images_added: int = 0
    images_reused: int = 0
    bundle_id: int | None = None
    prompt_ids: list[int] = field(default_factory=list)
    duplicates: list[ItemRef] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    errors_omitted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BundleInfo:
    id: int
    kind: str
    status: str
    filename: str
    item_count: int
    storage_key: str | None
    created_at: datetime
    report: dict[str, Any]


# -- export ---------------------------------------------------------------------------------


def export_bundle(
    session: Session,
    *,
    storage: Storage,
    owner: User,
    out: BinaryIO,
    prompt_ids: list[int] | None = None,
    tag: str | None = None,
    keep_copy: bool = True,
) -> ExportResult:
    """Write a bundle of `owner`'s prompts (or the given ids, or those with `tag`) to `out`.

    `prompt_ids` may name any prompt the owner may view (`prompt_access.can_view`: their own,
    public ones, everything for admins); trashed prompts and anything else are refused as not
    found. Without ids, all of the owner's own prompts are exported (with `tag`:
    those carrying it). Images are streamed from storage into the zip chunk by chunk. With
    `keep_copy`, the zip is also stored under `bundles/` so it can be downloaded again. A
    `Bundle` row is flushed; the caller commits.
    """
    assert owner.id is not None
    prompts = _prompts_to_export(session, owner=owner, prompt_ids=prompt_ids, tag=tag)
    ids = [p.id for p in prompts if p.id is not None]
    versions = _versions_by_prompt(session, ids)
    tags = _tags_by_prompt(session, ids)
    assets = _assets_by_id(session, [p.asset_id for p in prompts if p.asset_id is not None])

    now = utcnow()
    stamp = now.strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", (tag or "").lower()).strip("-")[:40]
    filename = f"jsoncraft-{slug + '-' if slug else ''}{stamp}.zip"
    written_images: dict[str, str | None] = {}  # asset storage key -> name in zip, None = lost
    items: list[dict[str, Any]] = []

    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for n, prompt in enumerate(prompts, start=1):
                asset = assets.get(prompt.asset_id) if prompt.asset_id is not None else None
                image = _write_image(zf, storage, asset, written_images) if asset else None
                record = {
                    "title": prompt.title,
                    "tags": tags.get(prompt.id or 0, []),
                    "visibility": prompt.visibility,
                    "model": prompt.model,
                    "style": prompt.style,
                    "versions": [
                        {
                            "number": v.number,
                            "data": v.data,
                            "message": v.message,
                            "created_at": _iso(v.created_at),
                        }
                        for v in versions.get(prompt.id or 0, [])
                    ],
                    "image": image,
                }
                path = f"prompts/{n}.json"
                zf.writestr(path, json.dumps(record, ensure_ascii=False, indent=1))
                items.append({"path": path, "title": prompt.title, "image": image})
            manifest = {
                "format": FORMAT_NAME,
                "version": FORMAT_VERSION,
                "created_at": _iso(now),
                "generator": f"JSONCraft {APP_VERSION}",
                "prompt_schema": SCHEMA_VERSION,
                "items": items,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        size = spool.tell()
        key = None
        if keep_copy:
            key = f"bundles/{owner.id}/{stamp}-{secrets.token_hex(4)}.zip"
            spool.seek(0)
            storage.put_stream(key, spool, content_type="application/zip")
        spool.seek(0)
        shutil.copyfileobj(spool, out, CHUNK_SIZE)

    image_count = sum(1 for name in written_images.values() if name)
    missing = sum(1 for name in written_images.values() if name is None)
    row = Bundle(
        owner_id=owner.id,
        kind="export",
        storage_key=key,
        filename=filename,
        item_count=len(items),
        report={
            "tag": tag,
            "images": image_count,
            "missing_images": missing,
            "size_bytes": size,
        },
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return ExportResult(row.id, filename, key, len(items), image_count, missing, size)


def _prompts_to_export(
    session: Session, *, owner: User, prompt_ids: list[int] | None, tag: str | None
) -> list[Prompt]:
    query = select(Prompt).where(col(Prompt.deleted_at).is_(None))
    if prompt_ids is not None:
        wanted = list(dict.fromkeys(prompt_ids))
        found: list[Prompt] = []
        for chunk in _chunks(wanted):
            rows = session.exec(query.where(col(Prompt.id).in_(chunk))).all()
            found.extend(p for p in rows if can_view(owner, p))
        missing = sorted(set(wanted) - {p.id for p in found})
        if missing:
            shown = ", ".join(str(i) for i in missing[:10])
            raise NotFoundError(f"These prompts do not exist or are not yours to export: {shown}.")
        by_id = {p.id: p for p in found}
        prompts = [by_id[i] for i in wanted]
    else:
        prompts = list(
            session.exec(
                query.where(Prompt.owner_id == owner.id).order_by(
                    col(Prompt.created_at), col(Prompt.id)
                )
            ).all()
        )
    if tag is not None:
        name = tag.strip().lower()
        tagged = set(
            session.exec(
                select(PromptTag.prompt_id)
                .join(Tag, col(Tag.id) == col(PromptTag.tag_id))
                .where(Tag.name == name)
            ).all()
        )
        prompts = [p for p in prompts if p.id in tagged]
    if not prompts:
        where = f' with the tag "{tag.strip().lower()}"' if tag is not None else ""
        raise NotFoundError(f"There are no prompts{where} to export.")
    return prompts


def _write_image(
    zf: zipfile.ZipFile, storage: Storage, asset: Asset, written: dict[str, str | None]
) -> str | None:
    if asset.storage_key in written:
        return written[asset.storage_key]
    ext = _EXPORT_EXTENSIONS.get(asset.mime_type) or asset.storage_key.rpartition(".")[2]
    name = f"images/{asset.content_hash}.{ext}"
    info = zipfile.ZipInfo(name, date_time=utcnow().timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED  # JPEG/PNG/WebP are compressed already
    try:
        chunks = storage.open_stream(asset.storage_key)  # raises NotFoundError before any chunk
        with zf.open(info, "w", force_zip64=asset.size_bytes > 2**31 - 1) as dest:
            for chunk in chunks:
                dest.write(chunk)
    except NotFoundError:
        # The prompt is still worth exporting without its picture; say so in the log and result.
        log.warning("bundle export: image %s of asset %s is missing", asset.storage_key, asset.id)
        written[asset.storage_key] = None
        return None
    written[asset.storage_key] = name
    return name


def _versions_by_prompt(session: Session, ids: list[int]) -> dict[int, list[PromptVersion]]:
    out: dict[int, list[PromptVersion]] = {}
    for chunk in _chunks(ids):
        rows = session.exec(
            select(PromptVersion)
            .where(col(PromptVersion.prompt_id).in_(chunk))
            .order_by(col(PromptVersion.prompt_id), col(PromptVersion.number))
        ).all()
        for v in rows:
            out.setdefault(v.prompt_id, []).append(v)
    return out


def _tags_by_prompt(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        rows = session.exec(
            select(PromptTag.prompt_id, Tag.name)
            .join(Tag, col(Tag.id) == col(PromptTag.tag_id))
            .where(col(PromptTag.prompt_id).in_(chunk))
            .order_by(col(Tag.name))
        ).all()
        for pid, name in rows:
            out.setdefault(pid, []).append(name)
    return out


def _assets_by_id(session: Session, ids: list[int]) -> dict[int | None, Asset]:
    out: dict[int | None, Asset] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        for asset in session.exec(select(Asset).where(col(Asset.id).in_(chunk))).all():
            out[asset.id] = asset
    return out


# -- import ---------------------------------------------------------------------------------


@dataclass
class _Item:
    index: int
    title: str
    errors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    visibility: str = "private"
    model: str = ""
    style: str = ""
    versions: list[tuple[dict[str, Any], str, datetime | None]] = field(default_factory=list)
    image: str | None = None  # name inside the zip


def import_bundle(
    session: Session,
    *,
    storage: Storage,
    owner: User,
    source: BinaryIO,
    filename: str = "bundle.zip",
    settings: Settings | None = None,
) -> ImportReport:
    """Validate every item of a bundle, then import all of it or none of it.

    Raises InvalidInputError for a file that is not a readable bundle (not a zip, unsafe
    paths, a zip bomb, no manifest, an unknown format version) and BundleRejectedError, whose
    `report` lists each invalid item, when any item is invalid. On success the session is
    committed (the import is its own transaction, so that a failure can also undo the image
    files it wrote); the report says what was imported and what was skipped as a duplicate.
    """
    settings = settings or get_settings()
    assert owner.id is not None
    with _seekable(source) as seekable, _open_zip(seekable, settings=settings) as zf:
        manifest_items = _read_manifest(zf)
        names = set(zf.namelist())
        items = [_parse_item(zf, names, i, entry) for i, entry in enumerate(manifest_items, 1)]
        _flag_repeated_paths(manifest_items, items)
        _check_images(zf, names, items, settings=settings)
        report = ImportReport(ok=False, filename=filename, item_count=len(items))
        bad = [item for item in items if item.errors]
        if bad:
            errors = [ItemError(i.index, i.title, m) for i in bad for m in i.errors]
            report.errors = errors[:MAX_REPORTED_ERRORS]
            report.errors_omitted = max(0, len(errors) - MAX_REPORTED_ERRORS)
            first = bad[0]
            report.message = (
                f"Nothing was imported: {len(bad)} of {len(items)} items "
                f"{'is' if len(bad) == 1 else 'are'} invalid. First: item {first.index}"
                f"{f' ({first.title!r})' if first.title else ''}: {first.errors[0]}"
            )
            raise BundleRejectedError(report.message, report=report)
        _write(session, storage=storage, owner=owner, zf=zf, items=items, report=report)
    return report


def _write(
    session: Session,
    *,
    storage: Storage,
    owner: User,
    zf: zipfile.ZipFile,
    items: list[_Item],
    report: ImportReport,
) -> None:
    assert owner.id is not None
    written_keys: set[str] = set()
    try:
        known = _existing_hashes(session, owner_id=owner.id)
        to_import: list[_Item] = []
        for item in items:
            digest = _content_hash(_image_hash(item.image), item.versions[-1][0])
            if digest in known:
                report.duplicates.append(ItemRef(item.index, item.title, known[digest]))
                continue
            known[digest] = None  # a second copy inside the same bundle is a duplicate too
            to_import.append(item)
        report.skipped_duplicates = len(report.duplicates)

        asset_ids: dict[str, int | None] = {}
        for name in dict.fromkeys(i.image for i in to_import if i.image):
            asset_ids[name] = _store_image(
                session,
                storage=storage,
                owner=owner,
                zf=zf,
                name=name,
                report=report,
                written_keys=written_keys,
            )

        for item in to_import:
            report.prompt_ids.append(
                _create(session, owner_id=owner.id, item=item, asset_ids=asset_ids)
            )
        report.imported = len(report.prompt_ids)
        report.ok = True
        report.message = (
            f"Imported {report.imported} prompt{'s' if report.imported != 1 else ''}, "
            f"skipped {report.skipped_duplicates} duplicate"
            f"{'s' if report.skipped_duplicates != 1 else ''}."
        )
        row = Bundle(
            owner_id=owner.id,
            kind="import",
            filename=report.filename[:255],
            item_count=report.item_count,
            report=_stored_report(report),
        )
        session.add(row)
        session.flush()
        report.bundle_id = row.id
        session.commit()
    except BaseException:
        session.rollback()
        report.ok, report.prompt_ids, report.bundle_id = False, [], None
        _remove_orphans(session, storage=storage, keys=written_keys)
        raise


def _store_image(
    session: Session,
    *,
    storage: Storage,
    owner: User,
    zf: zipfile.ZipFile,
    name: str,
    report: ImportReport,
    written_keys: set[str],
) -> int | None:
    digest = _image_hash(name)
    existing = session.exec(
        select(Asset).where(Asset.owner_id == owner.id, Asset.content_hash == digest)
    ).first()
    if existing is not None and storage.exists(existing.storage_key):
        report.images_reused += 1
        return existing.id
    # ingest_image writes the files before it flushes the row, so a database failure inside it
    # would leave files we never heard of: note every key it could write before calling it.
    assert digest is not None  # the name was checked against _IMAGE_NAME during validation
    written_keys.add(content_key("thumbnails", digest, "webp"))
    written_keys.update(
        content_key("originals", digest, ext) for _, ext in ACCEPTED_FORMATS.values()
    )
    with zf.open(name) as stream:
        asset = ingest_image(
            session=session,
            storage=storage,
            owner_id=owner.id,
            stream=stream,  # type: ignore[arg-type]
            filename=name.rpartition("/")[2],
        )
    report.images_added += 1
    return asset.id


def _create(
    session: Session, *, owner_id: int, item: _Item, asset_ids: dict[str, int | None]
) -> int:
    first_data, first_message, first_at = item.versions[0]
    prompt = create_prompt(
        session,
        owner_id=owner_id,
        title=item.title,
        data=first_data,
        asset_id=asset_ids.get(item.image) if item.image else None,
        model=item.model,
        style=item.style,
        visibility=item.visibility,
        tags=item.tags,
        message=first_message or "Imported",
    )
    assert prompt.id is not None
    first = session.get(PromptVersion, prompt.current_version_id)
    if first is not None and first_at is not None:
        first.created_at = first_at  # history keeps its original dates
    for data, message, created_at in item.versions[1:]:
        version = add_version(
            session, prompt_id=prompt.id, data=data, author_id=owner_id, message=message
        )
        if created_at is not None:
            version.created_at = created_at
    return prompt.id


def _remove_orphans(session: Session, *, storage: Storage, keys: Iterable[str]) -> None:
    """Delete files this import may have written unless a (committed) image record uses them.

    Keys are content-addressed, so the same file may belong to another owner's image that
    existed before the import; those stay. A file no record points at is an orphan whoever
    wrote it, so deleting it loses nothing. Deleting a key that was never written is a no-op.
    """
    for key in keys:
        try:
            used = session.exec(
                select(Asset.id).where(
                    or_(col(Asset.storage_key) == key, col(Asset.thumbnail_key) == key)
                )
            ).first()
            if used is None:
                storage.delete(key)
        except Exception:  # cleanup must not hide the error that caused it
            log.exception("bundle import: could not remove %s after a failed import", key)


def _existing_hashes(session: Session, *, owner_id: int) -> dict[str, int | None]:
    rows = session.exec(
        select(Prompt.id, PromptVersion.data, Asset.content_hash)
        .join(PromptVersion, col(PromptVersion.id) == col(Prompt.current_version_id))
        .join(Asset, col(Asset.id) == col(Prompt.asset_id), isouter=True)
        .where(Prompt.owner_id == owner_id, col(Prompt.deleted_at).is_(None))
    ).all()
    return {_content_hash(image_hash, dict(data)): pid for pid, data, image_hash in rows}


def _content_hash(image_hash: str | None, data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{image_hash or ''}\n{text}".encode()).hexdigest()


def _image_hash(name: str | None) -> str | None:
    match = _IMAGE_NAME.fullmatch(name) if name else None
    return match.group(1) if match else None


def _stored_report(report: ImportReport) -> dict[str, Any]:
    """What the Bundle row keeps: the counts and the duplicates, not 10,000 prompt ids."""
    return {
        "ok": report.ok,
        "message": report.message,
        "imported": report.imported,
        "skipped_duplicates": report.skipped_duplicates,
        "images_added": report.images_added,
        "images_reused": report.images_reused,
        "duplicates": [asdict(d) for d in report.duplicates[:MAX_REPORTED_ERRORS]],
    }


# -- reading and checking the archive -------------------------------------------------------


class _Seekable:
    """Spool a non-seekable upload to a temporary file (zip needs to seek to its directory)."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.spool: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        if _is_seekable(self.source):
            return self.source
        self.spool = tempfile.TemporaryFile()
        copied = 0
        while chunk := self.source.read(CHUNK_SIZE):
            copied += len(chunk)
            if copied > MAX_TOTAL_BYTES:
                raise InvalidInputError(
                    f"The bundle is larger than {_human(MAX_TOTAL_BYTES)}; split it into smaller "
                    "bundles (export by tag)."
                )
            self.spool.write(chunk)
        self.spool.seek(0)
        return self.spool

    def __exit__(self, *_exc: object) -> None:
        if self.spool is not None:
            self.spool.close()


def _seekable(source: BinaryIO) -> _Seekable:
    return _Seekable(source)


def _is_seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def _open_zip(source: IO[bytes], *, settings: Settings) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise InvalidInputError(
            "This file is not a JSONCraft bundle: it is not a zip archive, or it is damaged."
        ) from e
    try:
        _check_directory(zf.infolist(), settings=settings)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_directory(infos: list[zipfile.ZipInfo], *, settings: Settings) -> None:
    """Refuse unsafe archives from their directory alone, before a byte is decompressed."""
    if len(infos) > MAX_ENTRIES:
        raise InvalidInputError(
            f"The bundle holds {len(infos):,} files; the limit is {MAX_ENTRIES:,}. "
            "Split it into smaller bundles (export by tag)."
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise InvalidInputError(
                f'The bundle contains an unsafe file path ("{_short(name)}"). '
                "Bundles may only hold relative paths without '..' or backslashes; "
                "nothing was imported."
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InvalidInputError(
                f'The bundle contains a symbolic link ("{_short(name)}"). '
                "Bundles may only hold plain files; nothing was imported."
            )
        if info.flag_bits & 0x1:
            raise InvalidInputError(
                "The bundle has password-protected files. Export it again without a password."
            )
        if name in seen:
            raise InvalidInputError(f'The bundle lists the file "{_short(name)}" twice.')
        seen.add(name)
        limit = _entry_limit(name, settings=settings)
        if info.file_size > limit:
            raise InvalidInputError(
                f'The file "{_short(name)}" in the bundle is {_human(info.file_size)} unpacked; '
                f"the limit for it is {_human(limit)}."
            )
        if info.file_size > RATIO_CHECK_FROM and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise InvalidInputError(
                f'The file "{_short(name)}" in the bundle is compressed more than '
                f"{MAX_RATIO}:1, which is how zip bombs look; the bundle was refused."
            )
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise InvalidInputError(
                f"The bundle would unpack to more than {_human(MAX_TOTAL_BYTES)}. "
                "Split it into smaller bundles (export by tag)."
            )


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name:
        return True
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part in ("..", ".") for part in name.split("/"))


def _entry_limit(name: str, *, settings: Settings) -> int:
    if name == MANIFEST:
        return MAX_MANIFEST_BYTES
    if name.startswith("images/"):
        return settings.max_upload_bytes
    if name.endswith(".json"):
        return MAX_JSON_BYTES
    return settings.max_upload_bytes


def _read_json(zf: zipfile.ZipFile, name: str, *, limit: int) -> Any:
    """Parse one JSON entry, reading at most `limit` bytes whatever the header claims."""
    with zf.open(name) as f:
        raw = f.read(limit + 1)
    if len(raw) > limit:
        raise InvalidInputError(f"{name} is larger than {_human(limit)}.")
    return json.loads(raw.decode("utf-8"))


def _read_manifest(zf: zipfile.ZipFile) -> list[Any]:
    if MANIFEST not in zf.namelist():
        raise InvalidInputError(
            "This zip is not a JSONCraft bundle: it has no manifest.json at its top level."
        )
    try:
        manifest = _read_json(zf, MANIFEST, limit=MAX_MANIFEST_BYTES)
    except (
        ValueError,
        RecursionError,  # absurdly deep nesting
        zipfile.BadZipFile,
        NotImplementedError,
        OSError,
        EOFError,
    ) as e:
        raise InvalidInputError("The bundle's manifest.json is damaged or not valid JSON.") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise InvalidInputError(
            f'manifest.json does not describe a JSONCraft bundle (its "format" must be '
            f'"{FORMAT_NAME}").'
        )
    version = manifest.get("version")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > 1:
            raise InvalidInputError(
                f"This bundle uses format version {version}, but this JSONCraft reads version "
                f"{FORMAT_VERSION}. Update JSONCraft, or export the bundle again from a version "
                "that matches."
            )
        raise InvalidInputError(
            f"manifest.json has an unknown format version ({_short(json.dumps(version))}); "
            f"this JSONCraft reads version {FORMAT_VERSION}."
        )
    items = manifest.get("items")
    if not isinstance(items, list):
        raise InvalidInputError('manifest.json has no "items" list.')
    if len(items) > MAX_ENTRIES:
        # Items may point at the same file, so the entry limit alone would not bound the work.
        raise InvalidInputError(
            f"The bundle lists {len(items):,} prompts; the limit is {MAX_ENTRIES:,}. "
            "Split it into smaller bundles (export by tag)."
        )
    return items


def _parse_item(zf: zipfile.ZipFile, names: set[str], index: int, entry: object) -> _Item:
    title = str(entry.get("title", "")) if isinstance(entry, dict) else ""
    item = _Item(index=index, title=title[:MAX_TITLE_LENGTH])
    path = entry.get("path") if isinstance(entry, dict) else None
    if not isinstance(path, str) or not _PROMPT_NAME.fullmatch(path):
        item.errors.append('its manifest entry has no "path" like prompts/1.json.')
        return item
    if path not in names:
        item.errors.append(f"its file {path} is missing from the bundle.")
        return item
    try:
        record = _read_json(zf, path, limit=MAX_JSON_BYTES)
    except InvalidInputError as e:
        item.errors.append(e.message)
        return item
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        item.errors.append(f"{path} is not valid JSON.")
        return item
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError):
        item.errors.append(f"{path} is damaged in the zip file.")
        return item
    if not isinstance(record, dict):
        item.errors.append(f"{path} must hold a group of fields in curly braces.")
        return item
    _check_fields(item, record)
    return item


def _flag_repeated_paths(entries: list[Any], items: list[_Item]) -> None:
    first: dict[str, int] = {}
    for entry, item in zip(entries, items, strict=True):
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str):
            continue
        if path in first:
            item.errors.append(f"its file {path} is already used by item {first[path]}.")
        else:
            first[path] = item.index


def _check_fields(item: _Item, record: dict[str, Any]) -> None:
    errors = item.errors
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append("it has no title.")
    elif len(title.strip()) > MAX_TITLE_LENGTH:
        errors.append(f"its title is longer than {MAX_TITLE_LENGTH} characters.")
    else:
        item.title = title.strip()

    tags = record.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors.append("its tags must be a list of words.")
    elif len(tags) > MAX_TAGS:
        errors.append(f"it has {len(tags)} tags; the limit is {MAX_TAGS}.")
    else:
        long = [t for t in tags if len(t.strip()) > MAX_TAG_LENGTH]
        if long:
            errors.append(
                f'the tag "{_short(long[0])}" is longer than {MAX_TAG_LENGTH} characters.'
            )
        item.tags = [t for t in tags if t.strip()]

    visibility = record.get("visibility", "private")
    if visibility not in VISIBILITIES:
        errors.append(
            f'its visibility must be "private" or "public", not {_short(str(visibility))}.'
        )
    else:
        item.visibility = str(visibility)
    for key in ("model", "style"):
        value = record.get(key, "")
        if not isinstance(value, str) or len(value) > 120:
            errors.append(f"its {key} must be text of at most 120 characters.")
        else:
            setattr(item, key, value)

    image = record.get("image")
    if image is not None and (not isinstance(image, str) or not _IMAGE_NAME.fullmatch(image)):
        errors.append(
            f"its image must be a file name like images/<sha256>.png, not {_short(str(image))}."
        )
    else:
        item.image = image

    versions = record.get("versions")
    if not isinstance(versions, list) or not versions:
        errors.append("it has no versions.")
        return
    for position, version in enumerate(versions, start=1):
        _check_version(item, position, version)


def _check_version(item: _Item, position: int, version: object) -> None:
    if not isinstance(version, dict):
        item.errors.append(f"version {position} is not a group of fields.")
        return
    data = version.get("data")
    field_errors = validate_prompt(data)
    if field_errors:
        shown = "; ".join(
            f"{e.path}: {e.message}" if e.path else e.message
            for e in field_errors[:_FIELD_ERRORS_PER_VERSION]
        )
        more = len(field_errors) - _FIELD_ERRORS_PER_VERSION
        item.errors.append(
            f"version {position} does not match the prompt schema: {shown}"
            + (f" …and {more} more." if more > 0 else "")
        )
        return
    message = version.get("message", "")
    if not isinstance(message, str):
        item.errors.append(f"version {position} has a message that is not text.")
        return
    created_at = _parse_time(version.get("created_at"))
    assert isinstance(data, dict)  # validate_prompt passed, so the schema's "type": "object" held
    item.versions.append((data, message[:500], created_at))


def _check_images(
    zf: zipfile.ZipFile, names: set[str], items: list[_Item], *, settings: Settings
) -> None:
    """Check each referenced image once: present, checksum right, decodes within limits."""
    verdicts: dict[str, str | None] = {}
    for item in items:
        if item.image is None or item.errors:
            continue
        if item.image not in verdicts:
            verdicts[item.image] = _image_problem(zf, names, item.image, settings=settings)
        problem = verdicts[item.image]
        if problem:
            item.errors.append(problem)


def _image_problem(
    zf: zipfile.ZipFile, names: set[str], name: str, *, settings: Settings
) -> str | None:
    if name not in names:
        return f"its image {name} is missing from the bundle."
    expected = _image_hash(name)
    hasher = hashlib.sha256()
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        try:
            with zf.open(name) as f:
                for chunk in _read_chunks(f, limit=settings.max_upload_bytes):
                    hasher.update(chunk)
                    spool.write(chunk)
        except InvalidInputError as e:
            return f"its image {name}: {e.message}"
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError):
            return f"its image {name} is damaged in the zip file."
        if hasher.hexdigest() != expected:
            return f"its image {name} is damaged: its content does not match its checksum name."
        spool.seek(0)
        try:
            # Decoding it fully (into a tiny thumbnail) is the same test an upload gets: real
            # format, pixel limit, not truncated.
            make_thumbnail(spool, size=32, max_pixels=settings.max_image_pixels)  # type: ignore[arg-type]
        except (InvalidImageError, ImageTooLargeError) as e:
            return f"its image {name} is not usable: {e.message}"
    return None


def _read_chunks(f: IO[bytes], *, limit: int) -> Iterator[bytes]:
    read = 0
    while chunk := f.read(CHUNK_SIZE):
        read += len(chunk)
        if read > limit:
            raise InvalidInputError(f"it is larger than the {_human(limit)} image limit.")
        yield chunk


# -- listing --------------------------------------------------------------------------------


def list_bundles(session: Session, *, owner: User, limit: int = 100) -> list[BundleInfo]:
    """The owner's exports and imports, newest first."""
    rows = session.exec(
        select(Bundle)
        .where(Bundle.owner_id == owner.id)
        .order_by(col(Bundle.created_at).desc(), col(Bundle.id).desc())
        .limit(max(1, min(limit, 500)))
    ).all()
    return [
        BundleInfo(
            id=row.id or 0,
            kind=row.kind,
            status=row.status,
            filename=row.filename,
            item_count=row.item_count,
            storage_key=row.storage_key,
            created_at=row.created_at,
            report=dict(row.report),
        )
        for row in rows
    ]


def get_bundle(session: Session, *, owner: User, bundle_id: int) -> Bundle:
    row = session.get(Bundle, bundle_id)
    if row is None or row.owner_id != owner.id:
        raise NotFoundError("That bundle does not exist.")
    return row


# -- small helpers --------------------------------------------------------------------------


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.isoformat()


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None  # a date is history, not content: an unreadable one is simply not kept
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _human(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}".replace(".0 ", " ")
    return f"{size} bytes"


__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_ENTRIES",
    "MAX_TOTAL_BYTES",
    "BundleInfo",
    "BundleRejectedError",
    "ExportResult",
    "ImportReport",
    "ItemError",
    "ItemRef",
    "export_bundle",
    "get_bundle",
    "import_bundle",
    "list_bundles",
]
