"""Route constants and URL builders, so pages and states never spell a path twice."""

from __future__ import annotations

from urllib.parse import quote

HOME = "/"
GALLERY = "/gallery"
LOGIN = "/login"
SIGNUP = "/signup"
ACCOUNT = "/account"
ADMIN = "/admin"
CREDITS = "/credits"


def login_url(next_path: str) -> str:
    return f"{LOGIN}?next={quote(next_path, safe='/')}"


def safe_next(value: str | None) -> str:
    """Only same-site paths: `//evil.example` or `https://...` would be an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return HOME
    return value
