"""Background tasks run by the huey worker (`python -m app.cli worker`).

Tasks are registered on a queue by `tasks_for(huey)`, so the web process can enqueue on the
queue its current settings name (tests switch DATA_DIR per test) and the worker runs the same
task names from the same queue. Studio jobs register their own task (studio/jobs/dispatch.py);
this module adds the periodic ones from maintenance.py and webhook sending (webhooks/dispatch.py)
and email sending (notify/dispatch.py); their sweeps run from threads of the worker, app/cli.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from huey import Huey, crontab
from huey.api import TaskWrapper

from app.services.core.queue import get_huey
from app.services.core.tracing import traced_task
from app.services.generation import lora_queue, run_queue
from app.services.notify import dispatch as email_dispatch
from app.services.studio.jobs import dispatch
from app.services.uploads import processing
from app.services.uploads.owner_emails import send_daily_summaries
from app.services.webhooks import dispatch as webhook_dispatch
from app.services.worker.maintenance import (
    grant_plan_credits,
    recover_stale_jobs,
    run_maintenance,
)


@dataclass(frozen=True)
class QueueTasks:
    run_job: TaskWrapper
    run_generation: TaskWrapper
    lora_step: TaskWrapper
    process_upload: TaskWrapper
    maintenance: TaskWrapper
    recover: TaskWrapper
    send_webhook: TaskWrapper
    send_email: TaskWrapper
    upload_summary: TaskWrapper


_lock = threading.Lock()
_ATTRIBUTE = "_jsoncraft_tasks"  # kept on the queue object itself: it lives as long as they do


def tasks_for(huey: Huey) -> QueueTasks:
    """The tasks registered on `huey`, registering them the first time this queue is seen."""
    with _lock:
        found: QueueTasks | None = getattr(huey, _ATTRIBUTE, None)
        if found is None:
            found = QueueTasks(
                run_job=dispatch.register(huey),
                run_generation=run_queue.register(huey),
                lora_step=lora_queue.register(huey),
                process_upload=processing.register(huey),
                maintenance=huey.periodic_task(
                    crontab(minute="*/15"), retries=2, retry_delay=30, name="maintenance_task"
                )(traced_task(run_maintenance, name="maintenance_task")),
                recover=huey.periodic_task(crontab(minute="*"), name="recover_jobs")(
                    traced_task(recover_stale_jobs, name="recover_jobs")
                ),
                send_webhook=webhook_dispatch.register(huey),
                send_email=email_dispatch.register(huey),
                # Hourly, for the day before: the dedupe key sends each project's summary once
                # a day, and a worker down at midnight still sends it when it is back.
                upload_summary=huey.periodic_task(crontab(minute="5"), name="upload_summary")(
                    send_daily_summaries
                ),
            )
            setattr(huey, _ATTRIBUTE, found)
        return found


huey = get_huey()
maintenance_task = tasks_for(huey).maintenance

__all__ = [
    "QueueTasks",
    "grant_plan_credits",
    "huey",
    "maintenance_task",
    "recover_stale_jobs",
    "run_maintenance",
    "tasks_for",
]
