"""The deployment under test: two Reflex backends and two queue workers as real processes, all on
one PostgreSQL, one Redis (Reflex state, queue, rate limits) and one S3 server, with the model
providers and a webhook receiver as loopback fakes in this process.

PostgreSQL, Redis and S3 are started by scripts/test_scale.sh (it traps their cleanup); this
module starts and stops the app's own processes, each in a session of its own so that a stop
(or the SIGKILL of a crash) reaches its children too: granian's worker, the image pool.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.utils.fakes import together_server
from tests.utils.fakes.openai_server import FakeOpenAIServer
from tests.utils.fakes.together_server import FakeTogetherServer
from tests.utils.fakes.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0  # a backend imports the whole app: slow on a busy 2-core machine


@dataclass
class Fakes:
    openrouter: FakeOpenAIServer
    together: FakeTogetherServer
    webhooks: WebhookReceiver


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Signal the whole session (the process and what it started)."""
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 15.0) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self.kill(signal.SIGKILL)  # stragglers of the group, even after the leader exited
        self.popen.wait()


@dataclass
class Cluster:
    env: dict[str, str]
    logs: Path
    backends: list[str] = field(default_factory=list)
    procs: list[Proc] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str]) -> Proc:
        log = self.logs / f"{name}.log"
        out = log.open("ab")
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def start_backend(self, port: int) -> str:
        reflex = str(Path(sys.executable).parent / "reflex")
        argv = [reflex, "run", "--env", "prod", "--backend-only", "--backend-host", "127.0.0.1"]
        self.start(f"backend-{port}", [*argv, "--backend-port", str(port)])
        url = f"http://127.0.0.1:{port}"
        self.backends.append(url)
        return url

    def start_worker(self, name: str, *, periodic: bool) -> Proc:
        argv = [sys.executable, "-m", "app.cli", "worker", "--workers", "2"]
        proc = self.start(name, argv if periodic else [*argv, "--no-periodic"])
        self.workers.append(proc)
        return proc

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        for url in self.backends:
            while True:
                dead = [p.name for p in self.procs if not p.alive()]
                if dead:
                    raise RuntimeError(f"{dead} exited at start; see {self.logs}")
                try:
                    if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer /ping in {START_TIMEOUT:.0f} s")
                time.sleep(0.5)

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"app.cli {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


def app_env(*, fakes: Fakes, app_url: str, data_dir: Path) -> dict[str, str]:
    """The settings every process shares, as a deployment's .env would hold them. The service
    URLs (DATABASE_URL, REDIS_URL, S3_*) come from the environment scripts/test_scale.sh made."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT_URL"):
        if not env.get(name):
            raise RuntimeError(f"{name} is not set: run this through scripts/test_scale.sh")
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        APP_URL=app_url,
        API_URL=app_url,
        DATA_DIR=str(data_dir),
        LOG_JSON="true",
        LOG_LEVEL="WARNING",
        # Reflex keeps each tab's state in Redis, so any backend can serve any event.
        REFLEX_REDIS_URL=env["REDIS_URL"],
        # One granian worker per backend: the test's two backends are the scale-out.
        GRANIAN_WORKERS="1",
        STORAGE_BACKEND="s3",
        S3_BUCKET="jsoncraft-scale",
        SEED_DEMO="false",
        OPENROUTER_API_KEY="sk-or-scale-test",
        OPENROUTER_BASE_URL=fakes.openrouter.url,
        TOGETHER_API_KEY=together_server.KEY,
        TOGETHER_BASE_URL=fakes.together.base_url,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
        # A killed worker's jobs and deliveries are picked up again after these (defaults
        # 120 s and 60 s): short, so the test sees the hand-over within its bounded wait.
        JOB_STALE_SECONDS="10",
        WEBHOOK_LEASE_SECONDS="10",
        IMAGEOPS_WORKERS="1",
    )
    return env


@contextmanager
def fakes_running() -> Iterator[Fakes]:
    with ExitStack() as stack:
        yield Fakes(
            openrouter=stack.enter_context(FakeOpenAIServer()),
            together=stack.enter_context(FakeTogetherServer()),
            webhooks=stack.enter_context(WebhookReceiver()),
        )
