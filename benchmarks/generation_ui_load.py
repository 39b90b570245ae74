"""Does the UI stay quick while 20 generations run? Event-handler latency from a real browser.

    .venv/bin/python -m benchmarks.generation_ui_load [--samples 100] [--latency 2-4]
        [--load together,layout-preview] [--worker-threads 2] [--postgres]

Starts the app as the browser tests do (`reflex run --env prod`, a production build) with a
queue worker beside it on the same database, as scripts/run.sh does, and Together's loopback
fake answering each image after a random 2-4 s, as the real API does. A person signs up in
Chromium and gets credits; then, per phase, the page times two actions from the input event
to the DOM change (performance.now() and a MutationObserver, in the page):

    search   type a word in the gallery search and press Enter: two handlers (set the filter,
             apply it) and a full-text query against the database the worker writes to
    view     switch the gallery between grid and list: one handler, no database

First with nothing running (baseline), then while 20 generations run, started at once through
the service:
    together         n = 1, 2, 3, 4 in turn, from Together's fake with its latency: the worker
                     mostly waits, then downloads, embeds metadata and stores each image
    layout-preview   n = 4, from the offline renderer: the worker is busy on the CPU

Prints p50/p95 per action and phase, the ratio to the baseline, and how many of the 20
generations were still queued or running when the phase's last sample was taken. A phase
stops early when none is left running (the layout preview can finish its 80 images before
100 samples; it looks every 5), so the samples are taken under load. What is left is
cancelled before the next phase. Target: p95 under 200 ms under load. Then the warnings and
errors the worker logged. `--postgres` runs the app, the worker and this script on PostgreSQL
(scripts/postgres.sh, PG_PORT) instead of the SQLite file.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright
from sqlmodel import col, select

from app.services.billing import credits
from app.services.core.db import session_scope
from app.services.core.errors import ConflictError
from app.services.core.models import Generation, GenerationImage, User
from app.services.generation import runs
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.run_records import RunStatus
from app.services.generation.types import MAX_IMAGES
from app.settings import reset_settings
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, _stop, _wait_for
from tests.browser.test_shell import PASSWORD, sign_up
from tests.utils.fakes.together_server import KEY, FakeTogetherServer

ROOT = Path(__file__).resolve().parents[1]
GENERATIONS = 20
TOGETHER_MODEL = "black-forest-labs/FLUX.1-schnell"
TARGET_P95_MS = 200.0
SEARCH_WORDS = ("lighthouse", "dunes")  # each finds one demo prompt, and never the other's
SAMPLE_TIMEOUT_MS = 60_000
CHECK_EVERY = 5  # samples between two looks at whether the generations still run
# The scene the runs draw: it shares no word with SEARCH_WORDS, so an image that lands in the
# gallery as a prompt can't change what the searches find.
BENCH_PROMPT: dict[str, Any] = {
    "schema_version": "1.0",
    "scene": "A red tram crossing a bridge in light rain, benchmark scene",
    "subjects": [{"type": "object", "description": "a red tram", "position": "center"}],
    "style": {"medium": "photograph"},
    "color_palette": [{"hex": "#b3261e"}, {"hex": "#3a4a5c"}, {"hex": "#d9d4c7"}],
    "lighting": {"conditions": "overcast"},
    "composition": {"framing": "wide shot"},
    "text_render": [{"text": "LINE 7", "position": "top left"}],
}

# Armed before each action; the page records the input event's time and the moment the DOM
# shows the answer, so neither Playwright's polling nor the wire to it is in the figure.
ARM = """([kind, expected]) => {
  const mark = {start: null, end: null};
  window.__uiLoad = mark;
  const cards = () => [...document.querySelectorAll('.prompt-card')];
  const answered = kind === 'search'
    ? () => cards().length > 0
        && cards().every(c => c.textContent.toLowerCase().includes(expected))
    : () => (document.querySelector('table .prompt-card') !== null) === (expected === 'list');
  const input = kind === 'search' ? 'keydown' : 'pointerdown';
  window.addEventListener(input, e => { mark.start = e.timeStamp; }, {capture: true, once: true});
  const observer = new MutationObserver(() => {
    if (mark.start !== null && answered()) {
      mark.end = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document.body,
                   {childList: true, subtree: true, characterData: true, attributes: true});
}"""


class SlowTogether(FakeTogetherServer):
    """Together's fake, answering each generation after `latency` seconds (uniform within)."""

    def __init__(self, latency: tuple[float, float]) -> None:
        super().__init__()
        self.latency = latency
        # The worker is stopped with keep-alive connections open: no traceback for each.
        self._httpd.handle_error = lambda *_: None  # type: ignore[method-assign]

    def _generate(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        time.sleep(random.uniform(*self.latency))  # each request has its own server thread
        return super()._generate(body)


@dataclass
class Phase:
    name: str
    samples: dict[str, list[float]]  # action -> milliseconds
    still_running: int | None = None  # of GENERATIONS, when the last sample was taken
    states: Counter[str] = field(default_factory=Counter)  # runs and images by status, then
    seconds: float = 0.0


def _environment(data_dir: Path, together: FakeTogetherServer, database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "APP_ENV": "development",
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
        "TOGETHER_API_KEY": KEY,
        "TOGETHER_BASE_URL": together.base_url,
        "PATH": os.pathsep.join([str(ROOT / "tools" / "node_modules" / ".bin"),
                                 str(ROOT / ".venv" / "bin"), os.environ["PATH"]]),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "0",
    }  # fmt: skip
    for name in ("DATABASE_URL", "STORAGE_BACKEND", "REDIS_URL", "OPENROUTER_API_KEY"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=900)  # fmt: skip


@contextlib.contextmanager
def _running_app(env: dict[str, str], data_dir: Path, worker_threads: int) -> Iterator[str]:
    """The queue worker and the production app, each in its own process group; yields the URL."""
    port = _free_port()
    env = {**env, "APP_URL": f"http://localhost:{port}", "API_URL": f"http://localhost:{port}"}
    _cli(env, "migrate")
    _cli(env, "seed")
    with (data_dir / "worker.log").open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--no-periodic",
             "--workers", str(worker_threads)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        log = data_dir / "reflex.log"
        with log.open("wb") as out:
            app = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "reflex"), "run", "--env", "prod",
                 "--frontend-port", str(port), "--backend-port", str(port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            url = f"http://localhost:{port}"
            _wait_for(f"{url}/api/health", app, log, timeout=900)
            _wait_for(url, app, log, timeout=120)
            yield url
        finally:
            _stop(app)
    finally:
        _stop(worker)


@contextlib.contextmanager
def _postgres() -> Iterator[str]:
    script = ROOT / "scripts" / "postgres.sh"
    started = subprocess.run([str(script), "start"], capture_output=True, text=True, check=True)
    url = started.stdout.strip().splitlines()[-1]
    try:
        from sqlalchemy import text

        from app.services.core.db import engine_for

        with engine_for(url).begin() as conn:  # a clean database for this run
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        yield url
    finally:
        subprocess.run([str(script), "stop"], check=False)


def _use_in_this_process(env: dict[str, str]) -> None:
    """This process starts the runs through the service: same database, queue and keys."""
    for name in ("DATA_DIR", "APP_ENV", "TOGETHER_API_KEY", "TOGETHER_BASE_URL", "DATABASE_URL"):
        if name in env:
            os.environ[name] = env[name]
        else:
            os.environ.pop(name, None)
    reset_settings()


def _give_credits(email: str) -> User:
    with session_scope() as session:
        user = session.exec(select(User).where(col(User.email) == email)).one()
        assert user.id is not None
        credits.purchase(session, user_id=user.id, amount=10_000, reason="benchmark credits",
                         idempotency_key=f"bench:{uuid.uuid4().hex}")  # fmt: skip
        return user


def _start_generations(user: User, load: str) -> list[int]:
    """GENERATIONS runs started back to back through the service: for Together n = 1, 2, 3, 4
    in turn; for the layout preview, which draws an image in a fraction of a second, the most
    a run takes (4), so the CPU stays busy for the whole phase."""
    model = TOGETHER_MODEL if load == "together" else OFFLINE_MODEL_ID
    ids = []
    with session_scope() as session:
        for i in range(GENERATIONS):
            n = i % MAX_IMAGES + 1 if load == "together" else MAX_IMAGES
            view = runs.start_generation(session, user=user, model=model, prompt=BENCH_PROMPT,
                                         n=n, aspect="16:9")  # fmt: skip
            ids.append(view.id)
    return ids


def _progress(ids: list[int]) -> tuple[int, Counter[str]]:
    """How many of the runs are still queued or running, and their runs and images by status."""
    held = (RunStatus.queued.value, RunStatus.running.value)
    with session_scope() as session:
        generations = session.exec(
            select(Generation.status).where(col(Generation.id).in_(ids))
        ).all()
        images = session.exec(
            select(GenerationImage.status).where(col(GenerationImage.generation_id).in_(ids))
        ).all()
    states = Counter(f"runs {status}" for status in generations)
    states.update(f"images {status}" for status in images)
    return sum(1 for status in generations if status in held), states


def _cancel(user: User, ids: list[int]) -> None:
    with session_scope() as session:
        for generation_id in ids:
            with contextlib.suppress(ConflictError):  # it finished: nothing to cancel
                runs.cancel_generation(session, user=user, generation_id=generation_id)


def _timed(page: Page, kind: str, expected: str) -> float:
    if kind == "search":
        box = page.get_by_label("Search", exact=True)
        box.fill(expected)
        page.evaluate(ARM, [kind, expected])  # from the Enter key: typing changes no cards
        box.press("Enter")
    else:
        page.evaluate(ARM, [kind, expected])
        page.get_by_label("View").get_by_role("radio").nth(1 if expected == "list" else 0).click()
    page.wait_for_function("() => window.__uiLoad.end !== null", timeout=SAMPLE_TIMEOUT_MS)
    return float(page.evaluate("() => window.__uiLoad.end - window.__uiLoad.start"))


class Actions:
    """The two actions, each one changing the page from what the previous one left."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self._words = itertools.cycle(SEARCH_WORDS)
        self._views = itertools.cycle(("list", "grid"))

    def measure(self, samples: int, load: list[int] | None = None) -> dict[str, list[float]]:
        """`samples` of each action, taken in turn, so both see the same moments of load.
        Under a `load` (generation ids), stops early once none of them is running any more:
        samples taken after that would measure an idle machine."""
        out: dict[str, list[float]] = {"search": [], "view": []}
        for i in range(samples):
            if load and i % CHECK_EVERY == 0 and _progress(load)[0] == 0:
                break
            out["search"].append(_timed(self.page, "search", next(self._words)))
            out["view"].append(_timed(self.page, "view", next(self._views)))
        return out


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def _report(phases: list[Phase]) -> None:
    out = sys.stdout.write
    base = phases[0]
    out(f"\n{'phase':<16} {'action':<8} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p95/base':>9} {'running at end':>15}\n{'-' * 74}\n")  # fmt: skip
    for phase in phases:
        for action, values in phase.samples.items():
            p95 = _p(values, 0.95)
            ratio = p95 / _p(base.samples[action], 0.95)
            running = "" if phase.still_running is None else f"{phase.still_running}/{GENERATIONS}"
            flag = "  over target" if phase is not base and p95 >= TARGET_P95_MS else ""
            out(f"{phase.name:<16} {action:<8} {len(values):>4} {_p(values, 0.5):>8.1f} "
                f"{p95:>8.1f} {ratio:>8.2f}x {running:>15}{flag}\n")  # fmt: skip
        if phase.states:
            made = ", ".join(f"{status} {count}" for status, count in sorted(phase.states.items()))
            out(f"  {phase.name}: {phase.seconds:.0f} s; at the end: {made}\n")
        if phase.still_running == 0:
            taken = len(phase.samples["search"])
            out(f"  {phase.name}: every generation had finished after {taken} samples: only "
                "those were taken under load\n")  # fmt: skip


def _worker_problems(log: Path) -> None:
    """Errors and warnings the worker logged (a retried run, a locked database), counted."""
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if "ERROR" in line or "WARNING" in line]  # fmt: skip
    sys.stdout.write(f"worker log: {len(lines)} warnings and errors\n")
    for line in lines[:10]:
        sys.stdout.write(f"  {line[:240]}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100, help="per action and phase")
    parser.add_argument("--load", default="together,layout-preview",
                        help="phases after the baseline: together, layout-preview")  # fmt: skip
    parser.add_argument("--latency", default="2-4", help="Together's seconds per image, LO-HI")
    parser.add_argument("--worker-threads", type=int, default=2, help="as `app.cli worker`")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    loads = [name.strip() for name in args.load.split(",") if name.strip()]
    unknown = set(loads) - {"together", "layout-preview"}
    if unknown:
        parser.error(f"unknown load {', '.join(sorted(unknown))}")
    lo, _, hi = args.latency.partition("-")
    latency = (float(lo), float(hi or lo))
    if not Path(CHROMIUM).exists():
        sys.exit(f"Debian chromium is missing at {CHROMIUM}")

    out = sys.stdout.write
    out(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; "
        f"worker threads {args.worker_threads}; Together latency {latency[0]}-{latency[1]} s; "
        f"database {'PostgreSQL' if args.postgres else 'SQLite'}\n")  # fmt: skip
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ui-load-")))
        together = stack.enter_context(SlowTogether(latency))
        database_url = stack.enter_context(_postgres()) if args.postgres else ""
        env = _environment(data_dir, together, database_url)
        _use_in_this_process(env)
        started = time.monotonic()
        url = stack.enter_context(_running_app(env, data_dir, args.worker_threads))
        out(f"app up (production build) in {time.monotonic() - started:.0f} s\n")
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        page = browser.new_page(base_url=url, viewport={"width": 1280, "height": 860})
        page.set_default_timeout(SAMPLE_TIMEOUT_MS)
        email = f"ui-load-{uuid.uuid4().hex[:8]}@example.com"
        sign_up(page, email, PASSWORD)
        page.get_by_role("button", name="Account menu").wait_for()
        user = _give_credits(email)
        page.goto("/gallery")
        page.locator(".prompt-card").first.wait_for()
        actions = Actions(page)
        actions.measure(5)  # warm-up: first renders, the database's caches

        phases = [Phase("baseline", actions.measure(args.samples))]
        for load in loads:
            ids = _start_generations(user, load)
            began = time.monotonic()
            samples = actions.measure(args.samples, ids)
            running, states = _progress(ids)
            phases.append(Phase(load, samples, running, states, time.monotonic() - began))
            _cancel(user, ids)
        _report(phases)
        _worker_problems(data_dir / "worker.log")
        out(f"load average {os.getloadavg()[0]:.2f} at the end\n")


if __name__ == "__main__":
    main()
