"""Which store a project's files live in: the app's storage, or a bucket of the developer's own.

A custom bucket is any S3-compatible store (AWS S3, Cloudflare R2, Backblaze B2, Supabase,
MinIO, SeaweedFS) named by endpoint, bucket, region and addressing style. Its keys are sealed
with the secret box (Fernet, key derived from SECRET_KEY) and never leave the server again.

The endpoint rule: https on a public address. `BUCKET_ALLOW_PRIVATE_ENDPOINTS=true` also allows
http and private, loopback or link-local hosts (development, tests, a MinIO on the LAN). A name
is checked here as written (an IP literal, `localhost`, `*.local`); the addresses it resolves
to are checked again each time the connection is tested (bucket_check.py).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

from sqlmodel import Session

from app.services.core.errors import InvalidInputError
from app.services.core.models import Project, User
from app.services.core.secret_box import open_secret, seal_secret
from app.services.core.storage import ADDRESSING_STYLES, S3Storage, Storage, get_storage
from app.services.uploads.ownership import get_owned_project
from app.settings import Settings, get_settings

DEFAULT_REGION = "us-east-1"
# A custom bucket's own CDN lives in the project's settings JSON (no column of its own).
CDN_SETTING = "bucket_cdn_base_url"

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_ACCESS_KEY_ID = re.compile(r"[\x21-\x7e]{3,128}")  # printable ASCII, no spaces
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


@dataclass(frozen=True)
class BucketView:
    """What the Storage tab may show of a project's bucket: no key, ever."""

    endpoint: str
    bucket: str
    region: str
    addressing: str
    has_keys: bool
    cdn_base_url: str
    checked_at: datetime | None


def bucket_view(project: Project) -> BucketView | None:
    """The project's own bucket, or None when it uses the app's storage."""
    if not project.bucket_name:
        return None
    return BucketView(
        endpoint=project.bucket_endpoint or "",
        bucket=project.bucket_name,
        region=project.bucket_region or DEFAULT_REGION,
        addressing=project.bucket_addressing,
        has_keys=bool(project.bucket_access_key_enc and project.bucket_secret_key_enc),
        cdn_base_url=str((project.settings or {}).get(CDN_SETTING) or ""),
        checked_at=project.bucket_checked_at,
    )


# -- validation ----------------------------------------------------------------------------


def is_private_host(host: str) -> bool:
    """True for loopback, private, link-local and reserved addresses and local-only names."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(_PRIVATE_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global


def validate_endpoint(url: str, *, settings: Settings | None = None) -> str:
    """The endpoint normalised (no trailing slash), or InvalidInputError saying what is wrong.

    Empty means AWS S3 itself (boto3 picks the regional endpoint)."""
    settings = settings or get_settings()
    url = url.strip().rstrip("/")
    if not url:
        return ""
    if len(url) > 500:
        raise InvalidInputError("The endpoint URL is too long (500 characters at most).")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as e:
        raise InvalidInputError("The endpoint URL has an invalid port.") from e
    del port
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInputError("The endpoint must be a URL like https://s3.example.com.")
    if parts.username or parts.password:
        raise InvalidInputError("Put the keys in their own fields, not in the endpoint URL.")
    if parts.query or parts.fragment:
        raise InvalidInputError("The endpoint URL may not have a query (?…) or fragment (#…).")
    if not settings.bucket_allow_private_endpoints:
        if parts.scheme != "https":
            raise InvalidInputError("The endpoint must use https:// (http is for local testing).")
        if is_private_host(parts.hostname):
            raise InvalidInputError(
                "The endpoint must be a public address, not a private or local one."
            )
    return url


def validate_bucket_name(name: str) -> str:
    """S3's bucket naming rules, which every compatible store accepts."""
    name = name.strip()
    if not 3 <= len(name) <= 63:
        raise InvalidInputError("A bucket name is 3 to 63 characters long.")
    if not _BUCKET_NAME.fullmatch(name):
        raise InvalidInputError(
            "A bucket name uses lowercase letters, digits, '.' and '-', and starts and ends "
            "with a letter or digit."
        )
    if ".." in name or ".-" in name or "-." in name:
        raise InvalidInputError("A bucket name may not have '..', '.-' or '-.' in it.")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        raise InvalidInputError("A bucket name may not look like an IP address.")
    if name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3")):
        raise InvalidInputError("That bucket name uses a prefix or suffix S3 reserves.")
    return name


def validate_region(region: str) -> str:
    region = region.strip().lower() or DEFAULT_REGION
    if not _REGION.fullmatch(region):
        raise InvalidInputError(
            "A region is letters, digits and '-', like us-east-1 (R2 uses 'auto')."
        )
    return region


