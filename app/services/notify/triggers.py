"""What each email kind says, built where the change happens: one function per kind.

The studio, generation, billing, webhooks and uploads code calls these in the transaction that
makes the change (a job's final status, a ledger entry, a disabled endpoint...), so the email
row exists exactly when the change was committed. Each function fills the context keys and the
dedupe key that kinds.py names; links are absolute (settings.app_url), since they leave the app.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from app import routes
from app.services.core.models import EmailMessage, User
from app.services.notify.outbox import notify
from app.settings import get_settings


def app_link(path: str) -> str:
    """`path` on the web app, as a link that works from a mail client."""
    return get_settings().app_url.rstrip("/") + path


def studio_job_finished(
    session: Session,
    *,
    user: User,
    job_id: int,
    job_name: str,
    status: str,
    items_done: int,
    items_failed: int,
    error: str | None,
) -> EmailMessage | None:
    outcome = "is done" if status == "done" else "failed"
    return notify(
        session,
        user=user,
        kind="studio_job_finished",
        subject=f"Studio job #{job_id} ({job_name}) {outcome}",
        context={
            "job_id": job_id,
            "job_name": job_name,
            "status": status,
            "items_done": items_done,
            "items_failed": items_failed,
            "error": error,
            "url": app_link(routes.STUDIO),
        },
        dedupe_key=f"studio_job:{job_id}",
    )


def generation_batch_done(
    session: Session,
    *,
    user: User,
    run_id: int,
    title: str,
    images_done: int,
    images_failed: int,
) -> EmailMessage | None:
    made = f"{images_done} image{'' if images_done == 1 else 's'}"
    subject = (
        f"Your generation is done: {made} of {title}"
        if images_done
        else f"Your generation of {title} failed"
    )
    return notify(
        session,
        user=user,
        kind="generation_batch_done",
        subject=subject,
        context={
            "run_id": run_id,
            "title": title,
            "images_done": images_done,
            "images_failed": images_failed,
            "url": app_link(routes.GENERATE),
        },
        dedupe_key=f"generation_run:{run_id}",
    )


def lora_finished(
    session: Session,
    *,
    user: User,
    lora_id: int,
    name: str,
    status: str,
    error: str | None,
) -> EmailMessage | None:
    outcome = "is trained" if status == "done" else "could not be trained"
    return notify(
        session,
        user=user,
        kind="lora_finished",
        subject=f"Your LoRA {name} {outcome}",
        context={
            "lora_id": lora_id,
            "name": name,
            "status": status,
            "error": error,
            "url": app_link(routes.LORAS),
        },
        dedupe_key=f"lora:{lora_id}:{status}",
    )


def low_credits(
    session: Session, *, user: User, balance: int, threshold: int, crossed_at: datetime
) -> EmailMessage | None:
    return notify(
        session,
        user=user,
        kind="low_credits",
        subject=f"You have {balance} credit{'' if balance == 1 else 's'} left",
        context={"balance": balance, "threshold": threshold, "url": app_link(routes.PRICING)},
        dedupe_key=f"low_credits:{user.id}:{crossed_at.isoformat()}",
    )


def payment_receipt(
    session: Session,
    *,
    user: User,
    payment_id: int,
    amount_cents: int,
    currency: str,
    credits: int,
    description: str,
    paid_at: datetime,
) -> EmailMessage | None:
    amount = f"{amount_cents / 100:.2f}"
    return notify(
        session,
        user=user,
        kind="payment_receipt",
        subject=f"Receipt: {amount} {currency.upper()} for {description}",
        context={
            "payment_id": payment_id,
            "amount": amount,
            "currency": currency.upper(),
            "credits": credits,
            "description": description,
            "paid_at": paid_at.isoformat(),
            "url": app_link(routes.CREDITS),
        },
        dedupe_key=f"payment:{payment_id}",
    )


def webhook_endpoint_disabled(
    session: Session,
    *,
    owner: User,
    project_id: int,
    project_name: str,
    endpoint_id: int,
    endpoint_url: str,
    reason: str,
    disabled_at: datetime,
) -> EmailMessage | None:
    return notify(
        session,
        user=owner,
        kind="webhook_endpoint_disabled",
        subject=f"A webhook endpoint of {project_name} was disabled",
        context={
            "project_id": project_id,
            "project_name": project_name,
            "endpoint_url": endpoint_url,
            "reason": reason,
            "url": app_link(routes.project_url(project_id, "webhooks")),
        },
        dedupe_key=f"webhook_disabled:{endpoint_id}:{disabled_at.isoformat()}",
    )


def upload_failed(
    session: Session,
    *,
    owner: User,
    project_id: int,
    project_name: str,
    upload_id: str,
    filename: str,
    status: str,
    reason: str,
) -> EmailMessage | None:
    return notify(
        session,
        user=owner,
        kind="upload_failed",
        subject=f"An upload to {project_name} was {status}: {filename}",
        context={
            "project_id": project_id,
            "project_name": project_name,
            "upload_id": upload_id,
            "filename": filename,
            "status": status,
            "reason": reason,
            "url": app_link(routes.project_url(project_id, "uploads")),
        },
        dedupe_key=f"upload_failed:{upload_id}",
    )


def upload_daily_summary(
    session: Session,
    *,
    owner: User,
    project_id: int,
    project_name: str,
    day: date,
    counts: dict[str, int],
    total_bytes: int,
) -> EmailMessage | None:
    return notify(
        session,
        user=owner,
        kind="upload_daily_summary",
        subject=f"Uploads to {project_name} on {day.isoformat()}",
        context={
            "project_id": project_id,
            "project_name": project_name,
            "day": day.isoformat(),
            "ready": counts.get("ready", 0),
            "rejected": counts.get("rejected", 0),
            "quarantined": counts.get("quarantined", 0),
            "bytes": total_bytes,
            "url": app_link(routes.project_url(project_id, "uploads")),
        },
        dedupe_key=f"upload_summary:{project_id}:{day.isoformat()}",
    )
