"""The "email me product updates" list from the landing page: consent, idempotence, CSV export.

Signing up needs the person's explicit consent (a box they tick themselves) and a valid email.
Asking again with the same email changes nothing and says so politely, without revealing more
than "you're on the list". Everyone starts as "pending_confirmation": the confirmation email is
sent once the app can send email (issue 5/5); until then nobody is mailed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.services.accounts.auth import normalize_email, require_role
from app.services.core.errors import InvalidInputError
from app.services.core.models import Role, UpdateSubscriber, User

PENDING = "pending_confirmation"
CONSENT_TEXT = (
    "I agree to receive occasional product-update emails from JSONCraft. "
    "Each one will have a link to unsubscribe."
)
CSV_COLUMNS = ("email", "status", "consented_at", "consent_text", "source", "created_at")
# Spreadsheet apps run cells that start with these as formulas (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class SignupResult:
    email: str
    status: str
    created: bool  # False when the email was already on the list


def subscribe(
    session: Session, *, email: str, consent: bool, source: str = "landing"
) -> SignupResult:
    """Add an email to the list (pending confirmation); the same email again is a no-op."""
    if not consent:
        raise InvalidInputError(
            "Tick the box to agree to receive update emails; we only add you with your consent."
        )
    normalized = normalize_email(email)
    existing = _find(session, normalized)
    if existing is not None:
        return SignupResult(existing.email, existing.status, created=False)
    try:
        with session.begin_nested():  # a concurrent sign-up with the same email meets UNIQUE
            session.add(
                UpdateSubscriber(
                    email=normalized, status=PENDING, consent_text=CONSENT_TEXT, source=source[:32]
                )
            )
    except IntegrityError:
        found = _find(session, normalized)
        assert found is not None
        return SignupResult(found.email, found.status, created=False)
    return SignupResult(normalized, PENDING, created=True)


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(UpdateSubscriber)).one())


def export_csv(session: Session, *, actor: User | None) -> str:
    """Every subscriber, oldest first, as CSV (admins only)."""
    require_role(actor, Role.admin)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = session.exec(
        select(UpdateSubscriber).order_by(
            col(UpdateSubscriber.created_at), col(UpdateSubscriber.id)
        )
    )
    for row in rows:
        writer.writerow(
            [
                _cell(row.email),
                row.status,
                row.consented_at.isoformat(),
                _cell(row.consent_text),
                _cell(row.source),
                row.created_at.isoformat(),
            ]
        )
    return out.getvalue()


def _find(session: Session, email: str) -> UpdateSubscriber | None:
    return session.exec(select(UpdateSubscriber).where(UpdateSubscriber.email == email)).first()


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
