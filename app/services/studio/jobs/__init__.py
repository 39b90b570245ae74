"""Studio jobs: batch image operations run by the queue's workers.

The life of a job (`jobs.status`)::

    receiving ──> queued ──> running ──> done | failed
                    │  ^        │
                    │  └────────┤  worker died, or a transient error awaiting its retry
                    │           └──> cancelling ──> cancelled
                    └──> cancelled   (cancelled while waiting: at once)

- records: admit (uploads stored, credits reserved), read, cancel, finish, settle.
- dispatch: the queue's `run_job` task; create_job (admit, then enqueue); handing jobs back.
- runner: the worker's side (`run_job`), through the engine in app/services/studio/imageops.
- lease: which worker holds a job, heartbeats, claiming and handing back.
- recovery: re-queue jobs of dead workers and lost queue entries; purge old jobs.
- costs: the price preview; archive: the zip download and sending an output to the analyzer.
- describe_step: "Describe as JSON prompts" for one image (analyzer → gallery prompt tagged
  studio-job-<id>); describe_credits: its credits, reserved and settled per image.
"""

from app.services.studio.jobs.archive import send_output_to_analyzer, write_zip
from app.services.studio.jobs.costs import CostPreview, estimate_cost, job_cost
from app.services.studio.jobs.dispatch import create_job
from app.services.studio.jobs.records import (
    MODES,
    PRIORITY,
    Mode,
    cancel_job,
    check_batch_size,
    get_job,
    list_jobs,
)
from app.services.studio.jobs.recovery import purge_old_jobs, recover_jobs
from app.services.studio.jobs.runner import run_job
from app.services.studio.jobs.views import ItemStatus, ItemView, JobStatus, JobView, OutputView

__all__ = [
    "MODES",
    "PRIORITY",
    "CostPreview",
    "ItemStatus",
    "ItemView",
    "JobStatus",
    "JobView",
    "Mode",
    "OutputView",
    "cancel_job",
    "check_batch_size",
    "create_job",
    "estimate_cost",
    "get_job",
    "job_cost",
    "list_jobs",
    "purge_old_jobs",
    "recover_jobs",
    "run_job",
    "send_output_to_analyzer",
    "write_zip",
]
