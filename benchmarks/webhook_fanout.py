"""Webhook fan-out: 1,000 events to a loopback receiver that fails the first attempt of 30 %.

    .venv/bin/python -m benchmarks.webhook_fanout [--events 1000] [--retry-scale 0.001]
                                                [--threads 8] [--fail-share 0.3]

A real queue worker (`python -m app.cli worker`, its sweep included) sends the deliveries that
1,000 `emit` calls (one transaction each, as uploads make them) queue on a fresh SQLite
database. The receiver verifies every request with the `standardwebhooks` library and answers
500 to the first attempt of 30 % of the messages (chosen by their id); the retry schedule is
multiplied by --retry-scale for this run only (WEBHOOK_RETRY_SCALE), so the 5 s retry comes
after 5 ms. Prints the time and deliveries per second, then checks and prints that every
event ended delivered, none was lost, and none was delivered under a new id.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--retry-scale", type=float, default=0.001)
    parser.add_argument("--threads", type=int, default=8, help="worker threads")
    parser.add_argument("--fail-share", type=float, default=0.3)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="webhook-fanout-"))
    run_env = {
        "DATA_DIR": str(data_dir),
        "APP_ENV": "test",
        "SECRET_KEY": "benchmark-secret-key-that-is-long-enough-0123",
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",  # the receiver is on loopback
        "WEBHOOK_RETRY_SCALE": str(args.retry_scale),
        "WEBHOOK_SWEEP_SECONDS": "0.2",
    }
    os.environ.update(run_env)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)

    from sqlmodel import select
    from standardwebhooks import Webhook

    from app.services.accounts import auth
    from app.services.accounts.api_keys import create_key
    from app.services.core.db import session_scope
    from app.services.core.migrations import upgrade_to_head
    from app.services.core.models import WebhookDelivery
    from app.services.webhooks.endpoints import create_endpoint
    from app.services.webhooks.outbox import emit
    from app.settings import reset_settings
    from tests.utils.fakes.webhook_receiver import Received, Reply, WebhookReceiver

    reset_settings()
    upgrade_to_head()
    seen: Counter[str] = Counter()
    bad_signatures: list[str] = []
    lock = threading.Lock()
    secret_holder: dict[str, str] = {}

    def fails_first(message_id: str) -> bool:
        digest = hashlib.sha256(message_id.encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < args.fail_share

    def decide(request: Received) -> Reply:
        message_id = request.headers.get("webhook-id", "")
        try:
            Webhook(secret_holder["secret"]).verify(request.body, request.headers)
        except Exception:
            bad_signatures.append(message_id)
        with lock:
            seen[message_id] += 1
            first = seen[message_id] == 1
        return Reply(500, b"try again") if first and fails_first(message_id) else Reply(200)

    with WebhookReceiver() as receiver:
        receiver.decide = decide
        with session_scope() as session:
            user = auth.create_user(
                session, email="bench@example.com", password="correct horse battery staple"
            )
            project_id = create_key(session, owner=user, project_name="Bench").project_id
            secret_holder["secret"] = create_endpoint(
                session, project_id=project_id, url=receiver.url, events=["upload.completed"]
            ).secret

        log_path = data_dir / "worker.log"
        with log_path.open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker", "--workers", str(args.threads)],
                cwd=ROOT,
                env={**os.environ, **run_env, "PYTHONPATH": str(ROOT)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            emitted: list[str] = []
            started = time.perf_counter()
            for n in range(args.events):
                with session_scope() as session:
                    emitted += emit(
                        session,
                        project_id=project_id,
                        event_type="upload.completed",
                        data={"id": f"up_bench{n}", "name": f"file-{n}.png"},
                    )
            emitted_at = time.perf_counter() - started
            deadline = time.monotonic() + args.timeout
            while True:
                with session_scope() as session:
                    statuses = Counter(
                        session.exec(
                            select(WebhookDelivery.status).where(
                                WebhookDelivery.project_id == project_id
                            )
                        ).all()
                    )
                if statuses["succeeded"] == len(emitted) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    requests = sum(seen.values())
    expected_fail = sum(1 for m in emitted if fails_first(m))
    unknown_ids = set(seen) - set(emitted)
    lost = [m for m in emitted if seen[m] == 0]
    print(f"events: {len(emitted)} (emitted in {emitted_at:.1f} s, one transaction each)")
    print(f"first attempts failed on purpose: {expected_fail} ({args.fail_share:.0%})")
    print(f"all delivered after {elapsed:.1f} s: {len(emitted) / elapsed:.1f} deliveries/s")
    print(f"  of which after the last emit: {elapsed - emitted_at:.1f} s")
    print(f"HTTP requests received: {requests} ({requests - len(emitted)} retries)")
    print(f"delivery statuses: {dict(statuses)}")
    print(f"distinct webhook-ids received: {len(seen)}; ids never emitted: {len(unknown_ids)}")
    print(f"signatures that failed verification: {len(bad_signatures)}")
    checks = {
        "every event ended delivered": statuses["succeeded"] == len(emitted) == args.events,
        "none lost (each id received)": not lost,
        "none delivered under a new id": not unknown_ids and len(seen) == len(emitted),
        "each failed-first message retried under its id": all(
            seen[m] >= 2 for m in emitted if fails_first(m)
        ),
        "every signature verified": not bad_signatures,
    }
    for name, ok in checks.items():
        print(f"check: {name}: {'OK' if ok else 'FAILED'}")
    if not all(checks.values()):
        print(log_path.read_text(errors="replace")[-3000:])
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
