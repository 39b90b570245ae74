"""After-upload jobs without a scanner: thumbnails and ThumbHash, "not scanned", idempotence,
the sweep for lost enqueues, expiry and abandoned pending uploads (local storage, SQLite)."""

from __future__ import annotations

import base64
import io
import json
import resource
from datetime import timedelta

import pytest
from fast_thumbhash import thumb_hash_to_average_rgba
from PIL import Image
from sqlmodel import Session

from app.services.core.models import Project, Upload, utcnow
from app.services.core.queue import get_huey
from app.services.uploads.buckets import storage_for_project
from app.services.uploads.expiry import expiry_for, purge_expired_uploads, purge_stale_pending
from app.services.uploads.previews import placeholder_data_url
from app.services.uploads.processing import (
    NO_SCANNER,
    PROCESS_TASK,
    enqueue_processing,
    process_upload,
    queue_unprocessed,
)
from app.services.worker.maintenance import recover_stale_jobs, run_maintenance
from app.settings import reset_settings
from tests.utils.job_helpers import run_queue
from tests.utils.upload_rows import (
    deliveries,
    make_project,
    png,
    png_bomb,
    stored_upload,
    subscribe,
)


def _row(session: Session, upload_id: str) -> Upload | None:
    session.expire_all()
    return session.get(Upload, upload_id)


def test_a_png_gets_a_webp_thumbnail_its_size_and_a_thumbhash(session: Session) -> None:
    project = make_project(session)
    upload = stored_upload(
        session, project, png((320, 200)), name="a.png", content_type="image/png"
    )
    enqueue_processing(upload.id)
    assert [t.name for t in run_queue()] == [PROCESS_TASK]
    row = _row(session, upload.id)
    assert row is not None and row.processed_at is not None
    assert row.scan_status == "not_scanned" and row.scan_detail == NO_SCANNER
    assert (row.width, row.height) == (320, 200)
    assert row.thumbnail_key == f"uploads/{project.id}/{upload.id}/{upload.id}.thumb.webp"
    thumb = Image.open(io.BytesIO(storage_for_project(project).read_bytes(row.thumbnail_key)))
    assert thumb.format == "WEBP" and max(thumb.size) <= 512
    assert row.thumbhash is not None
    # The placeholder's average colour is the image's: a mix of its blue and yellow.
    r, g, b, _a = thumb_hash_to_average_rgba(base64.b64decode(row.thumbhash))
    assert 0.2 < r < 0.6 and 0.5 < g < 0.8 and 0.4 < b < 0.9
    # Pages show it as a tiny PNG while the thumbnail loads; its shape is the image's.
    url = placeholder_data_url(row.thumbhash)
    assert url is not None and url.startswith("data:image/png;base64,")
    placeholder = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert placeholder.format == "PNG" and 1.4 < placeholder.width / placeholder.height < 1.8
    for garbage in ("", "not base64!", "AAAA"):
        assert placeholder_data_url(garbage) is None


def test_without_a_scanner_an_upload_is_not_scanned_never_clean(session: Session) -> None:
    project = make_project(session)
    upload = stored_upload(session, project, b"%PDF-1.7 hello", content_type="application/pdf")
    assert process_upload(upload.id) == "processed"
    row = _row(session, upload.id)
    assert row is not None
    assert (row.status, row.scan_status, row.scan_detail) == ("ready", "not_scanned", NO_SCANNER)
    # Not an image: no thumbnail, size or placeholder.
    assert (row.thumbnail_key, row.width, row.height, row.thumbhash) == (None, None, None, None)


