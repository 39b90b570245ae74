"""Shared pieces of the studio job tests: accounts with credits, inputs, and running the queue."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from huey.api import Task
from PIL import Image
from sqlmodel import Session

from app.services.accounts import auth
from app.services.billing import credits
from app.services.core.models import User
from app.services.core.queue import get_huey
from app.services.studio.imageops.spec import OpsSpec, parse_spec
from app.services.worker.tasks import tasks_for
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
RESIZE_WEBP: dict[str, Any] = {"resize": {"long_edge": 64}, "convert": {"format": "webp"}}


def make_user(
    session: Session, email: str, *, plan: str = "free", balance: int = 0, role: str = "user"
) -> User:
    user = auth.create_user(session, email=email, password=PASSWORD)
    user.plan = plan
    user.role = role
    session.add(user)
    session.commit()
    assert user.id is not None
    if balance:
        credits.purchase(
            session,
            user_id=user.id,
            amount=balance,
            reason="test credits",
            idempotency_key=f"test:{uuid.uuid4().hex}",
        )
    return user


def spec(raw: dict[str, Any] | None = None) -> OpsSpec:
    return parse_spec(raw if raw is not None else RESIZE_WEBP)


def photo(size: tuple[int, int] = (96, 72), color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def noisy_photo(size: tuple[int, int], seed: int = 0) -> bytes:
    """A photo-like JPEG (noise compresses badly, so decoding and encoding it is real work)."""
    image = Image.effect_noise(size, 60 + seed % 20).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def uploads(*files: tuple[str, bytes]) -> list[tuple[str, BinaryIO]]:
    return [(name, io.BytesIO(data)) for name, data in files]


def zip_of(*files: tuple[str, bytes]) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buf.getvalue()


def queued_tasks() -> list[Task]:
    """The studio job tasks waiting in this test's queue (a worker also queues periodic ones)."""
    return [task for task in get_huey().pending() if task.name == "run_job"]


def run_queue() -> list[Any]:
    """Run every task waiting in this test's queue, highest priority first, like a worker."""
    huey = get_huey()
    tasks_for(huey)
    ran = []
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran.append(task)
    return ran


def run_retries() -> list[Task]:
    """Run the retries the queue scheduled, without waiting for their delay."""
    huey = get_huey()
    due = huey.read_schedule(datetime.now() + timedelta(days=1))
    for task in due:
        huey.execute(task, timestamp=task.eta)
    return due


# -- worker processes (integration tests) ------------------------------------------------------


class Worker:
    """`python -m app.cli worker` in its own process group (its pool processes included)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        Path(env["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--workers", "1"],
            env=env,
            cwd=env["DATA_DIR"],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the whole group, like the OOM killer or a pulled plug."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)  # reaped, so its pid is really gone
        self._out.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": str(ROOT),
        "APP_ENV": "test",
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "DATA_DIR": str(settings.data_dir.resolve()),
        "LOG_JSON": "false",
    }
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    env.update(extra)
    return env


def wait_for(
    check: Callable[[], bool], *, timeout: float, what: str, workers: list[Worker]
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            logs = "\n---\n".join(w.output() for w in workers)
            pytest.fail(f"timed out waiting for {what}; worker output:\n{logs}")
        time.sleep(0.1)
