"""stripe subscriptions: the newest state of each subscription, by Stripe event time

Stripe does not deliver webhook events in order. `stripe_subscriptions` keeps, per
subscription, the state carried by the newest event applied (`event_created_at` is that
event's `created`), so an older `customer.subscription.updated` arriving late is recognised and
skipped instead of overwriting a newer state (an old "active" after "canceled").

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stripe_subscriptions",
        sa.Column(
            "subscription_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("current_period_end", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("event_created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("subscription_id"),
    )
    with op.batch_alter_table("stripe_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stripe_subscriptions_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("stripe_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_subscriptions_user_id"))
    op.drop_table("stripe_subscriptions")
