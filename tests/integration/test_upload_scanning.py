"""The after-upload jobs against a real clamd (scripts/clamav.sh), a real S3 server and
PostgreSQL: EICAR is quarantined and `upload.infected` sent, clean files are "clean", a scanner
that can't be reached is retried and then "not scanned", a zip bomb is clamd's problem (our
process only streams it), and stale multipart uploads are aborted on S3.

The machine has no signature database (freshclam needs the internet), so the fixture makes one:
the EICAR test file through `sigtool --md5` into a .hdb, which is how ClamAV documents custom
hash signatures.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import uuid
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from app.services.core.models import Upload, utcnow
from app.services.core.storage import S3Storage, get_storage
from app.services.uploads.buckets import storage_for_project
from app.services.uploads.expiry import purge_stale_pending
from app.services.uploads.processing import PROCESS_TASK, enqueue_processing, process_upload
from app.services.uploads.scanner import ClamdScanner, ScannerError
from app.services.webhooks.dispatch import SEND_TASK
from app.settings import Settings, reset_settings
from tests.integration.conftest import S3Server
from tests.utils.job_helpers import Worker, run_queue, run_retries, wait_for, worker_env
from tests.utils.outbox import only_email
from tests.utils.upload_rows import deliveries, make_project, png, stored_upload, subscribe

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# The EICAR anti-virus test file: harmless, and detected by every scanner by design.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Eicar-Test-Signature.UNOFFICIAL"  # clamd marks signatures not from ClamAV's feed


@pytest.fixture(scope="session")
def clamd_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("clamav")
    database = home / "db"
    database.mkdir()
    sample = home / "Eicar-Test-Signature"  # sigtool names the signature after the file
    sample.write_bytes(EICAR)
    script = ROOT / "scripts" / "clamav.sh"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin",
        "CLAMAV_DIR": str(home),
        "CLAMAV_DATABASE_DIR": str(database),
    }
    # Debian's clamav (sigtool) and clamav-daemon (clamd), installed with apt when missing.
    subprocess.run([str(script), "install"], env=env, timeout=600, check=True)
    hashed = subprocess.run(
        ["sigtool", "--md5", str(sample)], env=env, capture_output=True, text=True, check=True
    )
    (database / "test-signatures.hdb").write_text(hashed.stdout)
    started = subprocess.run(
        [str(script), "start"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if started.returncode != 0:
        pytest.fail(f"scripts/clamav.sh start failed:\n{started.stdout}\n{started.stderr}")
    values = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    try:
        yield values["CLAMD_ADDRESS"]
    finally:
        subprocess.run([str(script), "stop"], env=env, timeout=60, check=False)


@pytest.fixture
def clamd(clamd_address: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CLAMD_ADDRESS", clamd_address)
    reset_settings()
    return clamd_address


def _row(session: Session, upload_id: str) -> Upload | None:
    session.expire_all()
    return session.get(Upload, upload_id)


def test_the_client_speaks_instream_to_clamd(clamd: str) -> None:
    scanner = ClamdScanner(clamd, timeout=30)
    scanner.ping()
    infected = scanner.scan(iter([EICAR[:10], EICAR[10:]]))  # split across chunks
    assert (infected.infected, infected.signature) == (True, SIGNATURE)
    clean = scanner.scan(iter([b"hello ", b"world"]))
    assert (clean.infected, clean.signature) == (False, None)


def test_eicar_is_quarantined_and_upload_infected_is_sent(session: Session, clamd: str) -> None:
    del clamd
    project = make_project(session)
    subscribe(session, project)
    storage = storage_for_project(project)
    upload = stored_upload(
        session, project, EICAR, name="invoice.pdf", content_type="application/pdf"
    )
    original_key = upload.storage_key
    enqueue_processing(upload.id)
    # The scan, then the sending of the upload.infected it emitted (queued after its commit).
    assert [t.name for t in run_queue()] == [PROCESS_TASK, SEND_TASK]

    row = _row(session, upload.id)
    assert row is not None
    assert (row.status, row.scan_status, row.scan_detail) == ("quarantined", "infected", SIGNATURE)
    assert row.storage_key == f"quarantine/{project.id}/{upload.id}"
    assert not storage.exists(original_key)  # not served from where it was
    assert storage.read_bytes(row.storage_key) == EICAR
    [event] = deliveries(session, "upload.infected")
    body = json.loads(event.payload)
    assert body["data"]["id"] == upload.id and body["data"]["status"] == "quarantined"
    assert body["data"]["scan_status"] == "infected"
    assert process_upload(upload.id) == "skipped"  # nothing twice
    assert len(deliveries(session, "upload.infected")) == 1
    told = only_email(session, "upload_failed", to="dev@example.com")
    assert (told.context["status"], told.context["filename"]) == ("quarantined", "invoice.pdf")
    assert SIGNATURE in told.context["reason"]


def test_a_clean_png_is_clean_with_a_thumbnail_and_thumbhash(session: Session, clamd: str) -> None:
    del clamd
    project = make_project(session)
    subscribe(session, project)
    upload = stored_upload(session, project, png(), name="cat.png", content_type="image/png")
    assert process_upload(upload.id) == "processed"
    row = _row(session, upload.id)
    assert row is not None
    assert (row.status, row.scan_status, row.scan_detail) == ("ready", "clean", None)
    assert row.thumbnail_key and row.thumbhash and (row.width, row.height) == (320, 200)
    assert storage_for_project(project).exists(row.thumbnail_key)
    assert deliveries(session, "upload.infected") == []


def test_an_unreachable_scanner_is_retried_then_not_scanned(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CLAMD_ADDRESS", f"tcp://127.0.0.1:{port}")
    reset_settings()
    project = make_project(session)
    upload = stored_upload(session, project, b"%PDF-1.7", content_type="application/pdf")
    with pytest.raises(ScannerError):
        process_upload(upload.id, last_try=False)
    enqueue_processing(upload.id)
    run_queue()
    attempts = 1
    while retried := run_retries():
        attempts += len(retried)
        row = _row(session, upload.id)
        assert row is not None
        if row.processed_at is None:
            assert row.scan_status == "pending"  # never "clean" while it waits
    assert attempts == 4  # the first try and three retries
    row = _row(session, upload.id)
    assert row is not None and row.processed_at is not None and row.status == "ready"
    assert row.scan_status == "not_scanned"
    assert row.scan_detail is not None and row.scan_detail.startswith("The virus scanner failed")


def test_a_zip_bomb_is_unpacked_by_clamd_not_by_us(
    session: Session, clamd: str, tmp_path: Path
) -> None:
    """300 MB of zeros in a 1 MB zip, with EICAR hidden after them: our process only streams
    the 1 MB to clamd, and clamd unpacks within its limits and still finds EICAR."""
    del clamd
    bomb = tmp_path / "bomb.zip"
    block = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as inner:
            for _ in range(300):
                inner.write(block)
        archive.writestr("docs/readme.txt", EICAR)
    data = bomb.read_bytes()
    assert len(data) < 2 * 1024 * 1024
    project = make_project(session)
    upload = stored_upload(session, project, data, name="b.zip", content_type="application/zip")
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert process_upload(upload.id) == "quarantined"
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib) / 1024
    assert grown_mib < 100
    row = _row(session, upload.id)
    assert row is not None and (row.status, row.scan_detail) == ("quarantined", SIGNATURE)


def test_a_real_worker_processes_queued_uploads_and_ones_whose_enqueue_was_lost(
    session: Session, clamd: str, isolated_settings: Settings, tmp_path: Path
) -> None:
    project = make_project(session)
    subscribe(session, project)
    queued = stored_upload(session, project, EICAR, name="e.txt", content_type="text/plain")
    enqueue_processing(queued.id)
    # Completed two minutes ago and never queued (the web process died after its commit).
    lost = stored_upload(
        session,
        project,
        png(),
        name="p.png",
        content_type="image/png",
        completed_at=utcnow() - timedelta(minutes=2),
    )
    worker = Worker(worker_env(isolated_settings, CLAMD_ADDRESS=clamd), tmp_path / "worker.log")
    try:

        def both_processed() -> bool:
            rows = [_row(session, queued.id), _row(session, lost.id)]
            return all(row is not None and row.processed_at is not None for row in rows)

        wait_for(both_processed, timeout=60, what="both uploads processed", workers=[worker])
    finally:
        worker.stop()
    infected, clean = _row(session, queued.id), _row(session, lost.id)
    assert infected is not None and (infected.status, infected.scan_status) == (
        "quarantined",
        "infected",
    )
    assert clean is not None and (clean.scan_status, clean.width) == ("clean", 320)
    assert clean.thumbhash and len(deliveries(session, "upload.infected")) == 1


@pytest.fixture
def s3_settings(
    s3_server: S3Server, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[S3Storage]:
    """The app's storage on the real S3 server (fresh bucket) and its database on PostgreSQL."""
    del pg_url
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("S3_BUCKET", f"jsoncraft-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", s3_server.access_key_id)
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    reset_settings()
    storage = get_storage()
    assert isinstance(storage, S3Storage)
    storage.ensure_bucket()
    yield storage
    reset_settings()


