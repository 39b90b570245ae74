"""Object storage: a local folder by default, or any S3-compatible store (S3, R2, MinIO, SeaweedFS).

Both backends speak the same `Storage` interface, so services never know which one they have.
Keys are validated everywhere (`validate_key`) because some of them arrive from URLs. Browsers reach
files through presigned URLs: S3 signs its own, and `LocalStorage` signs URLs to `/api/files/...`
with an HMAC of the app's secret key, which `app/api/files.py` verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import mimetypes
import os
import re
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

from app.services.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
MAX_KEY_LENGTH = 300  # the width of assets.storage_key
_KEY_CHARS = re.compile(r"[A-Za-z0-9._/-]+")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_EXT = re.compile(r"[a-z0-9]{1,10}")
# S3 part size: big enough to keep the part count low (max 10,000 parts), small enough that
# the few parts in flight keep memory bounded whatever the file size.
_MULTIPART_CHUNK = 8 * 1024 * 1024
# Where LocalStorage keeps the parts of unfinished multipart uploads, under its root;
# `path_for` refuses keys inside it, so no signed object URL can reach a part.
_PARTS_DIR = ".multipart"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
MAX_PART_NUMBER = 10_000  # S3's limit on parts per multipart upload


@dataclass(frozen=True)
class ObjectHead:
    """What a HEAD request says about a stored object."""

    size: int
    content_type: str
    etag: str  # quoted, as S3 sends it


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative object key, else raise InvalidInputError."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(f"A storage key must be 1 to {MAX_KEY_LENGTH} characters long.")
    if "\x00" in key or "\\" in key:
        raise InvalidInputError("A storage key may not contain NUL or backslash characters.")
    if key.startswith("/"):
        raise InvalidInputError("A storage key must be relative (no leading slash).")
    if not _KEY_CHARS.fullmatch(key):
        raise InvalidInputError("A storage key may only use letters, digits, '.', '_', '-', '/'.")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidInputError("A storage key may not contain empty, '.' or '..' segments.")
    return key


def content_key(prefix: str, sha256_hex: str, ext: str) -> str:
    """A content-addressed key: `originals/ab/cd/<sha>.jpg`.

    Two levels of fan-out keep any one local directory small.
    """
    digest = sha256_hex.lower()
    if not _HEX64.fullmatch(digest):
        raise InvalidInputError("A content hash must be 64 hexadecimal characters (SHA-256).")
    suffix = ext.lower().lstrip(".")
    if not _EXT.fullmatch(suffix):
        raise InvalidInputError("A file extension must be 1 to 10 letters or digits.")
    return validate_key(f"{prefix.strip('/')}/{digest[:2]}/{digest[2:4]}/{digest}.{suffix}")


def content_disposition(download_name: str) -> str:
    """An `attachment` header value that survives any file name (RFC 6266 + RFC 5987)."""
    ascii_name = download_name.encode("ascii", "ignore").decode() or "download"
    ascii_name = re.sub(r'["\\\r\n]', "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(download_name)}"


class Storage(ABC):
    """What every backend offers. Methods block: call them from a thread or a job, not the loop."""

    @abstractmethod
    def put_stream(self, key: str, stream: BinaryIO, *, content_type: str) -> int:
        """Store everything `stream` yields under `key` without holding it all in memory.

        Returns the number of bytes stored.
        """

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> int:
        return self.put_stream(key, io.BytesIO(data), content_type=content_type)

    @abstractmethod
    def open_stream(self, key: str) -> Iterator[bytes]:
        """The object's bytes in chunks. Raises NotFoundError before the first chunk if missing."""

    def read_bytes(self, key: str) -> bytes:
        return b"".join(self.open_stream(key))

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key is not an error."""

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def presigned_get_url(
        self, key: str, *, expires_in: int | None = None, download_name: str | None = None
    ) -> str: ...

    @abstractmethod
    def presigned_put_url(
        self, key: str, *, content_type: str, expires_in: int | None = None
    ) -> str: ...

    @abstractmethod
    def head(self, key: str) -> ObjectHead:
        """Size, content type and ETag of the object; NotFoundError when it is missing."""

    @abstractmethod
    def read_prefix(self, key: str, n: int) -> bytes:
        """The object's first `n` bytes (fewer if it is shorter); NotFoundError when missing."""

    # -- multipart uploads: the client PUTs each part to its presigned URL -----------------
    @abstractmethod
    def create_multipart(self, key: str, *, content_type: str) -> str:
        """Start a multipart upload to `key`; returns its upload id."""

    @abstractmethod
    def presigned_part_url(
        self, key: str, *, upload_id: str, part_number: int, expires_in: int | None = None
    ) -> str:
        """A URL the client PUTs part `part_number` (1..10,000) to; the answer's ETag names it."""

    @abstractmethod
    def complete_multipart(
        self, key: str, *, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        """Join the parts, listed as (number, ETag) in ascending order, into the object.

        ConflictError when a part is missing, its ETag differs, or the upload is unknown."""

    @abstractmethod
    def abort_multipart(self, key: str, *, upload_id: str) -> None:
        """Drop an unfinished upload and its parts; aborting an unknown one is not an error."""

    @abstractmethod
    def check(self) -> None:
        """Health probe: return quietly, or raise StorageError saying what is wrong."""

    def ensure_bucket(self) -> None:
        """Create the bucket (or folder) if it does not exist yet."""
        self.check()


class LocalStorage(Storage):
    def __init__(
        self,
        root: Path,
        secret: str,
        public_base_url: str,
        *,
        default_expires_in: int = 3600,
    ) -> None:
        self.root = Path(root)
        self.public_base_url = public_base_url.rstrip("/")
        self.default_expires_in = default_expires_in
        # A key derived for this one purpose, so a URL signature can never be replayed as
        # any other HMAC the app computes with the same SECRET_KEY.
        self._signing_key = hmac.new(
            secret.encode(), b"jsoncraft/local-storage-url/v1", hashlib.sha256
        ).digest()

    # -- paths ---------------------------------------------------------------------------
    def path_for(self, key: str) -> Path:
        """The file for `key`, refusing anything that would resolve outside the root.

        Resolving follows symlinks, so a link inside the root that points elsewhere is refused
        too, not only `..` in the key.
        """
        validate_key(key)
        if key.split("/", 1)[0] == _PARTS_DIR:
            raise InvalidInputError("This storage key is reserved.")
        root = self.root.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root) or path == root:
            raise InvalidInputError("This storage key points outside the storage folder.")
        return path

    # -- reading and writing -------------------------------------------------------------
    def put_stream(self, key: str, stream: BinaryIO, *, content_type: str) -> int:
        # A plain file keeps no metadata; the file route derives the type from the key's extension.
        del content_type
        path = self.path_for(key)
        written = 0
        tmp_name: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Same directory as the target so os.replace is an atomic rename: readers see the
            # old file or the new one, never half of one.
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    out.write(chunk)
                    written += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, path)
            tmp_name = None
        except OSError as e:
            raise StorageError(f"Could not write {key}: {e}") from e
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)
        return written

    def open_stream(self, key: str) -> Iterator[bytes]:
        path = self.path_for(key)
        try:
            f = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as e:
            raise NotFoundError(f"The file {key} was not found.") from e
        except OSError as e:
            raise StorageError(f"Could not open {key}: {e}") from e
        return _iter_file(f, key)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self.path_for(key).unlink(missing_ok=True)
        except OSError as e:
            raise StorageError(f"Could not delete {key}: {e}") from e

    def size(self, key: str) -> int:
        path = self.path_for(key)
        try:
            if not path.is_file():
                raise NotFoundError(f"The file {key} was not found.")
            return path.stat().st_size
        except OSError as e:
            raise StorageError(f"Could not read the size of {key}: {e}") from e

    def head(self, key: str) -> ObjectHead:
        path = self.path_for(key)
        try:
            if not path.is_file():
                raise NotFoundError(f"The file {key} was not found.")
            stat = path.stat()
        except OSError as e:
            raise StorageError(f"Could not read {key}: {e}") from e
        # A plain file keeps no metadata: the type comes from the key's extension, and the ETag
        # from size and modification time (a validator, like S3's for multipart objects, which
        # are not an MD5 either) so a HEAD never reads a large file.
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        return ObjectHead(
            size=stat.st_size,
            content_type=content_type,
            etag=f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"',
        )

    def read_prefix(self, key: str, n: int) -> bytes:
        path = self.path_for(key)
        try:
            with path.open("rb") as f:
                return f.read(max(0, n))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as e:
            raise NotFoundError(f"The file {key} was not found.") from e
        except OSError as e:
            raise StorageError(f"Could not read {key}: {e}") from e

    # -- multipart uploads -----------------------------------------------------------------
    def _parts_dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id or ""):
            raise NotFoundError("No such multipart upload.")
        return self.root / _PARTS_DIR / upload_id

    def _multipart_meta(self, key: str, upload_id: str) -> Path:
        """The upload's folder, if it exists and was started for `key`."""
        folder = self._parts_dir(upload_id)
        try:
            meta = json.loads((folder / "upload.json").read_text())
        except (OSError, ValueError) as e:
            raise NotFoundError("No such multipart upload (finished, aborted or unknown).") from e
        if meta.get("key") != key:
            raise NotFoundError("No such multipart upload for this key.")
        return folder

    def create_multipart(self, key: str, *, content_type: str) -> str:
        validate_key(key)
        upload_id = os.urandom(16).hex()
        folder = self._parts_dir(upload_id)
        try:
            folder.mkdir(parents=True)
            meta = {"key": key, "content_type": content_type, "created": time.time()}
            (folder / "upload.json").write_text(json.dumps(meta))
        except OSError as e:
            raise StorageError(f"Could not start an upload to {key}: {e}") from e
        return upload_id

    def put_part(self, key: str, *, upload_id: str, part_number: int, stream: BinaryIO) -> str:
        """Store one part (the signed part URL's PUT); returns its quoted MD5 ETag, as S3 does."""
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise InvalidInputError(f"A part number must be 1 to {MAX_PART_NUMBER}.")
        folder = self._multipart_meta(key, upload_id)
        digest = hashlib.md5(usedforsecurity=False)
        tmp_name: str | None = None
        try:
            fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    out.write(chunk)
                    digest.update(chunk)
            etag = f'"{digest.hexdigest()}"'
            os.replace(tmp_name, folder / f"{part_number:05d}")
            tmp_name = None
        except OSError as e:
            raise StorageError(f"Could not store part {part_number} of {key}: {e}") from e
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)
        return etag

    def presigned_part_url(
        self, key: str, *, upload_id: str, part_number: int, expires_in: int | None = None
    ) -> str:
        validate_key(key)
        expires = int(time.time()) + (expires_in or self.default_expires_in)
        sig = self.sign_part(key, upload_id=upload_id, part_number=part_number, expires=expires)
        query = urlencode(
            {"upload_id": upload_id, "part_number": part_number, "expires": expires, "sig": sig}
        )
        return f"{self.public_base_url}/api/files/{key}?{query}"

    def sign_part(self, key: str, *, upload_id: str, part_number: int, expires: int) -> str:
        # "PUT-PART" keeps a part signature from ever passing as a whole-object PUT's.
        message = "\n".join(["PUT-PART", key, str(expires), upload_id, str(part_number)])
        return hmac.new(self._signing_key, message.encode(), hashlib.sha256).hexdigest()

    def verify_part_signature(
        self,
        key: str,
        *,
        upload_id: str,
        part_number: int,
        expires: int | str | None,
        sig: str | None,
        now: float | None = None,
    ) -> bool:
        if not sig or expires is None:
            return False
        try:
            expires_at = int(expires)
        except (TypeError, ValueError):
            return False
        if expires_at < (time.time() if now is None else now):
            return False
        expected = self.sign_part(
            key, upload_id=upload_id, part_number=part_number, expires=expires_at
        )
        return hmac.compare_digest(expected, sig)

    def complete_multipart(
        self, key: str, *, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        try:
            folder = self._multipart_meta(key, upload_id)
        except NotFoundError as e:
            raise ConflictError(e.message) from e
        _check_part_list(parts)
        files: list[Path] = []
        for number, etag in parts:
            part = folder / f"{number:05d}"
            if not part.is_file():
                raise ConflictError(f"Part {number} was not uploaded.")
            if _part_md5(part) != etag.strip().strip('"').lower():
                raise ConflictError(f"Part {number}'s ETag does not match the part stored.")
            files.append(part)
        self.put_stream(key, _JoinedFiles(files), content_type="")  # type: ignore[arg-type]
        self.abort_multipart(key, upload_id=upload_id)

    def abort_multipart(self, key: str, *, upload_id: str) -> None:
        del key
        try:
            folder = self._parts_dir(upload_id)
        except NotFoundError:
            return
        shutil.rmtree(folder, ignore_errors=True)

    # -- signed URLs ---------------------------------------------------------------------
    def sign(
        self,
        method: str,
        key: str,
        expires: int,
        *,
        content_type: str | None = None,
        download_name: str | None = None,
    ) -> str:
        message = "\n".join(
            [
                method.upper(),
                key,
                str(expires),
                _normalise_content_type(content_type),
                download_name or "",
            ]
        )
        return hmac.new(self._signing_key, message.encode(), hashlib.sha256).hexdigest()

    def verify_signature(
        self,
        method: str,
        key: str,
        expires: int | str | None,
        sig: str | None,
        content_type: str | None = None,
        *,
        download_name: str | None = None,
        now: float | None = None,
    ) -> bool:
        """True when `sig` is ours for exactly this method, key, expiry (and content type)."""
        if not sig or expires is None:
            return False
        try:
            expires_at = int(expires)
        except (TypeError, ValueError):
            return False
        if expires_at < (time.time() if now is None else now):
            return False
        expected = self.sign(
            method, key, expires_at, content_type=content_type, download_name=download_name
        )
        return hmac.compare_digest(expected, sig)

    def presigned_get_url(
        self, key: str, *, expires_in: int | None = None, download_name: str | None = None
    ) -> str:
        validate_key(key)
        lifetime = expires_in or self.default_expires_in
        # Round the expiry down to a step of a tenth of the lifetime: links made for the same
        # file within that step are identical, so pages that re-render (and browsers) reuse the
        # cached image instead of refetching it under a new signature. A link never outlives
        # the lifetime asked for.
        step = max(1, lifetime // 10)
        expires = (int(time.time()) + lifetime) // step * step
        params: dict[str, str | int] = {"expires": expires}
        if download_name:
            params["name"] = download_name
        params["sig"] = self.sign("GET", key, expires, download_name=download_name)
        return f"{self.public_base_url}/api/files/{key}?{urlencode(params, quote_via=quote)}"

    def presigned_put_url(
        self, key: str, *, content_type: str, expires_in: int | None = None
    ) -> str:
        validate_key(key)
        expires = int(time.time()) + (expires_in or self.default_expires_in)
        sig = self.sign("PUT", key, expires, content_type=content_type)
        return f"{self.public_base_url}/api/files/{key}?expires={expires}&sig={sig}"

    # -- health --------------------------------------------------------------------------
    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root):
                pass
        except OSError as e:
            raise StorageError(f"The storage folder {self.root} is not writable: {e}") from e


def _iter_file(f: BinaryIO, key: str) -> Iterator[bytes]:
    with f:
        try:
            while chunk := f.read(CHUNK_SIZE):
                yield chunk
        except OSError as e:
            raise StorageError(f"Could not read {key}: {e}") from e


def _check_part_list(parts: Sequence[tuple[int, str]]) -> None:
    numbers = [number for number, _etag in parts]
    if not numbers:
        raise ConflictError("List at least one part to complete a multipart upload.")
    if numbers != sorted(set(numbers)) or not 1 <= numbers[0] <= numbers[-1] <= MAX_PART_NUMBER:
        raise ConflictError(
            f"List parts in ascending order, each once, numbered 1 to {MAX_PART_NUMBER}."
        )


def _part_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


class _JoinedFiles(io.RawIOBase):
    """The parts' files read one after another, as one stream (nothing held in memory)."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = list(paths)
        self._current: BinaryIO | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        want = CHUNK_SIZE if size is None or size < 0 else size
        while True:
            if self._current is None:
                if not self._paths:
                    return b""
                self._current = self._paths.pop(0).open("rb")
            data = self._current.read(want)
            if data:
                return data
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
        super().close()


def _normalise_content_type(content_type: str | None) -> str:
    return (content_type or "").strip().lower()


class _CountingReader(io.RawIOBase):
    """Counts the bytes boto3 pulls from a stream (upload_fileobj does not report them)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data = self._stream.read()
        else:
            # s3transfer takes a short read from a non-seekable stream as the end of it, and
            # would silently store a truncated object; sockets and pipes do return short reads.
            parts: list[bytes] = []
            missing = size
            while missing > 0 and (part := self._stream.read(missing)):
                parts.append(part)
                missing -= len(part)
            data = b"".join(parts)
        self.count += len(data)
        return data


class S3Storage(Storage):
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        default_expires_in: int = 3600,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.default_expires_in = default_expires_in
        self.client: Any = _s3_client(endpoint_url, region, access_key_id, secret_access_key)

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        return cls(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=_secret(settings.s3_access_key_id),
            secret_access_key=_secret(settings.s3_secret_access_key),
            default_expires_in=settings.presign_expiry_seconds,
        )

    def put_stream(self, key: str, stream: BinaryIO, *, content_type: str) -> int:
        from boto3.s3.transfer import TransferConfig

        validate_key(key)
        reader = _CountingReader(stream)
        config = TransferConfig(
            multipart_threshold=_MULTIPART_CHUNK,
            multipart_chunksize=_MULTIPART_CHUNK,
            max_concurrency=4,
        )
        with _s3_errors(key):
            self.client.upload_fileobj(
                reader,
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=config,
            )
        return reader.count

    def open_stream(self, key: str) -> Iterator[bytes]:
        validate_key(key)
        with _s3_errors(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return self._iter_body(body, key)

    @staticmethod
    def _iter_body(body: Any, key: str) -> Iterator[bytes]:
        try:
            with _s3_errors(key):
                yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except NotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        validate_key(key)
        with _s3_errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def size(self, key: str) -> int:
        validate_key(key)
        with _s3_errors(key):
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def head(self, key: str) -> ObjectHead:
        validate_key(key)
        with _s3_errors(key):
            answer = self.client.head_object(Bucket=self.bucket, Key=key)
        return ObjectHead(
            size=int(answer["ContentLength"]),
            content_type=str(answer.get("ContentType") or "application/octet-stream"),
            etag=str(answer.get("ETag") or ""),
        )

    def read_prefix(self, key: str, n: int) -> bytes:
        from botocore.exceptions import ClientError

        validate_key(key)
        if n <= 0:
            self.head(key)  # still NotFoundError for a missing object
            return b""
        try:
            with _s3_errors(key):
                body = self.client.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes=0-{n - 1}"
                )["Body"]
        except StorageError as e:
            # An empty object has no byte 0: S3 answers 416 InvalidRange.
            cause = e.__cause__
            if isinstance(cause, ClientError) and _error_code(cause) == "InvalidRange":
                return b""
            raise
        try:
            with _s3_errors(key):
                data: bytes = body.read(n)
        finally:
            body.close()
        return data

    def create_multipart(self, key: str, *, content_type: str) -> str:
        validate_key(key)
        with _s3_errors(key):
            answer = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        return str(answer["UploadId"])

    def presigned_part_url(
        self, key: str, *, upload_id: str, part_number: int, expires_in: int | None = None
    ) -> str:
        validate_key(key)
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
        }
        with _s3_errors(key):
            url: str = self.client.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=expires_in or self.default_expires_in
            )
        return url

    def complete_multipart(
        self, key: str, *, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        from botocore.exceptions import ClientError

        validate_key(key)
        _check_part_list(parts)
        listed = [{"PartNumber": number, "ETag": _quoted(etag)} for number, etag in parts]
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )
        except ClientError as e:
            code = _error_code(e)
            if code in _PART_ERRORS:
                raise ConflictError(_PART_ERRORS[code]) from e
            raise StorageError(f"Completing the upload of {key} failed: {e}") from e
        except Exception as e:
            raise StorageError(f"Completing the upload of {key} failed: {e}") from e

    def abort_multipart(self, key: str, *, upload_id: str) -> None:
        from botocore.exceptions import ClientError

        validate_key(key)
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as e:
            if _error_code(e) in ("NoSuchUpload", "404", "NotFound"):
                return
            raise StorageError(f"Aborting the upload of {key} failed: {e}") from e
        except Exception as e:
            raise StorageError(f"Aborting the upload of {key} failed: {e}") from e

    def presigned_get_url(
        self, key: str, *, expires_in: int | None = None, download_name: str | None = None
    ) -> str:
        validate_key(key)
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = content_disposition(download_name)
        with _s3_errors(key):
            url: str = self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_in or self.default_expires_in
            )
        return url

    def presigned_put_url(
        self, key: str, *, content_type: str, expires_in: int | None = None
    ) -> str:
        validate_key(key)
        params = {"Bucket": self.bucket, "Key": key, "ContentType": content_type}
        with _s3_errors(key):
            url: str = self.client.generate_presigned_url(
                "put_object", Params=params, ExpiresIn=expires_in or self.default_expires_in
            )
        return url

    def check(self) -> None:
        with _s3_errors(None):
            self.client.head_bucket(Bucket=self.bucket)

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as e:
            if _error_code(e) not in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError(f"Cannot reach bucket {self.bucket}: {e}") from e
        except Exception as e:
            raise StorageError(f"Cannot reach bucket {self.bucket}: {e}") from e
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        # us-east-1 is the one region S3 refuses an explicit LocationConstraint for.
        if self.region and self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.client.create_bucket(**kwargs)
        except Exception as e:
            if _error_code(e) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return
            raise StorageError(f"Could not create bucket {self.bucket}: {e}") from e


