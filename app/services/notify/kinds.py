"""The kinds of email JSONCraft sends: the contract between the code that emits them (studio,
generation, LoRA, billing, webhooks, uploads) and the templates that render them.

Each kind lists the `context` keys its emitter must supply (JSON-safe values). Every kind can be
switched off on /account (`User.email_opt_out`) and by the one-click unsubscribe link in it.
`dedupe` says what makes one email of that kind unique: emitting the same kind with the same
`dedupe_key` twice sends one email (a retried task, two workers racing).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # on /account: "Email me when ..."
    context: tuple[str, ...]
    dedupe: str  # what the dedupe_key names


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "studio_job_finished",
            "a studio job is done or failed",
            ("job_id", "job_name", "status", "items_done", "items_failed", "error", "url"),
            "studio_job:{job_id}",
        ),
        Kind(
            "generation_batch_done",
            "a generation batch is done",
            ("run_id", "title", "images_done", "images_failed", "url"),
            "generation_run:{run_id}",
        ),
        Kind(
            "lora_finished",
            "a LoRA training finishes or fails",
            ("lora_id", "name", "status", "error", "url"),
            "lora:{lora_id}:{status}",
        ),
        Kind(
            "low_credits",
            "my credits run low",
            ("balance", "threshold", "url"),
            "low_credits:{user_id}:{crossed_at}",
        ),
        Kind(
            "payment_receipt",
            "a payment is received (receipt)",
            ("payment_id", "amount", "currency", "credits", "description", "paid_at", "url"),
            "payment:{payment_id}",
        ),
        Kind(
            "webhook_endpoint_disabled",
            "a webhook endpoint is disabled",
            ("project_id", "project_name", "endpoint_url", "reason", "url"),
            "webhook_disabled:{endpoint_id}:{disabled_at}",
        ),
        Kind(
            "upload_failed",
            "an upload to my project is rejected or quarantined",
            ("project_id", "project_name", "upload_id", "filename", "status", "reason", "url"),
            "upload_failed:{upload_id}",
        ),
        Kind(
            "upload_daily_summary",
            "the daily upload summary of my projects",
            (
                "project_id",
                "project_name",
                "day",
                "ready",
                "rejected",
                "quarantined",
                "bytes",
                "url",
            ),
            "upload_summary:{project_id}:{day}",
        ),
    )
}
