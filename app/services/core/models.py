"""SQLModel tables. One module so Alembic sees every table through SQLModel.metadata."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    user = "user"
    editor = "editor"
    admin = "admin"


ROLE_RANK = {Role.user: 0, Role.editor: 1, Role.admin: 2}


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    display_name: str = Field(default="", max_length=120)
    password_hash: str | None = Field(default=None, max_length=255)
    google_sub: str | None = Field(default=None, max_length=255, unique=True)
    role: str = Field(default=Role.user.value, max_length=16)
    plan: str = Field(default="free", max_length=16)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # Billing (app/services/billing/billing.py): the Stripe customer reused for every checkout, and
    # when the paid plan's current period ends (None on the free plan).
    stripe_customer_id: str | None = Field(default=None, max_length=255, unique=True)
    plan_renews_at: datetime | None = None
    # Email notifications (app/services/notify/): kinds this account switched off, and whether
    # the low-credits email went out since the balance last fell under the threshold.
    email_opt_out: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    low_credits_notified: bool = Field(default=False)


class UserSession(SQLModel, table=True):
    __tablename__ = "sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)
    user_agent: str = Field(default="", max_length=400)


class LoginFailure(SQLModel, table=True):
    """Failed sign-ins, kept for the throttle window (by email and by client address)."""

    __tablename__ = "login_failures"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400, index=True)
    failed_at: datetime = Field(default_factory=utcnow, index=True)


class Asset(SQLModel, table=True):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("owner_id", "content_hash", name="uq_asset_owner_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    content_hash: str = Field(max_length=64, index=True)
    mime_type: str = Field(max_length=100)
    size_bytes: int
    width: int
    height: int
    storage_key: str = Field(max_length=300)
    thumbnail_key: str | None = Field(default=None, max_length=300)
    original_filename: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime | None = Field(default=None, index=True)


class Project(SQLModel, table=True):
    """A developer's upload project (app/services/uploads/): its keys, upload rules, bucket."""

    __tablename__ = "projects"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=120)
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # Upload rules, checked at presign and again against the stored bytes at complete.
    # MIME types or "type/*" wildcards; an empty list allows any type.
    allowed_types: list[str] = Field(
        default_factory=lambda: ["image/*"], sa_column=Column(JSON, nullable=False)
    )
    max_file_size: int = Field(
        default=16 * 1024 * 1024, sa_column=Column(BigInteger, nullable=False)
    )
    max_files_per_upload: int = 10
    expire_after_days: int | None = None  # None: files are kept until deleted
    acl: str = Field(default="private", max_length=16)  # "private" | "public-read"
    # A bucket of the developer's own (any S3-compatible store); None = the app's storage.
    # The keys are Fernet tokens (app/services/core/secret_box.py), never shown again.
    bucket_endpoint: str | None = Field(default=None, max_length=500)
    bucket_name: str | None = Field(default=None, max_length=63)
    bucket_region: str | None = Field(default=None, max_length=64)
    bucket_addressing: str = Field(default="auto", max_length=16)  # "auto" | "path" | "virtual"
    bucket_access_key_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    bucket_secret_key_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    bucket_checked_at: datetime | None = None


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    name: str = Field(default="", max_length=120)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    # Comma-separated: "upload", "read", "manage".
    scopes: str = Field(default="upload,read,manage", max_length=64)
    # A regenerated key keeps working until then (the grace period), then it is revoked.
    expires_at: datetime | None = None


