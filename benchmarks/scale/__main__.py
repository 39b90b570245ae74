"""One scaled-out deployment under load, on loopback: the test behind `make test-scale`.

    scripts/test_scale.sh [--users 50] [--seconds 120]      (starts PostgreSQL, Redis, S3 first)

Two Reflex backends (production mode, one granian worker each) and two queue workers share
PostgreSQL, Redis (Reflex state, job queue, rate limits) and S3; OpenRouter, Together and a
webhook receiver are loopback fakes. Before the load it proves the backends share state: a
sign-in refused on one backend after failures counted on the other (the Redis rate limit), and
a Reflex state set over one backend's websocket read back over the other's (reflex_state.py);
sessions made on one are used on the other throughout (every request alternates). Then
`--users` people work for `--seconds` (see load.py); halfway through, one queue worker is
killed with SIGKILL and a replacement started. After a bounded wait for the queue to drain it
checks that no response was a 5xx, every credit ledger is exact, every studio job, generation
and webhook delivery was done once, and no upload was lost (checks.py). Prints throughput and
p50/p95 latency per request kind. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from app.services.core.storage import get_storage
from app.settings import reset_settings
from benchmarks.scale.checks import check_all, wait_for_drain
from benchmarks.scale.cluster import Cluster, Fakes, app_env, fakes_running
from benchmarks.scale.load import PASSWORD, SESSION_COOKIE, Outcome, Person, Stats, report
from benchmarks.scale.reflex_state import prove_shared_state

PROJECTS = 5  # the free plan presigns 60 files a minute per project: people share five
DRAIN_LIMIT = 180.0  # recovery of a killed worker's jobs runs each minute


def _say(text: str) -> None:
    print(text, flush=True)  # noqa: T201


def _make_projects(cluster: Cluster, fakes: Fakes, run_id: str) -> list[str]:
    """Project owners sign up; `app.cli create-project` gives each a project and key, and the
    key adds a webhook endpoint for upload.completed at the loopback receiver."""
    app = cluster.env["APP_URL"]
    keys = []
    for number in range(PROJECTS):
        email = f"owner-{run_id}-{number}@example.com"
        form = {"email": email, "password": PASSWORD, "confirm": PASSWORD, "name": "Owner"}
        signed = httpx.post(f"{app}/api/auth/sign-up", data=form, headers={"Origin": app})
        if signed.status_code != 303 or SESSION_COOKIE not in signed.cookies:
            raise RuntimeError(f"owner sign-up failed: {signed.status_code}")
        made = json.loads(cluster.cli("create-project", email, f"Load {number}", "--json"))
        hook = httpx.post(
            f"{app}/api/projects/{made['project_id']}/webhooks",
            headers={"Authorization": f"Bearer {made['key']}"},
            json={"url": f"{fakes.webhooks.url}/hooks/{number}", "events": ["upload.completed"]},
        )
        if hook.status_code != 201:
            raise RuntimeError(f"webhook endpoint refused: {hook.status_code} {hook.text}")
        keys.append(made["key"])
    return keys


def _prove_shared_rate_limits(backends: list[str], app_url: str, run_id: str) -> str:
    """Sign-in allows 10 failures a minute per email: 5 on each backend, then the right
    password on either is refused. Counters kept per process would have let it in."""
    email = f"limits-{run_id}@example.com"
    transport = httpx.HTTPTransport(local_address="127.0.250.1")
    with httpx.Client(transport=transport, headers={"Origin": app_url}) as client:
        form = {"email": email, "password": PASSWORD, "confirm": PASSWORD, "name": "Limits"}
        made = client.post(f"{backends[0]}/api/auth/sign-up", data=form)
        if SESSION_COOKIE not in made.cookies:
            raise RuntimeError("the rate-limit account could not sign up")
        client.cookies.clear()
        for attempt in range(10):
            wrong = {"email": email, "password": f"wrong-{attempt}-password"}
            client.post(f"{backends[attempt % 2]}/api/auth/sign-in", data=wrong)
        client.cookies.clear()
        form = {"email": email, "password": PASSWORD}
        right = client.post(f"{backends[1]}/api/auth/sign-in", data=form)
        if SESSION_COOKIE in right.cookies:
            raise AssertionError("rate limits are not shared: 5 failures per backend let it in")
    return "rate limits shared: 10 failed sign-ins across both backends lock the 11th out"


def _logged_errors(logs: Path) -> list[str]:
    """Each process's logged errors, the last line of each traceback counted once per kind."""
    found: Counter[str] = Counter()
    for log in sorted(logs.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if '"level": "ERROR"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            last = (record.get("exc_info") or record.get("message", "")).strip().splitlines()[-1:]
            found[f"{log.stem}: {(last or [''])[0][:160]}"] += 1
    return [f"{count} x {what}" for what, count in found.most_common(10)]


async def _run_load(
    cluster: Cluster, people: list[Person], seconds: float, stats: Stats
) -> tuple[float, str]:
    started = time.monotonic()
    until = started + seconds
    ramp = min(10.0, seconds / 4)

    async def person(p: Person, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await p.run(until)
        except Exception as e:  # one person's failure is recorded, the others go on
            stats.errors.append(f"person {p.number}: {type(e).__name__}: {e}")

    async def kill_a_worker() -> str:
        await asyncio.sleep(seconds / 2)
        victim = cluster.workers[0]
        victim.kill(signal.SIGKILL)
        await asyncio.to_thread(victim.popen.wait)
        cluster.start_worker("worker-3", periodic=True)
        at = time.monotonic() - started
        return f"SIGKILLed {victim.name} (and its image pool) at {at:.0f} s; started worker-3"

    tasks = [person(p, ramp * i / len(people)) for i, p in enumerate(people)]
    killed, *_ = await asyncio.gather(kill_a_worker(), *tasks)
    return time.monotonic() - started, killed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--ports", default="57020,57021", help="the two backends' ports")
    args = parser.parse_args(argv)
    ports = [int(p) for p in args.ports.split(",")]
    run_id = uuid.uuid4().hex[:8]
    random.seed(run_id)
    wall = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="jsoncraft-scale-"))
    logs = Path(os.environ.get("SCALE_LOG_DIR", data_dir / "logs"))
    logs.mkdir(parents=True, exist_ok=True)
    app_url = f"http://127.0.0.1:{ports[0]}"  # what the load balancer would be
    with fakes_running() as fakes:
        cluster = Cluster(env=app_env(fakes=fakes, app_url=app_url, data_dir=data_dir), logs=logs)
        os.environ.update(cluster.env)  # this process reads the same database and bucket
        reset_settings()
        try:
            get_storage().ensure_bucket()
            cluster.cli("migrate")
            for port in ports:
                # One after another: `reflex run` empties .states/ as it starts, and two doing
                # it at once race on the same files (FileNotFoundError kills one of them).
                cluster.start_backend(port)
                cluster.wait_ready()
            cluster.start_worker("worker-1", periodic=True)
            cluster.start_worker("worker-2", periodic=False)
            cluster.wait_ready()
            up = time.monotonic() - wall
            _say(f"==> backends {cluster.backends} and 2 workers up ({up:.0f} s); logs: {logs}")
            _say(f"==> {_prove_shared_rate_limits(cluster.backends, app_url, run_id)}")
            _say(f"==> {asyncio.run(prove_shared_state(cluster.backends))}")
            keys = _make_projects(cluster, fakes, run_id)
            stats, outcome = Stats(), Outcome()
            people = [
                Person(n, backends=cluster.backends, app_url=app_url,
                       project_key=keys[n % PROJECTS], stats=stats, outcome=outcome, run_id=run_id)
                for n in range(args.users)
            ]  # fmt: skip
            _say(f"==> {args.users} people for {args.seconds:.0f} s over both backends")
            elapsed, killed = asyncio.run(_run_load(cluster, people, args.seconds, stats))
            _say(f"==> {killed}")
            drain_started = time.monotonic()
            left = wait_for_drain(outcome, limit=DRAIN_LIMIT)
            _say(f"==> queue drained in {time.monotonic() - drain_started:.0f} s; left: {left}")
            provider_calls = sum(1 for r in fakes.together.requests if r.method == "POST")
            found = check_all(outcome, receiver=fakes.webhooks, provider_calls=provider_calls)
        finally:
            cluster.stop_all()
    _say("")
    _say(report(stats, elapsed))
    _say("")
    for fact in found.facts:
        _say(f"ok: {fact}")
    problems = [*found.problems]
    problems += [f"5xx: {e}" for e in stats.server_errors[:20]]
    problems += [f"error: {e}" for e in stats.errors[:20]]
    if any(left.values()):
        problems.append(f"the queue did not drain in {DRAIN_LIMIT:.0f} s: {left}")
    for logged in _logged_errors(logs):
        _say(f"logged: {logged}")
    for problem in problems[:60]:
        _say(f"FAIL: {problem}")
    _say(f"==> wall time {time.monotonic() - wall:.0f} s; {'FAILED' if problems else 'passed'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
