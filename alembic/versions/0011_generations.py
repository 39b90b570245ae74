"""generations: one row per image-generation request and one per image it makes

A generation keeps what the model received and the parameters to reproduce it; each image row
has its seed, its credit reservation, the stored asset and the provider's request id. Workers
claim a generation (`worker_id`, `heartbeat_at`) the way they claim studio jobs.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("prompt_version_id", sa.Integer(), nullable=True),
        sa.Column("prompt_data", sa.JSON(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("prompt_format", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("prompt_sent", sa.Text(), nullable=False),
        sa.Column("negative", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("aspect", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=True),
        sa.Column("guidance", sa.Float(), nullable=True),
        sa.Column("preset", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("credits_per_image", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"]),
        sa.ForeignKeyConstraint(["prompt_version_id"], ["prompt_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_generations_user_id", "generations", ["user_id"])
    op.create_index("ix_generations_prompt_id", "generations", ["prompt_id"])
    op.create_index("ix_generations_created_at", "generations", ["created_at"])
    op.create_index("ix_generations_user_created", "generations", ["user_id", "created_at", "id"])
    op.create_index("ix_generations_status_heartbeat", "generations", ["status", "heartbeat_at"])

    op.create_table(
        "generation_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("reservation_key", sqlmodel.sql.sqltypes.AutoString(length=190), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("cost_credits", sa.Integer(), nullable=False),
        sa.Column("nsfw", sa.Boolean(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("generation_id", "position", name="uq_generation_images_position"),
    )
    op.create_index("ix_generation_images_asset_id", "generation_images", ["asset_id"])


def downgrade() -> None:
    op.drop_index("ix_generation_images_asset_id", table_name="generation_images")
    op.drop_table("generation_images")
    for name in (
        "ix_generations_status_heartbeat",
        "ix_generations_user_created",
        "ix_generations_created_at",
        "ix_generations_prompt_id",
        "ix_generations_user_id",
    ):
        op.drop_index(name, table_name="generations")
    op.drop_table("generations")
