"""update subscribers: emails that asked for product updates on the landing page, with consent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "update_subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("consent_text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("consented_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("confirmed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    with op.batch_alter_table("update_subscribers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_update_subscribers_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_update_subscribers_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("update_subscribers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_update_subscribers_created_at"))
        batch_op.drop_index(batch_op.f("ix_update_subscribers_status"))
    op.drop_table("update_subscribers")
