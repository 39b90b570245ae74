"""The Uploads tab's services: the owner's log through the API's listing, delete, the test
uploader's client token, and the ThumbHash placeholder."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from fast_thumbhash import rgba_to_thumb_hash
from PIL import Image
from sqlmodel import Session, select

from app.services.accounts.api_keys import KeyAuth, create_key
from app.services.core.errors import NotFoundError
from app.services.core.models import ApiKey, Upload, WebhookDelivery, WebhookEndpoint, utcnow
from app.services.core.storage import get_storage
from app.services.uploads import dashboard
from app.services.uploads.client_tokens import authenticate_client_token
from app.services.uploads.complete import complete_upload
from app.services.uploads.presign import FileRequest, presign_uploads
from app.services.uploads.previews import placeholder_data_url
from app.services.uploads.records import UploadFilters
from app.state.project_uploads import _filters
from tests.utils.job_helpers import make_user

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _png(color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buffer, "PNG")
    return buffer.getvalue()


def _upload(session: Session, auth: KeyAuth, name: str, data: bytes, kind: str) -> Upload:
    """Through the real presign and complete, with the bytes stored where the PUT would go."""
    (presigned,) = presign_uploads(session, auth, [FileRequest(name, len(data), kind)])
    get_storage().put_bytes(presigned.key, data, content_type=kind)
    upload = complete_upload(session, auth, presigned.id)
    session.commit()
    return upload


@pytest.fixture
def project(session: Session) -> tuple[KeyAuth, int]:
    owner = make_user(session, "dev@example.com")
    new = create_key(session, owner=owner, project_name="Site")
    session.commit()
    auth = KeyAuth(new.project_id, new.key_id, frozenset({"upload", "read", "manage"}))
    return auth, new.project_id


def _owner(session: Session):  # type: ignore[no-untyped-def]
    from app.services.core.models import User

    return session.exec(select(User).where(User.email == "dev@example.com")).one()


def test_the_log_shows_ready_and_rejected_files_newest_first(
    session: Session, project: tuple[KeyAuth, int]
) -> None:
    auth, project_id = project
    _upload(session, auth, "red.png", _png(), "image/png")
    _upload(session, auth, "fake.png", PDF, "image/png")
    page = dashboard.log_page(
        session, owner=_owner(session), project_id=project_id, filters=UploadFilters()
    )
    assert [r.name for r in page.rows] == ["fake.png", "red.png"]
    rejected, ready = page.rows
    assert rejected.status == "rejected" and "application/pdf" in rejected.reason
    assert rejected.download_url == "" and rejected.icon == "file-text"
    assert ready.status == "ready" and ready.reason == ""
    assert ready.size == f"{len(_png())} bytes" and ready.type == "image/png"
    assert "/api/files/" in ready.download_url and "sig=" in ready.download_url
    assert ready.icon == "image" and ready.thumbnail_url == "" and ready.placeholder_url == ""
    # No scanner has run: the log says so, never "Clean".
    assert ready.scan == "Scan pending"
    assert page.next_cursor is None


def test_filters_and_keyset_pages_reuse_the_listing(
    session: Session, project: tuple[KeyAuth, int]
) -> None:
    auth, project_id = project
    for n in range(3):
        _upload(session, auth, f"photo{n}.png", _png((n * 60, 0, 0)), "image/png")
    _upload(session, auth, "doc.png", PDF, "image/png")
    owner = _owner(session)

    def names(raw: dict[str, str], cursor: str | None = None, limit: int = 25):  # type: ignore[no-untyped-def]
        page = dashboard.log_page(
            session,
            owner=owner,
            project_id=project_id,
            filters=_filters(raw),
            cursor=cursor,
            limit=limit,
        )
        return [r.name for r in page.rows], page.next_cursor

    assert names({"status": "rejected"})[0] == ["doc.png"]
    assert names({"status": "ready", "name": "PHOTO1"})[0] == ["photo1.png"]
    assert names({"type": "image/*", "status": "ready"})[0] == [
        "photo2.png",
        "photo1.png",
        "photo0.png",
    ]
    first, cursor = names({"status": "ready"}, limit=2)
    assert first == ["photo2.png", "photo1.png"] and cursor
    assert names({"status": "ready"}, cursor, limit=2) == (["photo0.png"], None)
    today = utcnow().strftime("%Y-%m-%d")
    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d")
    assert len(names({"date_from": today, "date_to": today})[0]) == 4  # the end day counts
    assert names({"date_from": tomorrow})[0] == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"status": "deleted"}, UploadFilters()),  # not a status: no filter, not an error
        ({"type": "image/svg+xml'; --"}, UploadFilters()),  # only the offered types
        ({"date_from": "2026-13-45", "date_to": "yesterday"}, UploadFilters()),
        ({"name": "   "}, UploadFilters()),
        ({"name": "x" * 5000}, UploadFilters(name="x" * 200)),
    ],
)
def test_nasty_filter_input_is_ignored_or_trimmed(
    raw: dict[str, str], expected: UploadFilters
) -> None:
    assert _filters(raw) == expected


def test_percent_and_underscore_in_a_search_are_literal(
    session: Session, project: tuple[KeyAuth, int]
) -> None:
    auth, project_id = project
    _upload(session, auth, "100%_done.png", _png(), "image/png")
    _upload(session, auth, "other.png", _png((1, 2, 3)), "image/png")
    page = dashboard.log_page(
        session, owner=_owner(session), project_id=project_id, filters=_filters({"name": "%_"})
    )
    assert [r.name for r in page.rows] == ["100%_done.png"]


def test_another_account_gets_not_found(session: Session, project: tuple[KeyAuth, int]) -> None:
    auth, project_id = project
    upload = _upload(session, auth, "red.png", _png(), "image/png")
    stranger = make_user(session, "stranger@example.com")
    with pytest.raises(NotFoundError):
        dashboard.log_page(session, owner=stranger, project_id=project_id, filters=UploadFilters())
    with pytest.raises(NotFoundError):
        dashboard.delete_as_owner(
            session, owner=stranger, project_id=project_id, upload_id=upload.id
        )
    with pytest.raises(NotFoundError):
        dashboard.uploader_token(session, owner=stranger, project_id=project_id)
    assert session.get(Upload, upload.id) is not None


def test_delete_removes_the_file_and_tells_the_webhooks(
    session: Session, project: tuple[KeyAuth, int]
) -> None:
    auth, project_id = project
    upload = _upload(session, auth, "red.png", _png(), "image/png")
    key = upload.storage_key
    session.add(
        WebhookEndpoint(
            project_id=project_id,
            url="https://example.com/h",
            events=["upload.deleted"],
            secret_enc="x",
        )
    )
    session.commit()
    name = dashboard.delete_as_owner(
        session, owner=_owner(session), project_id=project_id, upload_id=upload.id
    )
    session.commit()
    assert name == "red.png"
    assert session.get(Upload, upload.id) is None
    assert not get_storage().exists(key)
    events = session.exec(select(WebhookDelivery.event_type)).all()
    assert "upload.deleted" in events
    with pytest.raises(NotFoundError):  # twice: gone
        dashboard.delete_as_owner(
            session, owner=_owner(session), project_id=project_id, upload_id=upload.id
        )


def test_the_uploader_token_comes_from_a_live_upload_key(
    session: Session, project: tuple[KeyAuth, int]
) -> None:
    auth, project_id = project
    owner = _owner(session)
    minted = dashboard.uploader_token(session, owner=owner, project_id=project_id)
    assert minted is not None and minted.token.startswith("jct_")
    assert auth.key_id and "jc_" not in minted.token
    acting = authenticate_client_token(session, minted.token)
    assert (acting.project_id, acting.scopes) == (project_id, frozenset({"upload"}))

    key = session.get(ApiKey, auth.key_id)
    assert key is not None
    key.scopes = "read,manage"  # no upload scope: no token
    session.add(key)
    session.commit()
    assert dashboard.uploader_token(session, owner=owner, project_id=project_id) is None
    key.scopes, key.revoked_at = "upload", utcnow()
    session.add(key)
    session.commit()
    assert dashboard.uploader_token(session, owner=owner, project_id=project_id) is None


def test_a_thumbhash_becomes_a_small_png_and_garbage_becomes_nothing() -> None:
    image = Image.new("RGBA", (40, 30), (30, 120, 200, 255))
    thumbhash = base64.b64encode(bytes(rgba_to_thumb_hash(40, 30, image.tobytes()))).decode()
    url = placeholder_data_url(thumbhash)
    assert url is not None and url.startswith("data:image/png;base64,")
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert picture.format == "PNG" and max(picture.size) == 32
    r, g, b, _ = picture.convert("RGBA").getpixel((16, 12))
    assert b > r and abs(b - 200) < 40  # the colour survives
    for bad in (
        None,
        "",
        "not base64!",
        base64.b64encode(b"\xff" * 25).decode(),
        "QQ==",
        "A" * 400,
    ):
        assert placeholder_data_url(bad) is None


@pytest.mark.parametrize(
    ("mime", "icon"),
    [
        ("image/png", "image"),
        ("video/mp4", "film"),
        ("audio/mpeg", "music"),
        ("application/pdf", "file-text"),
        ("text/plain", "file-text"),
        ("application/zip", "file-archive"),
        ("application/octet-stream", "file"),
        ("", "file"),
    ],
)
def test_type_icons(mime: str, icon: str) -> None:
    assert dashboard.type_icon(mime) == icon


def test_an_upload_of_the_owners_other_project_is_not_deleted_from_this_one(
    session: Session, project: tuple[KeyAuth, int]
) -> None:
    auth, project_id = project
    owner = _owner(session)
    other = create_key(session, owner=owner, project_name="Other")
    session.commit()
    theirs = _upload(
        session, KeyAuth(other.project_id, other.key_id, auth.scopes), "b.png", _png(), "image/png"
    )
    with pytest.raises(NotFoundError):
        dashboard.delete_as_owner(session, owner=owner, project_id=project_id, upload_id=theirs.id)
    for forged in ("", "up_", "../../etc/passwd", "up_" + "x" * 5000):
        with pytest.raises(NotFoundError):
            dashboard.delete_as_owner(session, owner=owner, project_id=project_id, upload_id=forged)
    assert session.get(Upload, theirs.id) is not None
