"""end every session opened while the session cookie was readable by page scripts

Until 0009 the browser set the session cookie itself, so any script on the page could read the
token. Sign-in now sets an HttpOnly cookie under a new name; the tokens handed out before could
still be replayed as `Authorization: Bearer`, so they all end here and everyone signs in once more.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM sessions")


def downgrade() -> None:
    pass  # ended sessions can't come back, and nothing else changed
