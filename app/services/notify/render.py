"""Turning an outbox row into an email: subject, plain text, HTML and the unsubscribe headers.

Every kind in KINDS has `templates/<kind>.html` and `templates/<kind>.txt`, both extending a
base layout (inline CSS for mail clients, a dark-mode style block for those that honour one,
and a footer saying why the email came, with links to the preferences and to unsubscribe).
HTML is autoescaped; the text part is not (it is not HTML). Undefined names are errors, so a
template never silently drops a value its kind promised.

`render(message)` is also what /admin/system shows for emails kept in the outbox.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app import routes
from app.services.core.models import EmailMessage
from app.services.notify.kinds import KINDS
from app.services.notify.tokens import unsubscribe_token
from app.settings import get_settings

APP_NAME = "JSONCraft"
TEMPLATES = Path(__file__).parent / "templates"
ONE_CLICK = "List-Unsubscribe=One-Click"  # the RFC 8058 POST body, and its header's value


@dataclass(frozen=True)
class RenderedEmail:
    to_address: str
    subject: str
    text: str
    html: str
    unsubscribe_url: str  # the page a person opens from the footer link
    headers: dict[str, str] = field(default_factory=dict)  # List-Unsubscribe and friends


def _link(value: object) -> str:
    """An absolute http(s) address for a context `url`: a path is joined to APP_URL, and
    anything else (javascript:, data:, a bare word) becomes the app's home page."""
    base = get_settings().app_url.rstrip("/")
    text = str(value or "").strip()
    if text.startswith("/") and not text.startswith("//"):
        return base + text
    if urlsplit(text).scheme in ("http", "https"):
        return text
    return base + "/"


def _money(amount: object, currency: object) -> str:
    """An amount in minor units (Stripe's cents) with its currency, e.g. "12.50 USD"; a
    string amount is shown as it came."""
    code = str(currency or "").upper()
    if isinstance(amount, int) and not isinstance(amount, bool):
        return f"{amount / 100:,.2f} {code}".strip()
    return f"{amount} {code}".strip()


def _filesize(value: object) -> str:
    try:
        size = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(value)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(link=_link, money=_money, filesize=_filesize)
    return env


def unsubscribe_page_url(token: str) -> str:
    return f"{get_settings().app_url.rstrip('/')}{routes.unsubscribe_url(token)}"


def one_click_url(token: str) -> str:
    """Where mail clients POST the RFC 8058 one-click unsubscribe: the API (app/api/unsubscribe.py),
    which also sends a person who opens it in a browser on to the unsubscribe page."""
    return f"{get_settings().api_url.rstrip('/')}{routes.API_UNSUBSCRIBE}?token={quote(token)}"


def render(message: EmailMessage) -> RenderedEmail:
    """The email `message` becomes. Raises ValueError for an unknown kind, a deleted
    recipient or a context that lacks what its kind promised."""
    spec = KINDS.get(message.kind)
    if spec is None:
        raise ValueError(f"unknown email kind {message.kind!r}")
    if message.user_id is None:
        raise ValueError("the recipient's account no longer exists")
    context = message.context or {}
    missing = [key for key in spec.context if key not in context]
    if missing:
        raise ValueError(f"email {message.kind!r} lacks context {missing}")
    token = unsubscribe_token(user_id=message.user_id, kind=message.kind)
    settings = get_settings()
    values: dict[str, Any] = {
        **{key: context[key] for key in spec.context},
        "subject": message.subject,
        "app_name": APP_NAME,
        "app_url": settings.app_url.rstrip("/") + "/",
        "kind_label": spec.label,
        "preferences_url": settings.app_url.rstrip("/") + routes.ACCOUNT + "#email",
        "unsubscribe_url": unsubscribe_page_url(token),
    }
    env = _environment()
    html = env.get_template(f"{message.kind}.html").render(values)
    text = env.get_template(f"{message.kind}.txt").render(values)
    headers = {
        "List-Unsubscribe": f"<{one_click_url(token)}>",
        "List-Unsubscribe-Post": ONE_CLICK,
        "Auto-Submitted": "auto-generated",  # RFC 3834: no vacation replies to this
    }
    return RenderedEmail(
        to_address=message.to_address,
        subject=message.subject,
        text=_tidy(text),
        html=html,
        unsubscribe_url=values["unsubscribe_url"],
        headers=headers,
    )


def _tidy(text: str) -> str:
    """At most one blank line in a row (blocks leave a few), ending in one newline."""
    lines: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip() + "\n"


def mime_message(rendered: RenderedEmail, *, sender: str, message_id: str) -> MimeMessage:
    """The MIME email: multipart/alternative with the text part first, then the HTML one."""
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = rendered.to_address
    mime["Subject"] = rendered.subject
    mime["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    mime["Message-ID"] = message_id
    for name, value in rendered.headers.items():
        mime[name] = value
    mime.set_content(rendered.text)
    mime.add_alternative(rendered.html, subtype="html")
    return mime


def new_message_id(sender: str) -> str:
    """A Message-ID on the sender's domain, e.g. <173…@jsoncraft.example>."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "jsoncraft.local"
    return email.utils.make_msgid(domain=domain)
