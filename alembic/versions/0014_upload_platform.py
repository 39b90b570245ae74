"""upload platform: project upload rules and buckets, key scopes, uploads, webhooks

Projects get their upload rules (allowed types, size and count caps, expiry, ACL) and an
optional bucket of their own (keys encrypted at rest). API keys get scopes and an expiry for
the grace period of a regenerated key. `uploads` holds one row per presigned file;
`webhook_endpoints`, `webhook_deliveries` (an outbox: one row per event and endpoint, its id
the `webhook-id` header) and `webhook_attempts` (the delivery log) carry the webhooks.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_String = sqlmodel.sql.sqltypes.AutoString
_Time = sqlmodel.sql.sqltypes.UTCDateTime

_PROJECT_COLUMNS = (
    sa.Column("allowed_types", sa.JSON(), nullable=False, server_default='["image/*"]'),
    sa.Column("max_file_size", sa.BigInteger(), nullable=False, server_default=str(16 << 20)),
    sa.Column("max_files_per_upload", sa.Integer(), nullable=False, server_default="10"),
    sa.Column("expire_after_days", sa.Integer(), nullable=True),
    sa.Column("acl", _String(length=16), nullable=False, server_default="private"),
    sa.Column("bucket_endpoint", _String(length=500), nullable=True),
    sa.Column("bucket_name", _String(length=63), nullable=True),
    sa.Column("bucket_region", _String(length=64), nullable=True),
    sa.Column("bucket_addressing", _String(length=16), nullable=False, server_default="auto"),
    sa.Column("bucket_access_key_enc", sa.Text(), nullable=True),
    sa.Column("bucket_secret_key_enc", sa.Text(), nullable=True),
    sa.Column("bucket_checked_at", _Time(), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        for column in _PROJECT_COLUMNS:
            column = column.copy()
            if column.name == "allowed_types" and op.get_bind().dialect.name == "mysql":
                # MySQL 8 takes a JSON default only as an expression (MariaDB takes both).
                column.server_default = sa.DefaultClause(sa.text("""('["image/*"]')"""))
            batch.add_column(column)
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column(
                "scopes", _String(length=64), nullable=False, server_default="upload,read,manage"
            )
        )
        batch.add_column(sa.Column("expires_at", _Time(), nullable=True))

    op.create_table(
        "uploads",
        sa.Column("id", _String(length=40), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("name", _String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", _String(length=100), nullable=False),
        sa.Column("detected_type", _String(length=100), nullable=True),
        sa.Column("storage_key", _String(length=300), nullable=False),
        sa.Column("status", _String(length=16), nullable=False),
        sa.Column("reason", _String(length=500), nullable=True),
        sa.Column("scan_status", _String(length=16), nullable=False),
        sa.Column("scan_detail", _String(length=200), nullable=True),
        sa.Column("multipart_id", _String(length=1000), nullable=True),
        sa.Column("part_size", sa.BigInteger(), nullable=True),
        sa.Column("part_count", sa.Integer(), nullable=True),
        sa.Column("sha256", _String(length=64), nullable=True),
        sa.Column("cdn_key", _String(length=300), nullable=True),
        sa.Column("thumbnail_key", _String(length=300), nullable=True),
        sa.Column("thumbhash", _String(length=100), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("url_expires_at", _Time(), nullable=False),
        sa.Column("expires_at", _Time(), nullable=True),
        sa.Column("created_at", _Time(), nullable=False),
        sa.Column("completed_at", _Time(), nullable=True),
        sa.Column("processed_at", _Time(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_uploads_project_id", "uploads", ["project_id"])
    op.create_index("ix_uploads_expires_at", "uploads", ["expires_at"])
    op.create_index("ix_uploads_project_created", "uploads", ["project_id", "created_at", "id"])
    op.create_index("ix_uploads_status_created", "uploads", ["status", "created_at"])

    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("url", _String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("previous_secret_enc", sa.Text(), nullable=True),
        sa.Column("previous_secret_expires_at", _Time(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", _String(length=300), nullable=True),
        sa.Column("disabled_at", _Time(), nullable=True),
        sa.Column("failing_since", _Time(), nullable=True),
        sa.Column("created_at", _Time(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_endpoints_project_id", "webhook_endpoints", ["project_id"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("event_type", _String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", _String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _Time(), nullable=True),
        sa.Column("leased_until", _Time(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", _String(length=500), nullable=True),
        sa.Column("created_at", _Time(), nullable=False),
        sa.Column("delivered_at", _Time(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoints.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_deliveries_project_id", "webhook_deliveries", ["project_id"])
    op.create_index(
        "ix_webhook_deliveries_status_next", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_created",
        "webhook_deliveries",
        ["endpoint_id", "created_at"],
    )

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", _String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("trigger", _String(length=16), nullable=False),
        sa.Column("attempted_at", _Time(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_excerpt", _String(length=1000), nullable=False),
        sa.Column("error", _String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"])
    op.create_index("ix_webhook_attempts_endpoint_id", "webhook_attempts", ["endpoint_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_endpoint_id", table_name="webhook_attempts")
    op.drop_index("ix_webhook_attempts_delivery_id", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_endpoint_created", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_status_next", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_project_id", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_endpoints_project_id", table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
    op.drop_index("ix_uploads_status_created", table_name="uploads")
    op.drop_index("ix_uploads_project_created", table_name="uploads")
    op.drop_index("ix_uploads_expires_at", table_name="uploads")
    op.drop_index("ix_uploads_project_id", table_name="uploads")
    op.drop_table("uploads")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
    with op.batch_alter_table("projects") as batch:
        for column in reversed(_PROJECT_COLUMNS):
            batch.drop_column(column.name)