def test_a_misconfigured_scanner_address_is_said_so_not_retried_forever(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAMD_ADDRESS", "http://127.0.0.1:3310")
    reset_settings()
    project = make_project(session)
    upload = stored_upload(session, project, b"%PDF-1.7", content_type="application/pdf")
    assert process_upload(upload.id, last_try=False) == "processed"
    row = _row(session, upload.id)
    assert row is not None and row.scan_status == "not_scanned"
    assert row.scan_detail is not None
    assert row.scan_detail.startswith("The virus scanner is misconfigured: CLAMD_ADDRESS must be")


def test_a_second_run_changes_nothing(session: Session) -> None:
    project = make_project(session)
    upload = stored_upload(session, project, png(), name="a.png", content_type="image/png")
    assert process_upload(upload.id) == "processed"
    first = _row(session, upload.id)
    assert first is not None
    before = first.model_dump()
    assert process_upload(upload.id) == "skipped"
    again = _row(session, upload.id)
    assert again is not None and again.model_dump() == before


def test_an_upload_deleted_meanwhile_or_not_ready_is_left_alone(session: Session) -> None:
    project = make_project(session)
    gone = stored_upload(session, project, png(), name="a.png", content_type="image/png")
    session.delete(gone)
    session.commit()
    assert process_upload(gone.id) == "gone"
    assert process_upload("up_never_existed") == "gone"
    rejected = stored_upload(session, project, b"x", status="rejected")
    assert process_upload(rejected.id) == "skipped"
    row = _row(session, rejected.id)
    assert row is not None and row.processed_at is None and row.scan_status == "pending"


def test_an_object_missing_from_storage_is_recorded_not_scanned(session: Session) -> None:
    project = make_project(session)
    upload = stored_upload(session, project, png(), name="a.png", content_type="image/png")
    storage_for_project(project).delete(upload.storage_key)
    assert process_upload(upload.id) == "processed"
    row = _row(session, upload.id)
    assert row is not None and row.scan_status == "not_scanned"
    assert row.scan_detail == "The file was missing from storage."


def test_a_pixel_bomb_gets_no_thumbnail_and_is_never_decoded(session: Session) -> None:
    project = make_project(session)
    bomb = png_bomb()  # 1.6 gigapixels: decoding it would take 1.6 GB
    upload = stored_upload(session, project, bomb, name="bomb.png", content_type="image/png")
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert process_upload(upload.id) == "processed"
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib) / 1024
    assert grown_mib < 200
    row = _row(session, upload.id)
    assert row is not None and row.status == "ready" and row.processed_at is not None
    assert (row.thumbnail_key, row.thumbhash, row.width) == (None, None, None)


def test_a_file_claiming_to_be_an_image_that_is_not_gets_no_thumbnail(session: Session) -> None:
    project = make_project(session)
    upload = stored_upload(
        session, project, b"<svg onload=alert(1)>", name="x.png", content_type="image/png"
    )
    assert process_upload(upload.id) == "processed"
    row = _row(session, upload.id)
    assert row is not None and row.thumbnail_key is None and row.scan_status == "not_scanned"


def test_the_sweep_queues_ready_uploads_left_unprocessed_for_a_minute(session: Session) -> None:
    project = make_project(session)
    old = utcnow() - timedelta(minutes=5)
    lost = stored_upload(session, project, png(), name="a.png", content_type="image/png",
                         completed_at=old)  # fmt: skip
    fresh = stored_upload(session, project, b"fresh")  # its own enqueue may still be on the way
    pending = stored_upload(session, project, b"p", status="pending", created_at=old)
    done = stored_upload(session, project, b"d", completed_at=old, processed_at=old)
    assert queue_unprocessed() == [lost.id]
    assert queue_unprocessed() == []  # already waiting in the queue: not queued twice
    assert [t.args for t in get_huey().pending()] == [(lost.id,)]
    run_queue()
    row = _row(session, lost.id)
    assert row is not None and row.processed_at is not None and row.thumbhash
    for untouched in (fresh, pending):
        again = _row(session, untouched.id)
        assert again is not None and again.processed_at is None
    assert _row(session, done.id) is not None
    # The worker's every-minute recovery runs the sweep.
    late = stored_upload(session, project, b"late", completed_at=old)
    recover_stale_jobs()
    assert [t.args for t in get_huey().pending()] == [(late.id,)]


