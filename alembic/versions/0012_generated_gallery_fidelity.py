"""generated images in the gallery, and their fidelity score

Every generated image becomes a gallery entry (`prompts.origin = 'generated'`, the JSON it was
made from as its version) so the gallery filters generated vs analyzed with one index, like its
other filters. Each image row keeps its round-trip fidelity score (0-100) with its parts, and
the gallery entry it became.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(
            sa.Column(
                "origin",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="analyzed",
            )
        )
    op.create_index("ix_prompts_origin_created", "prompts", ["origin", "created_at", "id"])
    with op.batch_alter_table("generation_images") as batch:
        batch.add_column(sa.Column("fidelity_score", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fidelity_parts", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("gallery_prompt_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_generation_images_gallery_prompt", "prompts", ["gallery_prompt_id"], ["id"]
        )
        batch.create_index("ix_generation_images_gallery_prompt_id", ["gallery_prompt_id"])


def downgrade() -> None:
    with op.batch_alter_table("generation_images") as batch:
        batch.drop_index("ix_generation_images_gallery_prompt_id")
        batch.drop_constraint("fk_generation_images_gallery_prompt", type_="foreignkey")
        batch.drop_column("gallery_prompt_id")
        batch.drop_column("fidelity_parts")
        batch.drop_column("fidelity_score")
    op.drop_index("ix_prompts_origin_created", table_name="prompts")
    with op.batch_alter_table("prompts") as batch:
        batch.drop_column("origin")