class Upload(SQLModel, table=True):
    """One file sent to a project through a presigned URL (app/services/uploads/).

    `pending` from presign until `complete`; then `ready` or `rejected` (object deleted), and
    `quarantined` when the scanner finds it infected. Expired uploads lose their row.
    """

    __tablename__ = "uploads"
    __table_args__ = (
        # The upload log is a keyset page of one project's uploads, newest first.
        Index("ix_uploads_project_created", "project_id", "created_at", "id"),
        # Maintenance: unfinished uploads to abort, expired files to delete.
        Index("ix_uploads_status_created", "status", "created_at"),
    )
    id: str = Field(primary_key=True, max_length=40)  # "up_..." (not guessable)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    api_key_id: int | None = None  # the key (or client token's key) that asked for it
    name: str = Field(max_length=255)  # the file name the client gave, for display only
    size: int = Field(sa_column=Column(BigInteger, nullable=False))  # declared at presign
    content_type: str = Field(max_length=100)  # declared at presign
    detected_type: str | None = Field(default=None, max_length=100)  # sniffed at complete
    storage_key: str = Field(max_length=300)
    status: str = Field(default="pending", max_length=16)
    reason: str | None = Field(default=None, max_length=500)  # why it was rejected
    # "pending" until the scan job runs; "clean", "infected", or "not_scanned" (no scanner).
    scan_status: str = Field(default="pending", max_length=16)
    scan_detail: str | None = Field(default=None, max_length=200)  # the signature found
    multipart_id: str | None = Field(default=None, max_length=1000)  # S3's UploadId
    part_size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    part_count: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    cdn_key: str | None = Field(default=None, max_length=300)  # content-addressed public copy
    thumbnail_key: str | None = Field(default=None, max_length=300)
    thumbhash: str | None = Field(default=None, max_length=100)  # base64
    width: int | None = None
    height: int | None = None
    url_expires_at: datetime  # when the presigned URL(s) stop working
    expires_at: datetime | None = Field(default=None, index=True)  # when the file goes
    created_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    processed_at: datetime | None = None  # scan and thumbnail done