def test_expiry_for_follows_the_project_setting() -> None:
    now = utcnow()
    assert expiry_for(Project(owner_id=1, name="p", expire_after_days=None), now) is None
    assert expiry_for(Project(owner_id=1, name="p", expire_after_days=7), now) == now + timedelta(
        days=7
    )


def test_expired_uploads_go_with_their_thumbnail_and_send_upload_expired(
    session: Session,
) -> None:
    project = make_project(session)
    subscribe(session, project)
    storage = storage_for_project(project)
    expired = stored_upload(session, project, png(), name="a.png", content_type="image/png")
    process_upload(expired.id)
    row = _row(session, expired.id)
    assert row is not None and row.thumbnail_key is not None
    expired_id, expired_key = expired.id, expired.storage_key
    thumbnail_key, thumbhash = row.thumbnail_key, row.thumbhash
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.add(row)
    kept = stored_upload(session, project, b"k", expires_at=utcnow() + timedelta(days=1))
    forever = stored_upload(session, project, b"f")
    session.commit()

    result = run_maintenance()
    assert result["expired_uploads"] == 1
    assert _row(session, expired_id) is None
    assert not storage.exists(expired_key) and not storage.exists(thumbnail_key)
    [event] = deliveries(session, "upload.expired")
    body = json.loads(event.payload)
    assert body["type"] == "upload.expired"
    assert body["data"]["id"] == expired_id and body["data"]["thumbhash"] == thumbhash
    for other in (kept, forever):
        assert _row(session, other.id) is not None and storage.exists(other.storage_key)
    assert purge_expired_uploads() == 0  # nothing twice
    assert len(deliveries(session, "upload.expired")) == 1


def test_pending_uploads_a_day_past_their_urls_are_removed(session: Session) -> None:
    project = make_project(session)
    subscribe(session, project)
    storage = storage_for_project(project)
    now = utcnow()
    stale = stored_upload(session, project, b"half", status="pending",
                          url_expires_at=now - timedelta(days=1, minutes=1))  # fmt: skip
    recent = stored_upload(session, project, b"r", status="pending",
                           url_expires_at=now - timedelta(hours=23))  # fmt: skip
    ready = stored_upload(session, project, b"ok", url_expires_at=now - timedelta(days=3))
    stale_id, stale_key = stale.id, stale.storage_key
    assert purge_stale_pending() == 1
    assert _row(session, stale_id) is None and not storage.exists(stale_key)
    assert _row(session, recent.id) is not None and _row(session, ready.id) is not None
    assert storage.exists(ready.storage_key)
    # Never completed: no event for it.
    assert all(not deliveries(session, kind) for kind in ("upload.expired", "upload.deleted"))


def test_processing_hashes_and_publishes_a_public_file_that_expiry_keeps_while_shared(
    session: Session,
) -> None:
    project = make_project(session)
    project.acl = "public-read"
    session.add(project)
    session.commit()
    data = png((64, 48))
    first = stored_upload(session, project, data, name="a.png", content_type="image/png")
    second = stored_upload(session, project, data, name="b.png", content_type="image/png")
    for upload in (first, second):
        assert process_upload(upload.id) == "processed"
    a, b = _row(session, first.id), _row(session, second.id)
    assert a is not None and b is not None
    assert a.sha256 == b.sha256 and a.sha256 is not None and len(a.sha256) == 64
    assert a.cdn_key == b.cdn_key and a.cdn_key is not None and a.sha256 in a.cdn_key
    storage = storage_for_project(project)
    assert storage.read_bytes(a.cdn_key) == data
    shared = a.cdn_key

    a.expires_at = utcnow() - timedelta(minutes=1)
    session.add(a)
    session.commit()
    assert purge_expired_uploads() == 1
    assert storage.exists(shared)  # the other upload still serves the same bytes from it
    b = _row(session, second.id)
    assert b is not None
    b.expires_at = utcnow() - timedelta(minutes=1)
    session.add(b)
    session.commit()
    assert purge_expired_uploads() == 1
    assert not storage.exists(shared)
