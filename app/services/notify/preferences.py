"""Which kinds of email a person gets: the switches on /account and the unsubscribe link.

`User.email_opt_out` lists the kinds switched off; every kind is on until then. `notify`
(outbox.py) skips a kind that is off, and the sender checks again at send time, so a switch
turned off after an email was queued still stops it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.services.core.errors import InvalidInputError
from app.services.core.models import User
from app.services.notify.kinds import KINDS
from app.services.notify.tokens import (
    InvalidUnsubscribeTokenError,
    Unsubscribe,
    read_unsubscribe_token,
)


@dataclass(frozen=True)
class Preference:
    kind: str
    label: str  # "a studio job is done or failed": shown as "Email me when ..."
    enabled: bool


def email_preferences(user: User) -> list[Preference]:
    """Every kind, in KINDS order, with whether this user gets it."""
    off = set(user.email_opt_out or [])
    return [
        Preference(kind=k.name, label=k.label, enabled=k.name not in off) for k in KINDS.values()
    ]


def set_email_preference(
    session: Session, *, user: User, kind: str, enabled: bool
) -> list[Preference]:
    """Switch one kind on or off for `user` (in the caller's transaction)."""
    if kind not in KINDS:
        raise InvalidInputError("There is no such kind of email.")
    off = [k for k in (user.email_opt_out or []) if k != kind and k in KINDS]
    if not enabled:
        off.append(kind)
    # A new list, so SQLAlchemy sees the JSON column change.
    user.email_opt_out = sorted(off, key=list(KINDS).index)
    session.add(user)
    session.flush()
    return email_preferences(user)


def _token_user(session: Session, token: str | None) -> tuple[User, Unsubscribe]:
    found = read_unsubscribe_token(token)
    user = session.get(User, found.user_id)
    if user is None:  # the account was deleted: a valid signature, but nobody to switch off
        raise InvalidUnsubscribeTokenError()
    return user, found


def unsubscribe(session: Session, *, token: str | None) -> Preference:
    """Switch off the kind a signed unsubscribe token names. Idempotent (mail clients and
    link scanners may POST twice)."""
    user, found = _token_user(session, token)
    set_email_preference(session, user=user, kind=found.kind, enabled=False)
    return Preference(kind=found.kind, label=KINDS[found.kind].label, enabled=False)


def resubscribe(session: Session, *, token: str | None) -> Preference:
    """Undo `unsubscribe` from the same link: switch that kind back on."""
    user, found = _token_user(session, token)
    set_email_preference(session, user=user, kind=found.kind, enabled=True)
    return Preference(kind=found.kind, label=KINDS[found.kind].label, enabled=True)
