"""New accounts: create one with a password, and give every new account its plan's credits.

A new account gets this month's credits of its plan (Free) at once, through the same ledger
entry the monthly maintenance run writes (`pricing.grant_monthly_credits`, keyed by user, plan
and month): the account never waits for the next run, and that run does not grant the month
a second time.
"""

from __future__ import annotations

from sqlmodel import Session

from app.services.accounts.auth import SignedIn, create_user, open_session
from app.services.billing import pricing
from app.services.core.errors import new_error_id
from app.services.core.logs import get_logger
from app.services.core.models import CreditEntry, User

log = get_logger("signup")


def grant_signup_credits(session: Session, *, user: User) -> CreditEntry | None:
    """This month's plan credits for a new account (idempotent per user, plan and month).

    Commits `session` first: the ledger writes on its own connection, which must see the new
    user row. A ledger failure is logged and not raised, since the account exists by then;
    the monthly maintenance run grants the month later.
    """
    session.commit()
    try:
        return pricing.grant_monthly_credits(session, user=user)
    except Exception as e:  # the account stands; maintenance grants the month instead
        log.error("sign-up credits not granted %s", new_error_id(), exc_info=e)
        return None


def sign_up(
    session: Session, *, email: str, password: str, display_name: str = "", user_agent: str = ""
) -> SignedIn:
    """Create an account with a password, grant its credits and open a session."""
    user = create_user(session, email=email, password=password, display_name=display_name)
    token = open_session(session, user=user, user_agent=user_agent)
    grant_signup_credits(session, user=user)
    return SignedIn(user=user, token=token)