class WebhookEndpoint(SQLModel, table=True):
    """Where a project's events go (app/services/webhooks/), signed per Standard Webhooks."""

    __tablename__ = "webhook_endpoints"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # "whsec_..." as a Fernet token; after a rotation the previous secret also signs until
    # `previous_secret_expires_at`, so receivers can switch without missing a delivery.
    secret_enc: str = Field(sa_column=Column(Text, nullable=False))
    previous_secret_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previous_secret_expires_at: datetime | None = None
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=300)
    disabled_at: datetime | None = None
    failing_since: datetime | None = None  # the first failure since the last success
    created_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: an outbox row written in the same transaction as the event,
    so a crash can't lose it. Its id is the `webhook-id` header, the same on every retry."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sender's sweep: what is due, oldest first.
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )
    id: str = Field(primary_key=True, max_length=40)  # "msg_..."
    endpoint_id: int = Field(foreign_key="webhook_endpoints.id", ondelete="CASCADE")
    project_id: int = Field(index=True)
    event_type: str = Field(max_length=40)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the exact body sent
    # "pending" (due at next_attempt_at), "succeeded", "failed" (retries used up or endpoint
    # disabled).
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    leased_until: datetime | None = None  # a worker is sending it; after this, another may
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery: the log a developer reads when a webhook went missing."""

    __tablename__ = "webhook_attempts"
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(
        foreign_key="webhook_deliveries.id", index=True, ondelete="CASCADE", max_length=40
    )
    endpoint_id: int = Field(index=True)
    trigger: str = Field(default="auto", max_length=16)  # "auto" | "replay" | "test"
    attempted_at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    duration_ms: int = 0
    response_excerpt: str = Field(default="", max_length=1000)
    error: str | None = Field(default=None, max_length=500)


class Prompt(SQLModel, table=True):
    __tablename__ = "prompts"
    # Every gallery filter has an index that also yields rows in (created_at, id) order, so a
    # filtered page is an index range scan that stops after `limit` rows (see gallery.py).
    # PostgreSQL also has a `search_vector` tsvector column (GIN-indexed) that is deliberately
    # not mapped here: only app/services/library/search.py reads or writes it, and SQLite lacks it.
    __table_args__ = (
        Index("ix_prompts_owner_created", "owner_id", "created_at", "id"),
        # "Not in the trash, newest first" is the default listing: `deleted_at IS NULL` is an
        # equality on this index, so SQLite walks it in order instead of sorting every live row.
        Index("ix_prompts_deleted_created", "deleted_at", "created_at", "id"),
        Index("ix_prompts_visibility_created", "visibility", "created_at", "id"),
        Index("ix_prompts_model_created", "model", "created_at", "id"),
        Index("ix_prompts_style_created", "style", "created_at", "id"),
        Index("ix_prompts_origin_created", "origin", "created_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="projects.id")
    asset_id: int | None = Field(default=None, foreign_key="assets.id")
    title: str = Field(max_length=200)
    model: str = Field(default="", max_length=120)
    style: str = Field(default="", max_length=120)
    # "analyzed" (JSON read from an image) or "generated" (an image made from a JSON prompt;
    # `model` is then the model that made it, and generation_images.gallery_prompt_id links back).
    origin: str = Field(
        default="analyzed", max_length=16, sa_column_kwargs={"server_default": "analyzed"}
    )
    visibility: str = Field(default="private", max_length=16)
    current_version_id: int | None = None
    is_favorite: bool = Field(default=False)
    rating: int | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None  # indexed by ix_prompts_deleted_created
    # A read-only share link: /share/<token>. Random, revocable (set back to None).
    share_token: str | None = Field(default=None, max_length=64, unique=True)


class PromptVersion(SQLModel, table=True):
    """Immutable: a save always adds a row, never edits one."""

    __tablename__ = "prompt_versions"
    __table_args__ = (UniqueConstraint("prompt_id", "number", name="uq_prompt_version_number"),)
    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompts.id", index=True, ondelete="CASCADE")
    number: int
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    schema_version: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="prompt_versions.id")
    author_id: int | None = Field(default=None, foreign_key="users.id")
    message: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class Tag(SQLModel, table=True):
    __tablename__ = "tags"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)


class PromptTag(SQLModel, table=True):
    __tablename__ = "prompt_tags"
    # The primary key leads with prompt_id (tags of a card); a tag filter needs the reverse.
    __table_args__ = (Index("ix_prompt_tags_tag_prompt", "tag_id", "prompt_id"),)
    prompt_id: int = Field(foreign_key="prompts.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tags.id", primary_key=True, index=True, ondelete="CASCADE")


class Analysis(SQLModel, table=True):
    __tablename__ = "analyses"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    asset_id: int | None = Field(default=None, foreign_key="assets.id", index=True)
    prompt_id: int | None = Field(default=None, foreign_key="prompts.id", index=True)
    provider: str = Field(max_length=64)
    model: str = Field(max_length=120)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    raw_output: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reasoning: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_credits: int = 0
    latency_ms: int | None = None
    ttft_ms: int | None = None
    error: str | None = Field(default=None, max_length=2000)
    kind: str = Field(default="describe", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None


class CreditEntry(SQLModel, table=True):
    """The credit ledger: the balance is the sum of amounts, entries are never edited."""

    __tablename__ = "credit_ledger"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    amount: int
    kind: str = Field(max_length=16)
    idempotency_key: str = Field(max_length=200, unique=True)
    reference: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=500)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Job(SQLModel, table=True):
    """A queued piece of background work. Studio jobs (kind "studio") also have one JobItem per
    input image; see app/services/studio/jobs/ for the life cycle and who writes which column."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_created", "user_id", "created_at", "id"),
        # Recovery looks for running jobs whose heartbeat stopped, and queued ones never picked up.
        Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    kind: str = Field(max_length=64)
    status: str = Field(default="queued", max_length=16, index=True)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    progress: int = 0
    total: int = 0
    attempts: int = 0
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # "now" runs at a higher queue priority; "batch" waits behind it and costs less.
    mode: str = Field(default="now", max_length=8)
    # Random, so storage keys ("jobs/<token>/...") never collide with those of a purged job
    # whose id SQLite handed out again.
    token: str | None = Field(default=None, max_length=32, unique=True, index=True)
    # The credit reservation's idempotency key (None when the job is free).
    reservation_key: str | None = Field(default=None, max_length=190)
    credits_per_image: int = (
        0  # the price when the job was created: later price changes don't apply
    )
    credits_reserved: int = 0
    credits_charged: int | None = None  # set once, when the reservation is settled
    # The worker that holds the job (None while it waits in the queue) and its last sign of
    # life: a job whose heartbeat stops is handed to another worker.
    worker_id: str | None = Field(default=None, max_length=120)
    heartbeat_at: datetime | None = None
    cancel_requested: bool = False


class JobItem(SQLModel, table=True):
    """One input image of a studio job, and what became of it."""

    __tablename__ = "job_items"
    __table_args__ = (UniqueConstraint("job_id", "position", name="uq_job_items_position"),)
    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="jobs.id", ondelete="CASCADE")
    position: int
    name: str = Field(max_length=255)
    status: str = Field(default="queued", max_length=16)
    input_key: str | None = Field(default=None, max_length=300)  # None when refused at upload
    # [{name, key, media_type, size, width, height}], in the order the engine made them.
    outputs: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    error: str | None = Field(default=None, max_length=2000)
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None


