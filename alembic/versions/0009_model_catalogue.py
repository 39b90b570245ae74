"""model catalogue: the models OpenRouter and the OpenAI-compatible endpoint list

`catalogue_models` caches `GET /models` per source, so any listed model can be resolved,
priced and offered in the picker without a network call.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("model_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("context_length", sa.Integer(), nullable=True),
        sa.Column("prompt_usd", sa.Float(), nullable=True),
        sa.Column("completion_usd", sa.Float(), nullable=True),
        sa.Column("image_usd", sa.Float(), nullable=True),
        sa.Column("request_usd", sa.Float(), nullable=True),
        sa.Column("input_modalities", sa.JSON(), nullable=False),
        sa.Column("output_modalities", sa.JSON(), nullable=False),
        sa.Column("supported_parameters", sa.JSON(), nullable=False),
        sa.Column("vision", sa.Boolean(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=True),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "model_id", name="uq_catalogue_source_model"),
    )
    with op.batch_alter_table("catalogue_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalogue_models_vision"), ["vision"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalogue_models_listed"), ["listed"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalogue_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalogue_models_listed"))
        batch_op.drop_index(batch_op.f("ix_catalogue_models_vision"))
    op.drop_table("catalogue_models")
