"""A subject line per kind that names the thing (the job, the LoRA, the project), for the code
that calls `notify(...)`: `notify(session, user=u, kind=k, subject=subject_for(k, ctx), ...)`."""

from __future__ import annotations

from typing import Any

from app.services.notify.kinds import KINDS

_SUBJECTS = {
    "studio_job_finished": "Studio job “{job_name}” {verdict}",
    "generation_batch_done": "Your images for “{title}” are ready",
    "lora_finished": "LoRA “{name}” {verdict}",
    "low_credits": "Your JSONCraft credits are running low ({balance} left)",
    "payment_receipt": "Your JSONCraft receipt: {description}",
    "webhook_endpoint_disabled": "A webhook endpoint of “{project_name}” was disabled",
    "upload_failed": "Upload “{filename}” to “{project_name}” was {status}",
    "upload_daily_summary": "Uploads to “{project_name}” on {day}",
}


def subject_for(kind: str, context: dict[str, Any]) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    failed = context.get("status") == "failed"
    if kind == "lora_finished":
        verdict = "failed to train" if failed else "is trained"
    else:
        verdict = (
            "failed" if failed else f"is {str(context.get('status', 'done')).replace('_', ' ')}"
        )
    values = {key: " ".join(str(context.get(key, "")).split()) for key in KINDS[kind].context}
    return _SUBJECTS[kind].format(verdict=verdict, **values)[:300]