class PromptEmbedding(SQLModel, table=True):
    """One sentence embedding per prompt (its prose), for "similar prompts" and style memory."""

    __tablename__ = "prompt_embeddings"
    prompt_id: int = Field(foreign_key="prompts.id", primary_key=True, ondelete="CASCADE")
    model: str = Field(max_length=64)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    text_hash: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """An analyzer chat: one image, the first analysis and the refinements after it."""

    __tablename__ = "conversations"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    asset_id: int | None = Field(default=None, foreign_key="assets.id")
    prompt_id: int | None = Field(default=None, foreign_key="prompts.id")
    title: str = Field(default="", max_length=200)
    model: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class ConversationTurn(SQLModel, table=True):
    __tablename__ = "conversation_turns"
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=16)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    analysis_id: int | None = Field(default=None, foreign_key="analyses.id")
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    examples: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class SavedFilter(SQLModel, table=True):
    """A gallery search a user named and kept (tags, owner, dates, model, style, text)."""

    __tablename__ = "saved_filters"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    query: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Preset(SQLModel, table=True):
    """A partial prompt merged into the one being edited. owner_id None = built-in."""

    __tablename__ = "presets"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="CASCADE"
    )
    name: str = Field(max_length=120)
    category: str = Field(max_length=32, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Bundle(SQLModel, table=True):
    """An export written to storage, or an import applied from one (with its per-item report)."""

    __tablename__ = "bundles"
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=16)  # export | import
    status: str = Field(default="done", max_length=16)
    storage_key: str | None = Field(default=None, max_length=300)
    filename: str = Field(default="", max_length=255)
    item_count: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Price(SQLModel, table=True):
    """An admin's price for a model ("model:<model_id>") or an operation ("op:<name>").
    Keys without a row cost their default (see app/services/billing/pricing.py)."""

    __tablename__ = "prices"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    credits: int
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: int | None = Field(default=None, foreign_key="users.id")


class Payment(SQLModel, table=True):
    """Money that moved through Stripe: a credit pack, a plan invoice, or a refund of either."""

    __tablename__ = "payments"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # Checkout Session for purchases; None for invoices and refunds.
    stripe_session_id: str | None = Field(default=None, max_length=255, unique=True)
    stripe_payment_intent: str | None = Field(default=None, max_length=255, index=True)
    # The invoice for plan payments, or "refund:<charge>:<cumulative cents>" for refunds:
    # unique, so one Stripe object is recorded once even if two deliveries race.
    stripe_reference: str | None = Field(default=None, max_length=255, unique=True)
    amount_cents: int = 0
    currency: str = Field(default="usd", max_length=8)
    credits: int = 0  # credits added (purchase, plan) or taken back (refund, as a positive number)
    status: str = Field(default="pending", max_length=16, index=True)
    kind: str = Field(max_length=16)  # purchase | subscription | refund
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class StripeEvent(SQLModel, table=True):
    """Every verified webhook event we applied, so a redelivery is acknowledged, not re-applied."""

    __tablename__ = "stripe_events"
    event_id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    received_at: datetime = Field(default_factory=utcnow)


class StripeSubscription(SQLModel, table=True):
    """The newest state of each Stripe subscription, from the newest event applied (by the
    event's `created`): Stripe doesn't deliver events in order, and an older one never
    overwrites a newer state. A user's plan follows their live subscriptions."""

    __tablename__ = "stripe_subscriptions"
    subscription_id: str = Field(primary_key=True, max_length=255)
    user_id: int = Field(foreign_key="users.id", index=True)
    status: str = Field(max_length=32)
    plan: str = Field(max_length=16)
    current_period_end: datetime | None = None
    event_created_at: datetime  # `created` of the event that set this state
    event_id: str = Field(max_length=255)
    updated_at: datetime = Field(default_factory=utcnow)