def validate_addressing(style: str) -> str:
    style = style.strip().lower() or "auto"
    if style not in ADDRESSING_STYLES:
        raise InvalidInputError("Addressing style must be auto, path or virtual.")
    return style


def validate_cdn_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInputError("The CDN base URL must be an https:// URL without ? or #.")
    if len(url) > 300:
        raise InvalidInputError("The CDN base URL is too long (300 characters at most).")
    return url


def _clean_key(value: str, label: str) -> str:
    value = value.strip()
    if not _ACCESS_KEY_ID.fullmatch(value):
        raise InvalidInputError(f"The {label} looks wrong: 3 to 128 characters, no spaces.")
    return value


# -- saving --------------------------------------------------------------------------------


def save_bucket(
    session: Session,
    *,
    owner: User,
    project_id: int,
    endpoint: str,
    bucket: str,
    region: str = "",
    addressing: str = "auto",
    access_key_id: str = "",
    secret_access_key: str = "",
    cdn_base_url: str = "",
) -> BucketView:
    """Point the project at its own bucket. Keys left empty keep the saved ones (the form never
    shows them again); a first save needs both. Any change asks for a new connection test."""
    project = get_owned_project(session, owner=owner, project_id=project_id)
    clean_endpoint = validate_endpoint(endpoint)
    clean_bucket = validate_bucket_name(bucket)
    clean_region = validate_region(region)
    clean_addressing = validate_addressing(addressing)
    clean_cdn = validate_cdn_base_url(cdn_base_url)
    if bool(access_key_id.strip()) != bool(secret_access_key.strip()) and not (
        project.bucket_access_key_enc and project.bucket_secret_key_enc
    ):
        raise InvalidInputError("Enter both the access key id and the secret access key.")
    if access_key_id.strip():
        project.bucket_access_key_enc = seal_secret(_clean_key(access_key_id, "access key id"))
    if secret_access_key.strip():
        project.bucket_secret_key_enc = seal_secret(
            _clean_key(secret_access_key, "secret access key")
        )
    if not (project.bucket_access_key_enc and project.bucket_secret_key_enc):
        raise InvalidInputError("Enter the access key id and the secret access key.")
    project.bucket_endpoint = clean_endpoint or None
    project.bucket_name = clean_bucket
    project.bucket_region = clean_region
    project.bucket_addressing = clean_addressing
    project.bucket_checked_at = None
    project.settings = {**(project.settings or {}), CDN_SETTING: clean_cdn}
    session.add(project)
    session.flush()
    view = bucket_view(project)
    assert view is not None
    return view


def remove_bucket(session: Session, *, owner: User, project_id: int) -> None:
    """Back to the app's storage: the bucket's settings and sealed keys are forgotten. Files
    already in that bucket stay there (they are the developer's)."""
    project = get_owned_project(session, owner=owner, project_id=project_id)
    project.bucket_endpoint = project.bucket_name = project.bucket_region = None
    project.bucket_addressing = "auto"
    project.bucket_access_key_enc = project.bucket_secret_key_enc = None
    project.bucket_checked_at = None
    project.settings = {k: v for k, v in (project.settings or {}).items() if k != CDN_SETTING}
    session.add(project)
    session.flush()


# -- the storage seam ----------------------------------------------------------------------


def storage_for_project(project: Project) -> Storage:
    """The project's storage. Every upload-platform module reaches objects through here, so a
    project with a bucket of its own (bucket_* columns) is served from that bucket."""
    if not project.bucket_name:
        return get_storage()
    if not (project.bucket_access_key_enc and project.bucket_secret_key_enc):
        raise InvalidInputError("This project's bucket has no keys: save them on the Storage tab.")
    return _bucket_storage(
        project.bucket_endpoint or None,
        project.bucket_name,
        project.bucket_region or DEFAULT_REGION,
        project.bucket_addressing or "auto",
        project.bucket_access_key_enc,
        project.bucket_secret_key_enc,
        get_settings().presign_expiry_seconds,
    )


@lru_cache(maxsize=256)
def _bucket_storage(
    endpoint: str | None,
    bucket: str,
    region: str,
    addressing: str,
    access_key_enc: str,
    secret_key_enc: str,
    expires_in: int,
) -> S3Storage:
    """One S3Storage per project configuration. Keyed on the sealed keys, so replacing a key
    (a new Fernet token) builds a new client and the old one is never used again."""
    return S3Storage(
        bucket=bucket,
        endpoint_url=endpoint,
        region=region,
        access_key_id=open_secret(access_key_enc),
        secret_access_key=open_secret(secret_key_enc),
        default_expires_in=expires_in,
        addressing_style=addressing,
    )
