"""The one place that reads configuration: environment variables and `.env`.

Every variable is documented with its default in `.env.example`. Nothing here raises at
import because an optional key is missing; only an unsafe secret outside development is refused.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"
APP_VERSION = "0.1.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    app_env: Literal["development", "test", "production"] = "development"
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    app_url: str = "http://localhost:3000"
    api_url: str = "http://localhost:8000"
    log_level: str = "INFO"
    log_json: bool = True

    # Files and the default database live under DATA_DIR.
    data_dir: Path = Path("./data")
    database_url: str | None = None

    # Object storage: a local folder by default, any S3-compatible store when set to "s3".
    storage_backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "jsoncraft"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    presign_expiry_seconds: int = 3600
    # Public files of projects on the app's storage are served from here when set: a CDN
    # (CloudFront, an R2 custom domain) in front of the bucket, e.g. https://cdn.example.com.
    cdn_base_url: str | None = None
    # A project's own bucket must be an https endpoint on a public address. True also allows
    # http and private, loopback and link-local hosts (development, tests, a MinIO on the LAN).
    bucket_allow_private_endpoints: bool = False

    # Queue and rate limits use Redis when set; SQLite / memory otherwise.
    redis_url: str | None = None
    # Studio jobs: a running job whose worker sent no heartbeat for this long is handed to
    # another worker; finished jobs (rows and files) are deleted after the retention.
    job_stale_seconds: int = Field(default=120, ge=5)
    job_retention_days: int = Field(default=7, ge=1)
    # Each queue worker writes its heartbeat row this often; /admin/system calls a worker
    # stale once it missed a few (worker_stale_seconds).
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)
    worker_stale_seconds: int = Field(default=30, ge=1)

    # Uploads and images.
    max_upload_bytes: int = 500 * 1024 * 1024
    max_image_pixels: int = 100_000_000
    upload_ttl_days: int = 30
    trash_retention_days: int = 30
    thumbnail_size: int = 512
    # Virus scanning of uploads by ClamAV's daemon: "tcp://127.0.0.1:3310" or "unix:///run/clamav/
    # clamd.ctl". Empty: no scanner, and uploads say "not scanned" (never "clean").
    clamd_address: str | None = None
    clamd_timeout_seconds: float = Field(default=60.0, gt=0)
    # Where clamd reads its signatures (scripts/clamav.sh writes it into clamd.conf); production
    # keeps it current with freshclam.
    clamav_database_dir: Path | None = None
    # Image studio engine: worker processes (empty = one per CPU core), and limits on zip
    # uploads, checked before anything is unpacked (zip bombs, archives of millions of entries).
    imageops_workers: int | None = Field(default=None, ge=1, le=64)
    imageops_zip_max_entries: int = Field(default=10_000, ge=1)
    imageops_zip_max_bytes: int = Field(default=2 * 1024 * 1024 * 1024, ge=1)

    # Webhooks (app/services/webhooks/). Destinations in private, loopback, link-local and other
    # non-public ranges are refused unless this is on (tests and self-hosted receivers on a LAN).
    webhook_allow_private_networks: bool = False
    # A sender holds a delivery this long (above the 15 s request timeout); a worker killed
    # mid-delivery leaves it to be sent again once the lease ends.
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    # How often a worker looks for deliveries due (retries, and any a kick missed).
    webhook_sweep_seconds: float = Field(default=2.0, gt=0)
    # Multiplies the retry schedule (5 s, 5 min, ... 10 h); below 1 only for benchmarks and tests.
    webhook_retry_scale: float = Field(default=1.0, ge=0)

    # Operations (issue 14). Metrics: GET /metrics needs "Authorization: Bearer <token>" when set.
    metrics_token: SecretStr | None = None
    # Several processes (web workers, queue workers) write their metrics into files here, and
    # /metrics in any of them adds them all up. Empty: each process counts alone. The run
    # scripts wipe it at start; prometheus_client also reads the variable itself.
    prometheus_multiproc_dir: Path | None = None
    # Tracing: spans are exported over OTLP (HTTP/protobuf) to this collector when set, e.g.
    # http://127.0.0.1:4318; tracing is still on in-process (trace ids in logs) when unset.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "jsoncraft"
    # Error reporting to Sentry (or a compatible server) when set.
    sentry_dsn: SecretStr | None = None
    # Email: sent through this SMTP server when SMTP_HOST is set; otherwise kept in the outbox
    # that admins read on /admin/system.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "JSONCraft <no-reply@jsoncraft.local>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    # A CA bundle to trust for the SMTP server's STARTTLS certificate (a private relay's own
    # CA); the system's trusted CAs when unset.
    smtp_ca_file: Path | None = None
    # The low-credits email goes out once each time a balance falls below this.
    low_credits_threshold: int = Field(default=10, ge=0)
    # Product analytics: server-side events to PostHog when the key is set (off by default).
    posthog_api_key: SecretStr | None = None
    posthog_host: str = "https://us.i.posthog.com"

    # Threads a web process runs blocking API handlers on (Starlette's pool; 40 by default). Its
    # database pool is sized so every such thread can hold the connections it needs at once:
    # with fewer connections than threads, requests holding one and waiting for a second (the
    # credit ledger's own) starved each other for the pool's 30 s timeout under load.
    web_threads: int = Field(default=16, ge=1, le=200)

    # Accounts.
    session_ttl_hours: int = 24 * 14
    min_password_length: int = 10
    login_max_failures: int = 5
    login_window_seconds: int = 900

    # Model providers (remote ones are optional: the offline analyzer needs none).
    openrouter_api_key: SecretStr | None = None
    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    openai_compatible_api_key: SecretStr | None = None
    openai_compatible_base_url: str | None = None
    # Comma-separated model names the endpoint serves, e.g. "qwen2.5vl:7b,llava:13b".
    openai_compatible_models: str = ""
    together_api_key: SecretStr | None = None
    together_base_url: str = "https://api.together.xyz/v1"
    fal_key: SecretStr | None = None
    fal_base_url: str = "https://fal.run"
    # Image generation on Fal goes through its queue (submit, poll, fetch, cancel).
    fal_queue_url: str = "https://queue.fal.run"
    # How often the Fal queue is polled, and how long one generation may take in all.
    fal_poll_interval_seconds: float = Field(default=1.0, ge=0)
    generation_timeout_seconds: float = Field(default=300.0, gt=0)
    # Where Fal can reach this app from the internet (webhooks, the LoRA training zip when
    # storage is local). Unset: no webhooks are asked for, and polling alone follows trainings.
    public_base_url: str | None = None
    # Fal signs its webhooks with ED25519; its public keys are served here as a JWKS.
    fal_jwks_url: str = "https://rest.alpha.fal.ai/.well-known/jwks.json"
    # LoRA training: how often a submitted training is polled, and when one still unfinished
    # is given up on (failed and refunded).
    lora_poll_interval_seconds: float = Field(default=15.0, ge=0)
    lora_time_limit_seconds: float = Field(default=2 * 3600.0, gt=0)

    # Google sign-in (OpenID Connect).
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"

    # Payments.
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str = "https://api.stripe.com"

    # Demo data seeded by `python -m app.cli seed`.
    demo_user_email: str = "demo@jsoncraft.local"
    # `app.cli create-admin` takes the password from here when not given on stdin.
    jsoncraft_admin_password: SecretStr | None = None
    seed_demo: bool = Field(default=True)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.app_env != "development" and self.secret_key.get_secret_value() in (
            PLACEHOLDER_SECRET,
            "",
        ):
            raise ValueError(
                "SECRET_KEY must be set to a random value outside development "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.app_env != "development" and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters outside development")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jsoncraft.db').resolve()}"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