class UpdateSubscriber(SQLModel, table=True):
    """Someone who asked for product updates from the landing page, with their consent.

    One row per (normalised) email: asking again changes nothing. `status` stays
    "pending_confirmation" until a confirmation email is sent and clicked (email is issue 5/5).
    """

    __tablename__ = "update_subscribers"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    status: str = Field(default="pending_confirmation", max_length=32, index=True)
    consent_text: str = Field(max_length=500)  # what the person agreed to, word for word
    consented_at: datetime = Field(default_factory=utcnow)
    source: str = Field(default="landing", max_length=32)
    confirmed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CatalogueModel(SQLModel, table=True):
    """One model a provider lists at `GET /models` (OpenRouter's catalogue, or the
    OpenAI-compatible endpoint's), cached so lookups and the picker need no network.

    A refresh updates the fetched fields and marks models the answer no longer lists as
    `listed = False`; the admin's choice (`offered`) is never overwritten by a refresh.
    Prices are USD per token (prompt, completion), per input image and per request, as the
    provider states them; None when it did not say or said something unusable.
    """

    __tablename__ = "catalogue_models"
    __table_args__ = (UniqueConstraint("source", "model_id", name="uq_catalogue_source_model"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)  # "openrouter" | "openai-compatible"
    model_id: str = Field(max_length=200)  # as the provider spells it: "vendor/model[:variant]"
    name: str = Field(default="", max_length=200)
    context_length: int | None = None
    prompt_usd: float | None = None
    completion_usd: float | None = None
    image_usd: float | None = None
    request_usd: float | None = None
    input_modalities: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    output_modalities: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    supported_parameters: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    vision: bool = Field(default=False, index=True)  # takes images ("image" input modality)
    listed: bool = Field(default=True, index=True)  # in the provider's latest answer
    offered: bool | None = None  # the admin's choice; None follows the default rule
    fetched_at: datetime = Field(default_factory=utcnow)


class Generation(SQLModel, table=True):
    """One request to generate images from a JSON prompt (app/services/generation/runs.py).

    Everything needed to reproduce it is kept here and on its images: the prompt as the model
    received it, the model, size, steps, guidance and preset; each image has its own seed. The
    rows are the truth the queue works from: a restarted worker resumes from them.
    """

    __tablename__ = "generations"
    __table_args__ = (
        Index("ix_generations_user_created", "user_id", "created_at", "id"),
        # Recovery looks for held runs whose heartbeat stopped, and waiting ones never picked up.
        Index("ix_generations_status_heartbeat", "status", "heartbeat_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # The saved prompt version it came from (None for a JSON prompt given directly).
    prompt_id: int | None = Field(default=None, foreign_key="prompts.id", index=True)
    prompt_version_id: int | None = Field(default=None, foreign_key="prompt_versions.id")
    prompt_data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # after preset
    provider: str = Field(max_length=64)
    model: str = Field(max_length=200)
    prompt_format: str = Field(max_length=8)  # "text" | "json"
    prompt_sent: str = Field(sa_column=Column(Text, nullable=False))
    negative: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    width: int
    height: int
    aspect: str = Field(max_length=20)
    steps: int | None = None
    guidance: float | None = None
    preset: str | None = Field(default=None, max_length=200)
    # Trained LoRAs applied (fal-ai/flux-lora): [{"id", "path", "scale"}], None without any.
    loras: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    n: int
    status: str = Field(default="queued", max_length=16)
    credits_per_image: int = 0  # the price when it was started: later price changes don't apply
    cancel_requested: bool = False
    # The worker that holds the run (None while it waits in the queue) and its last sign of life.
    worker_id: str | None = Field(default=None, max_length=120)
    heartbeat_at: datetime | None = None
    attempts: int = 0
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class GenerationImage(SQLModel, table=True):
    """One image of a generation: its own seed, credit reservation and outcome."""

    __tablename__ = "generation_images"
    __table_args__ = (
        UniqueConstraint("generation_id", "position", name="uq_generation_images_position"),
    )
    id: int | None = Field(default=None, primary_key=True)
    generation_id: int = Field(foreign_key="generations.id", ondelete="CASCADE")
    position: int
    status: str = Field(default="queued", max_length=16)
    # Chosen at start, so a random seed is still reproducible; up to 2**32 - 1, past int4.
    seed: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The credit reservation's idempotency key (None when the model is free).
    reservation_key: str | None = Field(default=None, max_length=190)
    asset_id: int | None = Field(default=None, foreign_key="assets.id", index=True)
    request_id: str | None = Field(default=None, max_length=200)  # the provider's id
    duration_ms: int | None = None
    cost_credits: int = 0  # what was charged (0 until done, and when refunded)
    nsfw: bool | None = None
    # The round trip: the image read back and compared with the JSON it came from (0-100), with
    # the parts of that score (fidelity.py), and the gallery entry the image became.
    fidelity_score: int | None = None
    fidelity_parts: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    gallery_prompt_id: int | None = Field(default=None, foreign_key="prompts.id", index=True)
    error: str | None = Field(default=None, max_length=2000)
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None


class LoraTraining(SQLModel, table=True):
    """One LoRA trained on Fal from a person's photos (app/services/generation/lora_*.py).

    Followed by Fal's webhook and by polling, whichever comes first; the Fal URLs are the ones
    returned at submit (the queue's own, never rebuilt). A deleted LoRA keeps its row, hidden,
    for the credit ledger. Workers hold a training briefly (`worker_id`, `heartbeat_at`) while
    they submit or poll it, the way they hold generation runs.
    """

    __tablename__ = "lora_trainings"
    __table_args__ = (
        Index("ix_lora_trainings_user_created", "user_id", "created_at", "id"),
        # Reconciliation looks for trainings not finished, oldest poll first.
        Index("ix_lora_trainings_status_polled", "status", "polled_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=120)
    trigger_word: str = Field(max_length=60)
    steps: int
    is_style: bool = False
    image_count: int = 0
    # queued, uploading, training, done, failed, cancelled, deleted
    status: str = Field(default="queued", max_length=16)
    fal_request_id: str | None = Field(default=None, max_length=200, index=True)
    status_url: str | None = Field(default=None, max_length=1000)
    response_url: str | None = Field(default=None, max_length=1000)
    cancel_url: str | None = Field(default=None, max_length=1000)
    zip_key: str | None = Field(default=None, max_length=300)
    lora_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    config_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sample_asset_ids: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    credits: int = 0  # the price when it was started: later price changes don't apply
    reservation_key: str | None = Field(default=None, max_length=190)
    cancel_requested: bool = False
    worker_id: str | None = Field(default=None, max_length=120)
    heartbeat_at: datetime | None = None
    attempts: int = 0
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    submitted_at: datetime | None = None
    polled_at: datetime | None = None
    finished_at: datetime | None = None
    deleted_at: datetime | None = None


class EmailMessage(SQLModel, table=True):
    """One email: an outbox row written in the caller's transaction (app/services/notify/), sent
    by the queue with retries. With no SMTP_HOST it stays here as "outbox" for admins to read."""

    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_status_next", "status", "next_attempt_at"),
        Index("ix_email_messages_user_created", "user_id", "created_at"),
        # Kinds sent once per thing (a job, a day's summary) carry a key; a second emit is a no-op.
        UniqueConstraint("dedupe_key", name="uq_email_messages_dedupe_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    to_address: str = Field(max_length=320)
    kind: str = Field(max_length=40)  # one of app/services/notify/kinds.py KINDS
    subject: str = Field(max_length=300)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=190)
    # "queued" (due at next_attempt_at), "sent", "failed" (retries used up), "outbox" (no SMTP).
    status: str = Field(default="queued", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    leased_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    message_id: str | None = Field(default=None, max_length=300)  # the Message-ID header sent
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class ErrorEvent(SQLModel, table=True):
    """An unexpected error: what /admin/system lists and searches by the reference a person saw
    ("Reference: ..."), which is the trace id of the request or task that failed."""

    __tablename__ = "error_events"
    __table_args__ = (Index("ix_error_events_created", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=64, index=True)
    trace_id: str | None = Field(default=None, max_length=32)
    source: str = Field(max_length=16)  # "api" | "page" | "worker" | "cli"
    location: str = Field(default="", max_length=300)  # route template, event handler or task name
    error_type: str = Field(default="", max_length=120)
    message: str = Field(default="", max_length=1000)  # already redacted
    user_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class WorkerHeartbeat(SQLModel, table=True):
    """One row per queue worker process, touched every few seconds while it runs."""

    __tablename__ = "worker_heartbeats"
    id: str = Field(primary_key=True, max_length=120)  # host:pid:start
    hostname: str = Field(max_length=255)
    pid: int
    started_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)
    tasks_done: int = 0
    current_task: str | None = Field(default=None, max_length=120)


class ProviderCall(SQLModel, table=True):
    """One call to a model provider (analysis, generation, training, image ops): the source of
    /admin/system's error rates per provider over the last hour. Pruned after a week."""

    __tablename__ = "provider_calls"
    __table_args__ = (Index("ix_provider_calls_created_provider", "created_at", "provider"),)
    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=40)  # "openrouter", "together", "fal", "local", ...
    operation: str = Field(max_length=40)  # "analysis", "generation", "lora", "imageops"
    error_kind: str | None = Field(default=None, max_length=40)  # None = succeeded
    duration_ms: int = 0
    created_at: datetime = Field(default_factory=utcnow)
