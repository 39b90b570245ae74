"""lora_trainings: LoRAs trained on Fal from a person's photos

One row per training: its inputs (trigger word, steps, subject or style), the zip's storage
key, Fal's request id with the status/response/cancel URLs returned at submit, the trained
weights' URLs, the credit reservation, and the lease columns workers hold it by while they
submit or poll it. Deleting a LoRA hides its row; the row stays for the ledger. Generations
keep the LoRAs they applied (`generations.loras`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_String = sqlmodel.sql.sqltypes.AutoString
_Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "lora_trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", _String(length=120), nullable=False),
        sa.Column("trigger_word", _String(length=60), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("is_style", sa.Boolean(), nullable=False),
        sa.Column("image_count", sa.Integer(), nullable=False),
        sa.Column("status", _String(length=16), nullable=False),
        sa.Column("fal_request_id", _String(length=200), nullable=True),
        sa.Column("status_url", _String(length=1000), nullable=True),
        sa.Column("response_url", _String(length=1000), nullable=True),
        sa.Column("cancel_url", _String(length=1000), nullable=True),
        sa.Column("zip_key", _String(length=300), nullable=True),
        sa.Column("lora_url", sa.Text(), nullable=True),
        sa.Column("config_url", sa.Text(), nullable=True),
        sa.Column("sample_asset_ids", sa.JSON(), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("reservation_key", _String(length=190), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker_id", _String(length=120), nullable=True),
        sa.Column("heartbeat_at", _Time(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", _String(length=2000), nullable=True),
        sa.Column("created_at", _Time(), nullable=False),
        sa.Column("submitted_at", _Time(), nullable=True),
        sa.Column("polled_at", _Time(), nullable=True),
        sa.Column("finished_at", _Time(), nullable=True),
        sa.Column("deleted_at", _Time(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lora_trainings_user_id", "lora_trainings", ["user_id"])
    op.create_index("ix_lora_trainings_fal_request_id", "lora_trainings", ["fal_request_id"])
    op.create_index("ix_lora_trainings_created_at", "lora_trainings", ["created_at"])
    op.create_index(
        "ix_lora_trainings_user_created", "lora_trainings", ["user_id", "created_at", "id"]
    )
    op.create_index("ix_lora_trainings_status_polled", "lora_trainings", ["status", "polled_at"])
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("loras", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("loras")
    op.drop_index("ix_lora_trainings_status_polled", table_name="lora_trainings")
    op.drop_index("ix_lora_trainings_user_created", table_name="lora_trainings")
    op.drop_index("ix_lora_trainings_created_at", table_name="lora_trainings")
    op.drop_index("ix_lora_trainings_fal_request_id", table_name="lora_trainings")
    op.drop_index("ix_lora_trainings_user_id", table_name="lora_trainings")
    op.drop_table("lora_trainings")
