"""CORS guidance for a project's own bucket: browsers PUT straight to it with presigned URLs.

The bucket must answer the browser's preflight for PUT with a Content-Type header, from the
pages that upload (this app's dashboard, and the developer's sites with the embed), and expose
ETag: a multipart upload's `complete` call lists each part's ETag, which the browser reads.
"""

from __future__ import annotations

import json
import shlex
from typing import Any
from urllib.parse import urlsplit

from app.services.core.errors import InvalidInputError
from app.settings import get_settings

MAX_ORIGINS = 20


def origin_of(url: str) -> str:
    """`https://example.com:8443/path` -> `https://example.com:8443`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"{url.strip()!r} is not an origin like https://example.com.")
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}".lower()


def default_origins() -> list[str]:
    """This app's own pages upload too (the dashboard's test uploader)."""
    return [origin_of(get_settings().app_url)]


def parse_origins(text: str) -> list[str]:
    """Origins typed one per line or comma-separated; paths are dropped, repeats removed."""
    origins: list[str] = []
    for item in text.replace(",", "\n").splitlines():
        if item.strip() and (origin := origin_of(item)) not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise InvalidInputError(f"List at most {MAX_ORIGINS} origins.")
    return origins


def cors_configuration(origins: list[str]) -> dict[str, Any]:
    """The bucket CORS configuration, in the shape `aws s3api put-bucket-cors` takes."""
    return {
        "CORSRules": [
            {
                "AllowedOrigins": origins,
                "AllowedMethods": ["PUT"],
                "AllowedHeaders": ["Content-Type"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3600,
            }
        ]
    }


def cors_json(origins: list[str]) -> str:
    return json.dumps(cors_configuration(origins), indent=2)


def aws_cli_command(*, bucket: str, endpoint: str = "", file_name: str = "cors.json") -> str:
    """The command that applies the configuration saved as `file_name`."""
    parts = [
        "aws s3api put-bucket-cors",
        f"--bucket {shlex.quote(bucket)}",
        f"--cors-configuration file://{file_name}",
    ]
    if endpoint:
        parts.append(f"--endpoint-url {shlex.quote(endpoint)}")
    return " ".join(parts)
