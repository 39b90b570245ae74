"""Browser tests: the real app (`reflex run --env prod`) on free ports, driven by Debian chromium.

Every page's console errors fail the test; each test can save screenshots under .ci/screenshots.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.utils.fakes.fal_training_server import KEY as FAL_KEY
from tests.utils.fakes.fal_training_server import FakeFalTrainingServer
from tests.utils.fakes.openai_server import FakeOpenAIServer
from tests.utils.fakes.stripe_server import FakeStripeServer
from tests.utils.fakes.together_server import KEY as TOGETHER_KEY
from tests.utils.fakes.together_server import FakeTogetherServer
from tests.utils.oidc import OidcProvider

STRIPE_WEBHOOK_SECRET = "whsec_browser_test_secret"

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".ci" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningApp:
    url: str
    api_url: str
    data_dir: Path
    env: dict[str, str]

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,  # the seed alone takes two minutes on a busy 2-core machine
        )


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the app did not answer at {url}:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def fake_openrouter() -> Iterator[FakeOpenAIServer]:
    """A loopback OpenRouter the app's paid models talk to (real SSE over HTTP)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def google_mock(oidc_provider: OidcProvider) -> OidcProvider:
    """The OpenID provider standing in for Google (started once, in tests/conftest.py)."""
    return oidc_provider


@pytest.fixture(scope="session")
def app_port() -> int:
    return _free_port()


@pytest.fixture(scope="session")
def fake_stripe(app_port: int) -> Iterator[FakeStripeServer]:
    """Stripe's API and hosted checkout on loopback; paying sends a signed webhook to the app."""
    webhook = f"http://localhost:{app_port}/api/stripe/webhook"
    with FakeStripeServer(webhook_url=webhook, webhook_secret=STRIPE_WEBHOOK_SECRET) as server:
        yield server


@pytest.fixture(scope="session")
def fake_fal() -> Iterator[FakeFalTrainingServer]:
    """Fal's queue on loopback: it fetches the training zip from the app and calls back its
    webhook (the app's public base URL), signed with the key it serves as JWKS."""
    with FakeFalTrainingServer() as server:
        yield server


@pytest.fixture(scope="session")
def fake_together() -> Iterator[FakeTogetherServer]:
    """Together AI's image API and CDN on loopback (its FLUX models on /generate)."""
    with FakeTogetherServer() as server:
        yield server


@pytest.fixture(scope="session")
def app_server(
    tmp_path_factory: pytest.TempPathFactory,
    fake_openrouter: FakeOpenAIServer,
    fake_stripe: FakeStripeServer,
    fake_fal: FakeFalTrainingServer,
    fake_together: FakeTogetherServer,
    google_mock: OidcProvider,
    app_port: int,
) -> Iterator[RunningApp]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian chromium is missing at {CHROMIUM}: run `make test`, which installs it")
    data_dir = tmp_path_factory.mktemp("browser-data")
    # In prod mode Reflex serves the built frontend and the backend on one port.
    front = back = app_port
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "APP_ENV": "development",
        "APP_URL": f"http://localhost:{front}",
        "API_URL": f"http://localhost:{back}",
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
        "OPENROUTER_API_KEY": "sk-or-browser-test",
        "OPENROUTER_BASE_URL": fake_openrouter.url,
        "STRIPE_SECRET_KEY": "sk_test_browser_0123456789",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake_stripe.url,
        "GOOGLE_CLIENT_ID": "jsoncraft-browser-test",
        "GOOGLE_CLIENT_SECRET": "browser-test-secret",
        "GOOGLE_DISCOVERY_URL": f"{google_mock.url}/.well-known/openid-configuration",
        "FAL_KEY": FAL_KEY,
        "FAL_QUEUE_URL": fake_fal.url,
        "FAL_JWKS_URL": fake_fal.jwks_url,
        "PUBLIC_BASE_URL": f"http://localhost:{back}",
        "LORA_POLL_INTERVAL_SECONDS": "1",
        "TOGETHER_API_KEY": TOGETHER_KEY,
        "TOGETHER_BASE_URL": fake_together.base_url,
        # Projects' own buckets on the loopback S3 server (tests/browser/test_project_storage.py).
        "BUCKET_ALLOW_PRIVATE_ENDPOINTS": "true",
        # Webhook tests send to a receiver on loopback, which production refuses (SSRF).
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        # What scripts/env.sh sets, so running pytest directly works too.
        "PATH": os.pathsep.join(
            [
                str(ROOT / "tools" / "node_modules" / ".bin"),
                str(ROOT / ".venv" / "bin"),
                os.environ["PATH"],
            ]
        ),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "0",
    }
    for name in ("DATABASE_URL", "STORAGE_BACKEND", "REDIS_URL"):
        env.pop(name, None)
    app = RunningApp(f"http://localhost:{front}", f"http://localhost:{back}", data_dir, env)
    app.cli("migrate")
    app.cli("seed")
    # The studio's jobs run on the queue: a worker beside the app, as in production. Without
    # the clock-driven maintenance: at :00, :15... it grants every account its plan's monthly
    # credits, which would change the balances tests read in the middle of a test.
    with (data_dir / "worker.log").open("wb") as worker_out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--no-periodic"],
            cwd=ROOT,
            env=env,
            stdout=worker_out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        log = data_dir / "reflex.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "reflex"),
                    "run",
                    "--env",
                    "prod",
                    "--frontend-port",
                    str(front),
                    "--backend-port",
                    str(back),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_for(f"{app.api_url}/api/health", proc, log, timeout=600)
            _wait_for(app.url, proc, log, timeout=120)
            yield app
        finally:
            _stop(proc)
    finally:
        _stop(worker)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass  # it had already exited (the error above says why)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class ConsoleWatch:
    errors: list[str] = field(default_factory=list)
    allowed_404_urls: set[str] = field(default_factory=set)

    def allow_404(self, url: str) -> None:
        """The 404 page is served with HTTP 404, which the browser logs: expected there only."""
        self.allowed_404_urls.add(url)

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        if "404" in msg.text and msg.location.get("url") in self.allowed_404_urls:
            return
        self.errors.append(f"{msg.text} @ {msg.location}")

    def on_page_error(self, exc: Exception) -> None:
        self.errors.append(f"page error: {exc}")


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def page(
    browser: Browser, app_server: RunningApp, console: ConsoleWatch, request: pytest.FixtureRequest
) -> Iterator[Page]:
    context = browser.new_context(base_url=app_server.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.on("console", console.on_console)
    pg.on("pageerror", console.on_page_error)
    yield pg
    context.close()
    assert not console.errors, f"console errors in {request.node.name}: {console.errors}"


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ensure_clean_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
