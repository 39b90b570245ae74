"""operations: email outbox and preferences, error events, worker heartbeats, provider calls

`email_messages` is the email outbox (sent by the queue; kept as "outbox" with no SMTP server).
Users get the kinds of email they switched off and the low-credits "already told" flag.
`error_events` backs the searchable error list on /admin/system (by the reference a person saw),
`worker_heartbeats` its worker list and `provider_calls` its provider error rates.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_String = sqlmodel.sql.sqltypes.AutoString
_Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        # MySQL 8 takes a JSON default only as an expression (MariaDB takes both).
        no_kinds = sa.text("('[]')") if op.get_bind().dialect.name == "mysql" else "[]"
        batch.add_column(
            sa.Column("email_opt_out", sa.JSON(), nullable=False, server_default=no_kinds)
        )
        batch.add_column(
            sa.Column(
                "low_credits_notified", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )

    op.create_table(
        "email_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("to_address", _String(length=320), nullable=False),
        sa.Column("kind", _String(length=40), nullable=False),
        sa.Column("subject", _String(length=300), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", _String(length=190), nullable=True),
        sa.Column("status", _String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _Time(), nullable=True),
        sa.Column("leased_until", _Time(), nullable=True),
        sa.Column("last_error", _String(length=500), nullable=True),
        sa.Column("message_id", _String(length=300), nullable=True),
        sa.Column("created_at", _Time(), nullable=False),
        sa.Column("sent_at", _Time(), nullable=True),
        sa.UniqueConstraint("dedupe_key", name="uq_email_messages_dedupe_key"),
    )
    op.create_index(
        "ix_email_messages_status_next", "email_messages", ["status", "next_attempt_at"]
    )
    op.create_index("ix_email_messages_user_created", "email_messages", ["user_id", "created_at"])

    op.create_table(
        "error_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", _String(length=64), nullable=False),
        sa.Column("trace_id", _String(length=32), nullable=True),
        sa.Column("source", _String(length=16), nullable=False),
        sa.Column("location", _String(length=300), nullable=False),
        sa.Column("error_type", _String(length=120), nullable=False),
        sa.Column("message", _String(length=1000), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _Time(), nullable=False),
    )
    op.create_index("ix_error_events_reference", "error_events", ["reference"])
    op.create_index("ix_error_events_user_id", "error_events", ["user_id"])
    op.create_index("ix_error_events_created", "error_events", ["created_at"])

    op.create_table(
        "worker_heartbeats",
        sa.Column("id", _String(length=120), primary_key=True),
        sa.Column("hostname", _String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _Time(), nullable=False),
        sa.Column("last_seen_at", _Time(), nullable=False),
        sa.Column("tasks_done", sa.Integer(), nullable=False),
        sa.Column("current_task", _String(length=120), nullable=True),
    )
    op.create_index("ix_worker_heartbeats_last_seen_at", "worker_heartbeats", ["last_seen_at"])

    op.create_table(
        "provider_calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", _String(length=40), nullable=False),
        sa.Column("operation", _String(length=40), nullable=False),
        sa.Column("error_kind", _String(length=40), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", _Time(), nullable=False),
    )
    op.create_index(
        "ix_provider_calls_created_provider", "provider_calls", ["created_at", "provider"]
    )


def downgrade() -> None:
    op.drop_table("provider_calls")
    op.drop_table("worker_heartbeats")
    op.drop_table("error_events")
    op.drop_table("email_messages")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("low_credits_notified")
        batch.drop_column("email_opt_out")
