"""studio jobs: per-image job items; mode, credits, heartbeat and cancellation on jobs

A studio job holds one `job_items` row per input image (its input and outputs live in storage
under `jobs/<token>/`). The new `jobs` columns let a worker claim a job (`worker_id`), prove it is
alive (`heartbeat_at`) so a dead worker's job is handed to another, and settle the job's credit
reservation (`reservation_key`, `credits_*`) exactly once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 01:19:24.219500
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows need a value for the new NOT NULL columns: server defaults supply it.
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "mode",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="now",
            )
        )
        batch_op.add_column(
            sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "reservation_key", sqlmodel.sql.sqltypes.AutoString(length=190), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("credits_per_image", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("credits_reserved", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("credits_charged", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.add_column(
            sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_jobs_token", ["token"], unique=True)
        batch_op.create_index("ix_jobs_status_heartbeat", ["status", "heartbeat_at"], unique=False)
        batch_op.create_index("ix_jobs_user_created", ["user_id", "created_at", "id"], unique=False)

    op.create_table(
        "job_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("input_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id", "position", name="uq_job_items_position"),
    )


def downgrade() -> None:
    op.drop_table("job_items")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_user_created")
        batch_op.drop_index("ix_jobs_status_heartbeat")
        batch_op.drop_index("ix_jobs_token")
        batch_op.drop_column("cancel_requested")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("worker_id")
        batch_op.drop_column("credits_charged")
        batch_op.drop_column("credits_reserved")
        batch_op.drop_column("credits_per_image")
        batch_op.drop_column("reservation_key")
        batch_op.drop_column("token")
        batch_op.drop_column("mode")