@contextmanager
def _s3_errors(key: str | None) -> Iterator[None]:
    """Map boto3/botocore failures: a missing object to NotFoundError, the rest to StorageError."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as e:
        if _error_code(e) in ("404", "NoSuchKey", "NotFound"):
            if key:
                raise NotFoundError(f"The file {key} was not found.") from e
            raise StorageError("The storage bucket does not exist.") from e
        raise StorageError(f"S3 request for {key or 'the bucket'} failed: {e}") from e
    except (BotoCoreError, Boto3Error) as e:
        raise StorageError(f"S3 request for {key or 'the bucket'} failed: {e}") from e


_PART_ERRORS = {
    "InvalidPart": "A part listed was not uploaded, or its ETag does not match the part stored.",
    "InvalidPartOrder": "List parts in ascending order, each once.",
    "EntityTooSmall": "Every part but the last must be at least 5 MiB.",
    "NoSuchUpload": "This multipart upload is unknown to the store (finished or aborted).",
}


def _quoted(etag: str) -> str:
    bare = etag.strip().strip('"')
    return f'"{bare}"'


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


@lru_cache(maxsize=8)
def _s3_client(
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> Any:
    """One client per configuration: building one costs tens of ms, and clients are thread-safe."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        # Custom endpoints (MinIO, SeaweedFS, R2 on its account host) rarely have wildcard DNS
        # for virtual-hosted buckets, so address buckets by path there.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )


def get_storage(settings: Settings | None = None) -> Storage:
    """The storage backend the settings ask for."""
    settings = settings or get_settings()
    if settings.storage_backend == "s3":
        return S3Storage.from_settings(settings)
    return LocalStorage(
        settings.storage_dir,
        settings.secret_key.get_secret_value(),
        settings.api_url,
        default_expires_in=settings.presign_expiry_seconds,
    )
