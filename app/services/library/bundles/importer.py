"""Import: a checked bundle written as prompts, versions, tags and images in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, BinaryIO

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.services.core.errors import InvalidImageError, InvalidInputError
from app.services.core.models import (
    Asset,
    Bundle,
    Prompt,
    PromptVersion,
    User,
)
from app.services.core.storage import Storage, content_key
from app.services.generation.metadata import read as read_generation_details
from app.services.images.intake import ACCEPTED_FORMATS, ingest_image
from app.services.library.bundles.archive import (
    ParsedItem,
    as_seekable,
    check_images,
    flag_repeated_paths,
    open_zip,
    parse_item,
    read_manifest,
)
from app.services.library.bundles.format import (
    MAX_REPORTED_ERRORS,
    BundleRejectedError,
    ImportReport,
    ItemError,
    ItemRef,
    hash_in_name,
)
from app.services.library.writes import add_version, create_prompt
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)


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
    with as_seekable(source) as seekable, open_zip(seekable, settings=settings) as zf:
        manifest_items = read_manifest(zf)
        names = set(zf.namelist())
        items = [parse_item(zf, names, i, entry) for i, entry in enumerate(manifest_items, 1)]
        flag_repeated_paths(manifest_items, items)
        check_images(zf, names, items, settings=settings)
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
    items: list[ParsedItem],
    report: ImportReport,
) -> None:
    assert owner.id is not None
    written_keys: set[str] = set()
    try:
        known = _existing_hashes(session, owner_id=owner.id)
        to_import: list[ParsedItem] = []
        for item in items:
            digest = content_hash(hash_in_name(item.image), item.versions[-1][0])
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
            if item.origin is None:
                item.origin = _origin_of_image(zf, item.image)
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
    digest = hash_in_name(name)
    existing = session.exec(
        select(Asset).where(Asset.owner_id == owner.id, Asset.content_hash == digest)
    ).first()
    if existing is not None and storage.exists(existing.storage_key):
        report.images_reused += 1
        return existing.id
    # ingest_image writes the files before it flushes the row, so a database failure inside it
    # would leave files we never heard of: note every key it could write before calling it.
    assert digest is not None  # the name was checked against IMAGE_NAME during validation
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


def _origin_of_image(zf: zipfile.ZipFile, name: str | None) -> str:
    """A bundle that doesn't say (an older one): an image carrying JSONCraft's generation
    details was generated. The image was checked already; details that can't be trusted
    count as none."""
    if name is None:
        return "analyzed"
    try:
        found = read_generation_details(zf.read(name))
    except (InvalidInputError, InvalidImageError):
        return "analyzed"
    return "generated" if found is not None else "analyzed"


def _create(
    session: Session, *, owner_id: int, item: ParsedItem, asset_ids: dict[str, int | None]
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
        origin=item.origin or "analyzed",
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
    return {content_hash(image_hash, dict(data)): pid for pid, data, image_hash in rows}


def content_hash(image_hash: str | None, data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{image_hash or ''}\n{text}".encode()).hexdigest()


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