def test_on_s3_and_postgres_eicar_moves_to_quarantine(
    pg_session: Session, s3_settings: S3Storage, clamd: str
) -> None:
    del clamd
    project = make_project(pg_session)
    subscribe(pg_session, project)
    upload = stored_upload(pg_session, project, EICAR, name="x.txt", content_type="text/plain")
    original_key = upload.storage_key
    assert process_upload(upload.id) == "quarantined"
    row = _row(pg_session, upload.id)
    assert row is not None and row.scan_detail == SIGNATURE
    assert not s3_settings.exists(original_key)
    assert s3_settings.read_bytes(row.storage_key) == EICAR
    assert len(deliveries(pg_session, "upload.infected")) == 1


def test_a_stale_multipart_upload_is_aborted_on_s3(
    pg_session: Session, s3_settings: S3Storage
) -> None:
    client, bucket = s3_settings.client, s3_settings.bucket
    project = make_project(pg_session)
    upload = stored_upload(
        pg_session,
        project,
        b"",
        name="big.bin",
        status="pending",
        url_expires_at=utcnow() - timedelta(days=2),
    )
    s3_settings.delete(upload.storage_key)  # a multipart upload has no object until completed
    started = client.create_multipart_upload(Bucket=bucket, Key=upload.storage_key)
    client.upload_part(
        Bucket=bucket,
        Key=upload.storage_key,
        UploadId=started["UploadId"],
        PartNumber=1,
        Body=b"x" * (5 * 1024 * 1024),
    )
    upload.multipart_id = started["UploadId"]
    pg_session.add(upload)
    pg_session.commit()
    listed = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in listed] == [started["UploadId"]]
    upload_id = upload.id

    assert purge_stale_pending() == 1
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert _row(pg_session, upload_id) is None
