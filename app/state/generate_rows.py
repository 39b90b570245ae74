"""What the /generate page shows of a run and its images: plain dicts of small values."""

from __future__ import annotations

from typing import Any

from app.services.generation.run_reads import ImageLink
from app.services.generation.run_records import FINISHED_RUN, GenerationView, ImageView

RUN_COLORS = {
    "queued": "gray",
    "running": "blue",
    "done": "green",
    "failed": "red",
    "cancelled": "gray",
}
STATUS_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def credits_text(amount: int) -> str:
    if amount == 0:
        return "free"
    return f"{amount} credit{'s' if amount != 1 else ''}"


def _duration(ms: int | None) -> str:
    if ms is None:
        return ""
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _parts(image: ImageView) -> list[dict[str, str]]:
    return [
        {
            "label": str(p.get("label") or p.get("name") or ""),
            "score": str(p.get("score", "")),
            "explanation": str(p.get("explanation") or ""),
        }
        for p in image.fidelity_parts
    ]


def image_row(view: GenerationView, image: ImageView, links: ImageLink | None) -> dict[str, Any]:
    label = STATUS_LABELS.get(image.status, image.status)
    if image.status == "queued":
        ahead = image.waiting_ahead or 0
        label = f"Queued · {ordinal(ahead + 1)} in line"
    score = image.fidelity_score
    return {
        "key": f"{view.id}-{image.position}",
        "number": image.position + 1,
        "status": image.status,
        "label": label,
        "color": RUN_COLORS.get(image.status, "gray"),
        "thumbnail_url": (links.thumbnail_url or links.url) if links else "",
        "full_url": links.url if links else "",
        "seed": "" if image.seed is None else str(image.seed),
        "size": f"{view.width} × {view.height}",
        "duration": _duration(image.duration_ms),
        "cost": credits_text(image.cost_credits),
        "error": image.error or "",
        "score": "" if score is None else str(score),
        "score_color": "gray" if score is None else _score_color(score),
        "parts": _parts(image),
        "gallery_url": (
            f"/prompts/{image.gallery_prompt_id}" if image.gallery_prompt_id is not None else ""
        ),
    }


def _score_color(score: int) -> str:
    if score >= 75:
        return "green"
    return "amber" if score >= 50 else "red"


def run_row(
    view: GenerationView, *, model_label: str, links: dict[int, ImageLink]
) -> dict[str, Any]:
    done = sum(1 for i in view.images if i.status == "done")
    charged = credits_text(view.credits_charged)
    held = view.credits_per_image * sum(1 for i in view.images if i.status in ("queued", "running"))
    money = charged if not held else f"{charged} charged, {credits_text(held)} held"
    status = view.status
    label = STATUS_LABELS.get(status, status)
    if view.cancel_requested and status not in FINISHED_RUN:
        label = "Cancelling…"
    return {
        "id": view.id,
        "status": status,
        "label": label,
        "color": RUN_COLORS.get(status, "gray"),
        "active": status not in FINISHED_RUN,
        "can_cancel": status not in FINISHED_RUN and not view.cancel_requested,
        "model": model_label,
        "model_id": view.model,
        "detail": " · ".join(
            p
            for p in (
                f"{view.aspect} ({view.width} × {view.height})",
                view.preset.rsplit("/", 1)[-1] if view.preset else "",
                f"{done} of {len(view.images)} done",
                money,
            )
            if p
        ),
        "created": view.created_at.strftime("%d %b, %H:%M"),
        "error": view.error or "",
        "images": [image_row(view, i, links.get(i.asset_id or -1)) for i in view.images],
    }
