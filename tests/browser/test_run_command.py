"""The README's run commands, as a person uses them: `make run` and `make dev` in a fresh copy.

The other browser tests start a production build on a free port with a private data folder. These
start the app exactly as the README says (the same Makefile target and script, the default
settings, the default `./data` folder, the worker beside it), sign up, analyze an image, save it,
and then stay on the page for a minute while the worker polls and more uploads land. The backend
must not restart in that minute: a restart drops the page's websocket and the page opens a new one,
so the test counts them. Hot reload once watched the data folder and restarted the dev backend
every few seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect

from tests.browser.conftest import ROOT, shot
from tests.browser.test_shell import new_email, sign_up
from tests.utils.images import jpeg_bytes

pytestmark = pytest.mark.browser

APP = "http://localhost:3000"
# What the README's commands would not have in a person's shell, but pytest's fixtures set.
_TEST_ONLY_ENV = (
    "DATA_DIR",
    "DATABASE_URL",
    "APP_ENV",
    "APP_URL",
    "API_URL",
    "SECRET_KEY",
    "STORAGE_BACKEND",
    "REDIS_URL",
    "LOG_",
    "OPENROUTER_",
    "STRIPE_",
    "GOOGLE_",
    "TEST_PG_URL",
    "PYTEST_",
    "REFLEX_",
    "NPM_CONFIG_REGISTRY",
)


def _port_free(port: int) -> bool:
    """Nothing listens there (connections in TIME_WAIT from a previous run don't count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _fresh_copy(dest: Path) -> Path:
    """The project's files as a clone would have them (tracked and new, not ignored), with the
    installed .venv shared so the test does not spend minutes reinstalling the same packages.
    bun is not shared: the install script's `npm ci` empties node_modules before it installs."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file() or src.is_symlink() and not src.exists():
            continue  # deleted in the working tree but not yet in the index
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fresh_copy(tmp_path_factory.mktemp("fresh-clone") / "jsoncraft")


def _person_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_TEST_ONLY_ENV)}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))
    )
    return env


class Started:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc, self.log = proc, log

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_answering(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the run command exited:\n{self.text()[-4000:]}")
            try:
                if httpx.get(url, timeout=3).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)  # polling a server that is still building, not waiting on the product
        raise AssertionError(f"{url} did not answer in {timeout:.0f}s:\n{self.text()[-4000:]}")

    def stop(self) -> None:
        """Ctrl-C's effect on the whole process group, and wait until every process in it is gone
        (make exits before the servers it started have let go of their ports)."""
        for sig, grace in ((signal.SIGINT, 30.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                self.proc.poll()  # reap make itself
                try:
                    os.killpg(self.proc.pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.2)


@pytest.fixture
def run_command(clone: Path) -> Iterator[object]:
    started: list[Started] = []

    def start(target: str) -> Started:
        for port in (3000, 8000):
            if not _port_free(port):
                pytest.fail(f"port {port} is taken: stop the app running there to run this test")
        log = clone / f"make-{target}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["make", target],
                cwd=clone,
                env=_person_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        s = Started(proc, log)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def _state_sockets(sockets: list[WebSocket]) -> list[WebSocket]:
    return [ws for ws in sockets if "/_event" in ws.url]


def _use_for_a_minute(browser: Browser, name: str) -> tuple[WebSocket, list[WebSocket]]:
    """Sign up, analyze, save; then a minute on the page with another upload in the middle.

    Returns the page's state connection once signed in (signing up ends with a full page load,
    which rightly opens a new one) and every state connection opened after it."""
    context = browser.new_context(base_url=APP, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)
    page: Page = context.new_page()
    sockets: list[WebSocket] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_up(page, new_email())
        expect(page.get_by_role("button", name="Account menu")).to_be_visible()
        live = _state_sockets(sockets)[-1]
        sockets.clear()
        upload = page.locator("#analyzer-upload input[type=file]")
        upload.set_input_files(
            files=[{"name": "first.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
        )
        expect(page.get_by_text("writing…")).to_be_hidden(timeout=120_000)
        page.get_by_role("button", name="Save to gallery").click()
        expect(page.get_by_text("Saved to the gallery (version 1).")).to_be_visible()
        shot(page, f"run-command-{name}-saved")

        # A minute on the page: the worker keeps polling its SQLite queue, and a second upload lands
        # half way. Waiting is the point of this test: restarts came every few seconds.
        page.wait_for_timeout(30_000)
        page.get_by_role("button", name="New chat").click()
        second = jpeg_bytes(color=(30, 90, 200))
        upload.set_input_files(
            files=[{"name": "second.jpg", "mimeType": "image/jpeg", "buffer": second}]
        )
        expect(page.get_by_text("writing…")).to_be_hidden(timeout=120_000)
        page.wait_for_timeout(30_000)

        # Still the same live connection: the gallery shows the saved prompt through it.
        page.get_by_role("link", name="Gallery").first.click()
        expect(page.get_by_role("heading", name="Gallery", exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Account menu")).to_be_visible()
        assert not errors, errors
        return live, _state_sockets(sockets)
    finally:
        context.close()


def _assert_one_backend(live: WebSocket, opened_after: list[WebSocket], started: Started) -> None:
    log = started.text()
    assert "refused to gracefully stop" not in log, log[-4000:]
    assert "Killing worker" not in log, log[-4000:]
    assert "reloading workers" not in log, log[-4000:]
    assert not opened_after, (
        f"the page opened {len(opened_after)} more state connections (the backend restarted):\n"
        + log[-4000:]
    )
    assert not live.is_closed()


def test_make_run_serves_a_production_build_that_stays_up(
    browser: Browser, clone: Path, run_command
) -> None:  # type: ignore[no-untyped-def]
    started = run_command("run")
    started.wait_until_answering(f"{APP}/api/health", timeout=900)
    started.wait_until_answering(APP, timeout=120)
    assert httpx.get(f"{APP}/api/health").json()["status"] == "ok"
    assert (clone / "data" / "jsoncraft.db").exists()  # the README's default data folder
    live, opened_after = _use_for_a_minute(browser, "prod")
    _assert_one_backend(live, opened_after, started)


def test_make_dev_hot_reload_ignores_the_data_folder(
    browser: Browser, clone: Path, run_command
) -> None:  # type: ignore[no-untyped-def]
    started = run_command("dev")
    started.wait_until_answering("http://localhost:8000/api/health", timeout=900)
    started.wait_until_answering(APP, timeout=300)
    live, opened_after = _use_for_a_minute(browser, "dev")
    _assert_one_backend(live, opened_after, started)
