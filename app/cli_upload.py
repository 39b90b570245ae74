"""`jsoncraft upload`: send files to a project through the upload API, as any client would.

    jsoncraft upload photo.png report.pdf --key jc_... [--api https://jsoncraft.example]

For each file: presign (`POST /api/uploads`), PUT the bytes to the signed URL (or each part of a
multipart upload, keeping the ETags), then complete. One line per file: `ID  STATUS  NAME`, and
the reason when the server rejected the file. Any failure is one line on stderr (`error: ...`):
exit 2 when the input or the key is wrong (or a file was rejected), 1 when the server or the
network failed. No traceback ever reaches the terminal.
"""

from __future__ import annotations

import argparse
import mimetypes
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    # Imported where used: `jsoncraft ops` shares this CLI and must not pay for httpx.
    import httpx

_TIMEOUT_SECONDS, _WRITE_TIMEOUT_SECONDS = 30.0, 300.0
_FILE_REFUSED = (413, 415, 422)  # too large, refused type, malformed: about one file


class UploadCommandError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def add_upload_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    upload = sub.add_parser(
        "upload",
        help="upload files to a project through the upload API (presign, PUT, complete)",
    )
    setattr(upload, "error", _one_line_error)  # noqa: B010
    upload.add_argument("files", nargs="+", metavar="FILE")
    upload.add_argument("--key", required=True, help="the project's secret key (jc_...)")
    upload.add_argument("--api", help="the API's base URL (default: the API_URL setting)")
    upload.add_argument("--type", help="MIME type for every file (default: from each name)")
    upload.set_defaults(func=cmd_upload)


def _one_line_error(message: str) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(2)


def cmd_upload(args: argparse.Namespace) -> int:
    import httpx

    from app.settings import get_settings

    base = (args.api or get_settings().api_url).rstrip("/")
    paths = [Path(f) for f in args.files]
    for path in paths:
        if not path.is_file():
            sys.stderr.write(f"error: {path}: no such file\n")
            return 2
    worst = 0
    try:
        timeout = httpx.Timeout(_TIMEOUT_SECONDS, write=_WRITE_TIMEOUT_SECONDS)
        with httpx.Client(base_url=base, timeout=timeout) as http:
            for path in paths:
                worst = max(worst, _upload_one(http, path, args.key, args.type))
    except UploadCommandError as e:
        sys.stderr.write(f"error: {e.message}\n")
        return e.code
    except httpx.HTTPError as e:
        sys.stderr.write(f"error: could not reach {base}: {type(e).__name__}\n")
        return 1
    except OSError as e:
        sys.stderr.write(f"error: {e.strerror or e}\n")
        return 2
    return worst


def _upload_one(http: httpx.Client, path: Path, key: str, type_: str | None) -> int:
    auth = {"Authorization": f"Bearer {key}"}
    size = path.stat().st_size
    content_type = type_ or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    answer = http.post(
        "/api/uploads",
        json={"files": [{"name": path.name, "size": size, "type": content_type}]},
        headers=auth,
    )
    if answer.status_code in _FILE_REFUSED:  # this file only: go on with the next
        sys.stderr.write(f"error: {path.name}: {_detail(answer)}\n")
        return 2
    _check(answer, path.name)
    upload: dict[str, Any] = answer.json()["uploads"][0]
    body: dict[str, Any] | None = None
    with path.open("rb") as f:
        if upload.get("multipart"):
            body = {"parts": _put_parts(http, f, upload["multipart"], path.name)}
        else:
            _check(http.put(upload["url"], content=f.read(), headers=upload["headers"]), path.name)
    done = http.post(f"/api/uploads/{upload['id']}/complete", json=body, headers=auth)
    _check(done, path.name)
    result = done.json()
    line = f"{result['id']}  {result['status']}  {path.name}"
    if result.get("reason"):
        line += f"  ({result['reason']})"
    sys.stdout.write(line + "\n")
    return 0 if result["status"] == "ready" else 2


def _put_parts(
    http: httpx.Client, f: Any, multipart: dict[str, Any], name: str
) -> list[dict[str, Any]]:
    listed = []
    for part in multipart["parts"]:
        chunk = f.read(multipart["part_size"])
        answer = http.put(part["url"], content=chunk)
        _check(answer, name)
        listed.append({"part_number": part["part_number"], "etag": answer.headers.get("etag", "")})
    return listed


def _check(answer: httpx.Response, name: str) -> None:
    if answer.is_success:
        return
    detail = _detail(answer)
    if answer.status_code >= 500:
        raise UploadCommandError(f"{name}: the server failed ({answer.status_code}): {detail}", 1)
    raise UploadCommandError(f"{name}: {detail}", 2)


def _detail(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    return str(detail) if detail else f"HTTP {answer.status_code}"
