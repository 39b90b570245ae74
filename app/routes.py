"""Route constants and URL builders, so pages and states never spell a path twice."""

from __future__ import annotations

from urllib.parse import quote

HOME = "/"
GALLERY = "/gallery"
LOGIN = "/login"
SIGNUP = "/signup"
ACCOUNT = "/account"
ADMIN = "/admin"
ADMIN_SYSTEM = "/admin/system"
CREDITS = "/credits"
STUDIO = "/studio"
LORAS = "/loras"
DASHBOARD = "/dashboard"
PRICING = "/pricing"
GENERATE = "/generate"
API_DOCS = "/api/docs"  # on the API's host (settings.api_url)
OPENAPI = "/api/openapi.json"
UPDATE_SUBSCRIBERS_CSV = "/api/admin/update-subscribers.csv"

# Pages with a part of the path as their argument: the pattern Reflex routes on, and the
# prefix that pages (which only hold a Var of the id) join to it.
PROMPT_PREFIX = "/prompts/"
PROMPT_ROUTE = PROMPT_PREFIX + "[prompt_id]"
PROJECTS = "/projects"
PROJECT_PREFIX = "/projects/"
PROJECT_ROUTE = PROJECT_PREFIX + "[project_id]"
PROJECT_UPLOADS_ROUTE = PROJECT_ROUTE + "/uploads"
PROJECT_WEBHOOKS_ROUTE = PROJECT_ROUTE + "/webhooks"
PROJECT_STORAGE_ROUTE = PROJECT_ROUTE + "/storage"
DOCS_UPLOADS = "/docs/uploads"
SHARE_PREFIX = "/share/"
SHARE_ROUTE = SHARE_PREFIX + "[token]"

# HTML forms post here (app/api/auth.py); prefix them with settings.api_url.
API_SIGN_IN = "/api/auth/sign-in"
API_SIGN_UP = "/api/auth/sign-up"
API_SIGN_OUT = "/api/auth/sign-out"
API_SIGN_OUT_EVERYWHERE = "/api/auth/sign-out-everywhere"


def prompt_url(prompt_id: int) -> str:
    return f"{PROMPT_PREFIX}{int(prompt_id)}"


def generate_url(prompt_id: int, version: int | None = None) -> str:
    """/generate on a saved prompt (its current version unless `version` is given)."""
    url = f"{GENERATE}?prompt={int(prompt_id)}"
    return url if version is None else f"{url}&version={int(version)}"


def generate_answer_url(turn_id: int) -> str:
    """/generate on one analyzer answer (a conversation turn of the person's own)."""
    return f"{GENERATE}?answer={int(turn_id)}"


def project_url(project_id: int, tab: str = "") -> str:
    """A project's page, or one of its tabs ("uploads", "webhooks", "storage")."""
    base = f"{PROJECT_PREFIX}{int(project_id)}"
    return f"{base}/{tab}" if tab else base


def share_url(token: str) -> str:
    return f"{SHARE_PREFIX}{quote(token, safe='')}"


def login_url(next_path: str) -> str:
    return f"{LOGIN}?next={quote(next_path, safe='/')}"


def signup_url(next_path: str) -> str:
    return f"{SIGNUP}?next={quote(next_path, safe='/')}"


def pricing_buy_url(offer: str) -> str:
    """/pricing starting checkout for `offer` ("pack:<id>" or "plan:<name>") once signed in."""
    return f"{PRICING}?buy={quote(offer, safe=':')}"


def analyzer_asset_url(asset_id: int) -> str:
    """The analyzer opening an image the person already owns (sent from the studio)."""
    return f"{HOME}?asset={int(asset_id)}"


def safe_next(value: str | None) -> str:
    """Only same-site paths: `//evil.example` or `https://...` would be an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return HOME
    return value


# Email unsubscribe: the page an email's footer links to, and the RFC 8058 one-click endpoint
# (on settings.api_url) its List-Unsubscribe header names.
UNSUBSCRIBE = "/unsubscribe"
API_UNSUBSCRIBE = "/api/unsubscribe"


def unsubscribe_url(token: str) -> str:
    return f"{UNSUBSCRIBE}?token={quote(token, safe='')}"
