"""Export: a library (or a tag of it) written as one bundle zip in storage."""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
import tempfile
import zipfile
from typing import Any, BinaryIO

from sqlmodel import Session, col, select

from app.services.core.errors import (
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
from app.services.core.storage import CHUNK_SIZE, Storage
from app.services.library.access import can_view
from app.services.library.bundles.format import (
    EXPORT_EXTENSIONS,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    ExportResult,
    chunks,
    iso,
)
from app.services.library.prompts import SCHEMA_VERSION
from app.settings import APP_VERSION

log = logging.getLogger(__name__)


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
                    "origin": prompt.origin,
                    "versions": [
                        {
                            "number": v.number,
                            "data": v.data,
                            "message": v.message,
                            "created_at": iso(v.created_at),
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
                "created_at": iso(now),
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
        for chunk in chunks(wanted):
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
    ext = EXPORT_EXTENSIONS.get(asset.mime_type) or asset.storage_key.rpartition(".")[2]
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
    for chunk in chunks(ids):
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
    for chunk in chunks(ids):
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
    for chunk in chunks(list(dict.fromkeys(ids))):
        for asset in session.exec(select(Asset).where(col(Asset.id).in_(chunk))).all():
            out[asset.id] = asset
    return out
