"""Periodic maintenance run by the worker: purges, recovery, thumbnails, embeddings, grants.

Every step is idempotent, so a run that is retried or overlaps another changes nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app.services.accounts.auth import purge_expired_sessions
from app.services.analyzer.catalogue.refresh import refresh_all
from app.services.analyzer.recovery import recover_abandoned_analyses
from app.services.analyzer.style_memory import refresh_embeddings
from app.services.billing import pricing
from app.services.core.db import session_scope
from app.services.core.logs import get_logger
from app.services.core.models import Role, User, utcnow
from app.services.core.provider_calls import prune_provider_calls
from app.services.core.storage import get_storage
from app.services.generation.lora_queue import reconcile_trainings
from app.services.generation.run_queue import recover_generations
from app.services.images.intake import purge_expired_assets, rebuild_missing_thumbnails
from app.services.library.prompt_ops import purge_trash
from app.services.ops.workers import prune_workers
from app.services.studio import jobs
from app.services.uploads.expiry import purge_expired_uploads, purge_stale_pending
from app.services.uploads.processing import queue_unprocessed
from app.settings import get_settings

log = get_logger("tasks")


def grant_plan_credits() -> int:
    """This month's plan credits for every active account (idempotent per user and month)."""
    with session_scope() as session:
        ids = [u for u in session.exec(select(User.id).where(User.is_active)).all() if u]
    granted = 0
    for user_id in ids:
        # The ledger runs its own transactions: one short session per account.
        with session_scope() as session:
            user = session.get(User, user_id)
            if user is not None and pricing.grant_monthly_credits(session, user=user) is not None:
                granted += 1
    return granted


def run_maintenance() -> dict[str, int]:
    """Empty old trash, purge expired uploads, sessions, old studio jobs and week-old provider
    call records, recover jobs of dead workers and abandoned analyses (refunded), forget
    workers unseen for a day, rebuild thumbnails, embed prompts, refresh stale model
    catalogues; delete expired developer uploads and abandoned pending ones."""
    storage = get_storage()
    settings = get_settings()
    # The job acts as an admin (an unsaved User): only the role matters to purge_trash.
    system = User(email="maintenance@jsoncraft.local", role=Role.admin.value)
    with session_scope() as session:
        trashed = purge_trash(
            session, viewer=system, older_than=timedelta(days=settings.trash_retention_days)
        )
        purged = purge_expired_assets(session=session, storage=storage)
        sessions = purge_expired_sessions(session)
        rebuilt = rebuild_missing_thumbnails(session=session, storage=storage)
        embedded = refresh_embeddings(session, limit=200)
        provider_calls = prune_provider_calls(session)
        pruned_workers = prune_workers(session, now=utcnow())
    with session_scope() as session:
        purged_jobs = jobs.purge_old_jobs(
            session, storage=storage, older_than=timedelta(days=settings.job_retention_days)
        )
    recovered = len(jobs.recover_jobs())
    recovered_analyses = recover_abandoned_analyses()
    expired_uploads = purge_expired_uploads()
    stale_uploads = purge_stale_pending()
    granted = grant_plan_credits()
    # Failures are logged and retried next run: the rest of maintenance must not depend on
    # a provider being reachable.
    refreshed = refresh_all(settings, only_stale=True)
    result = {
        "plan_grants": granted,
        "purged_trash": trashed,
        "purged_assets": purged,
        "purged_sessions": sessions,
        "rebuilt_thumbnails": rebuilt,
        "embedded_prompts": embedded,
        "pruned_provider_calls": provider_calls,
        "purged_jobs": purged_jobs,
        "pruned_workers": pruned_workers,
        "recovered_analyses": recovered_analyses,
        "recovered_jobs": recovered,
        "expired_uploads": expired_uploads,
        "stale_pending_uploads": stale_uploads,
        "catalogue_models": sum(r.listed for r in refreshed),
        "catalogue_failures": sum(1 for r in refreshed if r.error),
    }
    log.info("maintenance done", extra=result)
    return result


def recover_stale_jobs() -> list[int]:
    """Queue again the jobs of dead workers and jobs missing from the queue (worker start and
    every minute), queue developer uploads left unprocessed, and reconcile LoRA trainings."""
    recovered = jobs.recover_jobs()
    if recovered:
        log.info("recovered jobs", extra={"jobs": recovered})
    # Generation runs follow the same lease rule; they are reported apart from studio jobs.
    generations = recover_generations()
    if generations:
        log.info("recovered generations", extra={"generations": generations})
    # Developer uploads completed but never scanned (a lost enqueue, a killed worker).
    unprocessed = queue_unprocessed()
    if unprocessed:
        log.info("queued unprocessed uploads", extra={"uploads": unprocessed})
    # LoRA trainings: polled, queued again or timed out (a lost webhook changes nothing).
    trainings = reconcile_trainings()
    if any(trainings.values()):
        log.info("reconciled lora trainings", extra=trainings)
    return recovered
