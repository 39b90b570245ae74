"""The REST API under the schemathesis fuzzer: every operation, every check, the stateful phase.

The real app (`create_api`) runs under uvicorn on a loopback port, on a migrated SQLite file in
the test's own DATA_DIR, with a few prompts, Stripe on a loopback fake and the offline analyzer
(the default model, so analyze answers fast), and a queue worker, so generations finish and
their progress streams (`?stream=true`) end. The `schemathesis run` CLI (pinned in
requirements-dev.txt) drives it the way the issue's run did, authenticated as an admin by an API
key: a fixed seed and bounded examples keep it repeatable and under three minutes. Narrow
exceptions live in api_fuzz.toml, each with its reason.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from app.services.accounts import api_keys
from app.services.core.models import Role
from app.settings import get_settings, reset_settings
from tests.utils.fakes.stripe_server import FakeStripeServer
from tests.utils.job_helpers import Worker, worker_env
from tests.utils.prompt_factories import make_prompt, make_user

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("api_fuzz.toml")
SEED = 20261207
MAX_EXAMPLES = 25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin_key(session: Session) -> str:
    """An admin's API key, and a few prompts (the admin's and another account's) to read."""
    admin = make_user(session, "fuzzer", role=Role.admin)
    other = make_user(session, "someone")
    for owner in (admin, other):
        make_prompt(session, owner, f"{owner.display_name}'s public prompt", visibility="public")
        make_prompt(session, owner, f"{owner.display_name}'s private prompt", visibility="private")
    key = api_keys.create_key(session, owner=admin, name="schemathesis").key
    session.commit()
    return key


@pytest.fixture
def api_url(
    session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    key = _admin_key(session)
    port = _free_port()
    with FakeStripeServer(webhook_secret="whsec_fuzz") as stripe_api:
        monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_fuzz_0123456789")
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_fuzz")
        monkeypatch.setenv("STRIPE_API_BASE", stripe_api.url)
        monkeypatch.setenv("APP_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("LOG_LEVEL", "WARNING")
        reset_settings()
        log = tmp_path / "server.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "app.api.main:create_api", "--factory"),
                    *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
                ],
                # In the test's folder, so no developer .env is read; the app imported from ROOT.
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(worker_env(get_settings()), tmp_path / "worker.log")
        try:
            _wait_until_up(f"http://127.0.0.1:{port}/api/health", server, log)
            yield f"http://127.0.0.1:{port}", key
        finally:
            worker.stop()
            server.terminate()
            server.wait(timeout=20)


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the API exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the API did not answer at {url}:\n{log.read_text()[-3000:]}")


def test_schemathesis_finds_no_failure(api_url: tuple[str, str], tmp_path: Path) -> None:
    base, key = api_url
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        *("--config-file", str(CONFIG)),
        "run",
        f"{base}/api/openapi.json",
        *("--checks", "all"),
        *("--seed", str(SEED)),
        *("--max-examples", str(MAX_EXAMPLES)),
        # Redirects are answers in themselves (Google sign-in, presigned downloads): check those.
        *("--max-redirects", "0"),
        *("--workers", "1"),
        *("--header", f"Authorization: Bearer {key}"),
        *("--report", "junit"),
        *("--report-dir", str(tmp_path / "report")),
        "--no-color",
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = run.stdout + run.stderr
    summary = output[output.find("=== SUMMARY") :] if "=== SUMMARY" in output else output[-4000:]
    assert run.returncode == 0, f"schemathesis found failures:\n{output[-20000:]}"
    # Every phase ran, the stateful one included (a run that skipped it would pass vacuously),
    # and its scenarios followed links from one operation's answer into the next.
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in summary, summary
    covered = re.search(r"API Links:\s+(\d+) covered", output)
    assert covered and int(covered.group(1)) >= 5, output[-6000:]
