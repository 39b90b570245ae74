"""Metrics across processes: two real processes move a counter through the real credit ledger,
and /metrics served by a third process (a web process that did none of it) counts both.

One of the two finds the shared folder in the process environment (as the run scripts set it),
the other only in its .env file (the setting hands it to prometheus_client).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from app.settings import Settings
from tests.utils.job_helpers import ROOT, make_user, worker_env

RESERVE = """
import sys
from app.services.billing import credits
from app.services.core import metrics
from app.services.core.db import session_scope

assert metrics.MULTIPROCESS_DIR is not None, "not in multiprocess mode"
user_id, amount, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with session_scope() as session:
    credits.reserve(session, user_id=user_id, amount=amount, idempotency_key=key)
"""

SCRAPE = """
from fastapi.testclient import TestClient
from app.api import create_api

answer = TestClient(create_api()).get("/metrics")
assert answer.status_code == 200, answer.text
print(answer.text)
"""


def _run(code: str, *args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return out


def test_a_scrape_from_one_process_counts_what_two_others_did(
    session: Session, isolated_settings: Settings, tmp_path: Path
) -> None:
    user = make_user(session, "ada@example.com", balance=100)
    assert user.id is not None
    shared = tmp_path / "metrics"
    shared.mkdir()
    from_env = tmp_path / "from_env"
    from_dotenv = tmp_path / "from_dotenv"
    for folder in (from_env, from_dotenv):
        folder.mkdir()
    (from_dotenv / ".env").write_text(f"PROMETHEUS_MULTIPROC_DIR={shared}\n")
    plain = worker_env(isolated_settings, PYTHONPATH=str(ROOT))
    with_dir = {**plain, "PROMETHEUS_MULTIPROC_DIR": str(shared)}

    first = _run(RESERVE, str(user.id), "3", "mp:first", env=with_dir, cwd=from_env)
    second = _run(RESERVE, str(user.id), "4", "mp:second", env=plain, cwd=from_dotenv)
    _finish(first)
    _finish(second)
    assert len(list(shared.glob("counter_*.db"))) >= 2  # one file per process

    scraped = _finish(_run(SCRAPE, env=with_dir, cwd=from_env))
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
    }
    assert samples[("jsoncraft_credits_total", (("action", "reserved"),))] == 7

    # Without the shared folder a process sees only its own counts: none of these.
    alone = _finish(_run(SCRAPE, env=plain, cwd=from_env))
    assert 'jsoncraft_credits_total{action="reserved"}' not in alone
