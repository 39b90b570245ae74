"""What /admin/system shows, as small dicts of text: the services' results laid out for the
page (ages as "5 min", rates as percentages). No I/O here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.services.ops.clock import ago
from app.services.ops.email_outbox import EmailDetail, EmailRow
from app.services.ops.error_log import ErrorView
from app.services.ops.provider_rates import ProviderRates
from app.services.ops.queue_status import QueueStatus
from app.services.ops.webhook_failures import FailingEndpoint
from app.services.ops.workers import WorkerView

# Radix colour scales for the chart's series; providers past the last share the last colour.
COLORS = ["red", "amber", "violet", "cyan", "pink", "blue"]
STATUS_COLORS = {"up": "green", "down": "red", "not configured": "gray"}


def when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%d %b %H:%M:%S UTC")


def health(checks: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "name": name,
            "status": str(check["status"]),
            "color": STATUS_COLORS.get(str(check["status"]), "gray"),
            "backend": str(check.get("backend") or ""),
        }
        for name, check in checks.items()
    ]


def queue(status: QueueStatus | None, now: datetime) -> dict[str, str]:
    if status is None:
        return {"waiting": "?", "scheduled": "?", "oldest": "queue unreachable"}
    age = status.oldest_age_seconds(now)
    return {
        "waiting": str(status.waiting),
        "scheduled": str(status.scheduled),
        "oldest": "nothing waiting" if age is None else f"{ago(age)} ago",
    }


def worker(w: WorkerView, now: datetime) -> dict[str, Any]:
    return {
        "id": w.id,
        "host": f"{w.hostname} · pid {w.pid}",
        "seen": f"{ago((now - w.last_seen_at).total_seconds())} ago",
        "up_since": when(w.started_at),
        "done": str(w.tasks_done),
        "current": w.current_task or "idle",
        "stale": w.stale,
    }


def error(e: ErrorView) -> dict[str, str]:
    return {
        "id": str(e.id),
        "reference": e.reference,
        "when": when(e.created_at),
        "source": e.source,
        "location": e.location,
        "type": e.error_type,
        "message": e.message,
        "user": "" if e.user_id is None else f"user {e.user_id}",
    }


def webhook(f: FailingEndpoint, now: datetime) -> dict[str, Any]:
    since = "" if f.since is None else f"{ago((now - f.since).total_seconds())} ago"
    return {
        "id": str(f.id),
        "project": f"{f.project_name} (#{f.project_id})",
        "url": f.url,
        "state": "failing" if f.enabled else "disabled",
        "since": since,
        "error": f.last_error or f.disabled_reason or "",
    }


def providers(rates: ProviderRates) -> dict[str, Any]:
    """Tables per provider and per kind, and a stacked bar chart of errors per 5 minutes.
    Recharts reads a dotted `dataKey` as a path, so provider names are never keys: p0, p1..."""
    names = [p.provider for p in rates.providers if p.errors]
    key = {name: f"p{min(i, len(COLORS) - 1)}" for i, name in enumerate(names)}
    chart = []
    for start, counts in rates.buckets:
        row: dict[str, Any] = {"at": start.strftime("%H:%M")}
        for name, n in counts.items():
            row[key[name]] = row.get(key[name], 0) + n
        chart.append(row)
    series = [
        {"key": f"p{i}", "name": name, "color": f"var(--{COLORS[i]}-9)"}
        for i, name in enumerate(names[: len(COLORS)])
    ]
    if len(names) > len(COLORS):
        series[-1]["name"] = "other providers"
    return {
        "rows": [
            {
                "provider": p.provider,
                "calls": str(p.calls),
                "errors": str(p.errors),
                "rate": f"{p.rate:.0%}",
                "bad": p.rate >= 0.2,
            }
            for p in rates.providers
        ],
        "kinds": [
            {"provider": k.provider, "kind": k.error_kind, "count": str(k.count)}
            for k in rates.kinds
        ],
        "chart": chart if names else [],
        "series": series,
    }


def email_row(r: EmailRow) -> dict[str, str]:
    return {
        "id": str(r.id),
        "to": r.to_address,
        "kind": r.kind,
        "subject": r.subject,
        "status": r.status,
        "when": when(r.created_at),
    }


def email_detail(d: EmailDetail) -> dict[str, str]:
    return {
        **email_row(d.row),
        "attempts": str(d.row.attempts),
        "error": d.last_error or "",
        "sent": when(d.sent_at),
        "text": d.text,
    }
