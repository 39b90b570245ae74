"""map_images on the real process pool: per-item errors, lazy reading, cancellation, and a
worker killed the way the kernel's out-of-memory killer would kill it. A batch run in this
process gives the same per-item results.

Batches of at most 2 images per worker run in this process unless `in_process=False`: the
tests of the pool's own guarantees pass it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from app.services.core.errors import InvalidImageError, UserFacingError
from app.services.studio.imageops import OutputFile, map_images, parse_spec
from app.services.studio.imageops.pool import WORKER_DIED_MESSAGE, worker_pids
from tests.utils.images import truncated_jpeg
from tests.utils.vision_images import encode

SPEC = parse_spec({"resize": {"long_edge": 50}, "convert": {"format": "png"}})
SMALL = encode(Image.new("RGB", (120, 90), (200, 50, 50)), "PNG")
# 64 MP of one colour: 200 kB as a PNG, ~200 MB once decoded. Only this image makes a worker big.
HUGE = encode(Image.new("RGB", (8000, 8000), (9, 9, 9)), "PNG")
KILL_ABOVE_MB = 200


# (workers, in_process): six items are a big batch for 2 workers and a small one for 4.
WHERE = {
    "pool": (2, False),
    "small-batch": (4, None),
    "threads": (2, True),
}


@pytest.mark.parametrize("where", WHERE.values(), ids=WHERE.keys())
def test_each_item_gets_its_own_result_and_failures_do_not_stop_the_rest(
    where: tuple[int, bool | None],
) -> None:
    items = [
        (0, SMALL, "a.png"),
        (1, truncated_jpeg(), "cut.jpg"),
        (2, b"<svg/>", "drawing.svg"),
        (3, SMALL, "b.png"),
        (4, b"", "empty.png"),
        (5, SMALL, "c.png"),
    ]
    workers, in_process = where
    results = dict(map_images(items, SPEC, workers=workers, in_process=in_process))
    assert sorted(results) == [0, 1, 2, 3, 4, 5]
    for key in (0, 3, 5):
        [out] = results[key]  # type: ignore[misc]
        assert isinstance(out, OutputFile) and (out.width, out.height) == (50, 38)
    assert isinstance(results[1], InvalidImageError) and "truncated" in results[1].message
    assert isinstance(results[2], InvalidImageError) and "SVG" in results[2].message
    assert isinstance(results[4], InvalidImageError) and "empty" in results[4].message


def test_items_are_read_lazily_and_closing_cancels_the_rest() -> None:
    consumed: list[int] = []

    def items() -> Iterator[tuple[int, bytes, str]]:
        for i in range(200):
            consumed.append(i)
            yield i, SMALL, f"{i}.png"

    results = map_images(items(), SPEC, workers=2)
    first = [next(results) for _ in range(3)]
    results.close()
    assert len(first) == 3
    # At most 2 per worker were ahead of the three results taken; the other ~190 were never read.
    assert len(consumed) <= 3 + 2 * 2 + 1
    # The pool is still fine for the next job.
    assert len(list(map_images([(0, SMALL, "again.png")], SPEC, workers=2, in_process=False))) == 1


@pytest.mark.parametrize("in_process", [False, None], ids=["pool", "small-batch"])
def test_an_unexpected_error_is_generic_with_a_logged_reference(
    caplog: pytest.LogCaptureFixture, in_process: bool | None
) -> None:
    # Not bytes: the pipeline fails in a way no UserFacingError covers, like a bug would.
    items = [(0, 12345, "bug.png"), (1, SMALL, "fine.png")]
    with caplog.at_level(logging.ERROR, logger="app.services.studio.imageops.pool"):
        results = dict(map_images(items, SPEC, workers=2, in_process=in_process))  # type: ignore[arg-type]
    error = results[0]
    assert type(error) is UserFacingError
    assert error.message.startswith("Something went wrong on our side. Reference: ")
    reference = error.message.rsplit(" ", 1)[-1]
    [record] = [r for r in caplog.records if reference in r.getMessage()]
    assert "TypeError" in record.getMessage() and "bug.png" in record.getMessage()
    assert isinstance(results[1], list)


class OomKiller:
    """Kills (SIGKILL) any of our descendant processes that grows past a limit, as the kernel
    does when memory runs out. `once=True` kills only the first time."""

    def __init__(self, *, limit_mb: int, once: bool = False) -> None:
        self.limit_mb = limit_mb
        self.once = once
        self.killed: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> OomKiller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            if self.once and self.killed:
                return
            for pid in _descendants(os.getpid()):
                if _rss_mb(pid) > self.limit_mb:
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)


def _descendants(root: int) -> list[int]:
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        try:
            children = [
                int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            ]
        except OSError:  # it exited meanwhile
            continue
        found.extend(children)
        frontier.extend(children)
    return found


def _rss_mb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def test_an_image_that_kills_its_worker_fails_alone_and_the_pool_recovers() -> None:
    items = [(i, HUGE if i == 2 else SMALL, f"{i}.png") for i in range(8)]
    # The workers start small.
    list(map_images([(0, SMALL, "warm.png")], SPEC, workers=2, in_process=False))
    before = set(worker_pids(2))
    with OomKiller(limit_mb=KILL_ABOVE_MB) as killer:
        results = dict(map_images(items, SPEC, workers=2, in_process=False))
    assert len(killer.killed) >= 2  # once in the shared pool, once when run on its own
    assert sorted(results) == list(range(8))
    assert isinstance(results[2], UserFacingError)
    assert results[2].message == WORKER_DIED_MESSAGE
    for key in (0, 1, 3, 4, 5, 6, 7):  # including the ones that were in the broken pool
        assert isinstance(results[key], list), (key, results[key])
    # A new pool took the broken one's place and works.
    assert len(list(map_images([(0, SMALL, "after.png")], SPEC, workers=2, in_process=False))) == 1
    assert not before & set(worker_pids(2))


def test_an_image_whose_worker_was_killed_once_runs_again() -> None:
    items = [(0, SMALL, "a.png"), (1, HUGE, "huge.png"), (2, SMALL, "b.png")]
    started = time.monotonic()
    with OomKiller(limit_mb=KILL_ABOVE_MB, once=True) as killer:
        results = dict(map_images(items, SPEC, workers=2, in_process=False))
    assert len(killer.killed) == 1
    assert all(isinstance(result, list) for result in results.values()), results
    [huge] = results[1]  # type: ignore[misc]
    assert (huge.width, huge.height) == (50, 50)
    assert time.monotonic() - started < 60


STOP_SIGNAL_SCRIPT = """
import os, signal, sys
from multiprocessing import forkserver
from PIL import Image
from app.services.studio.imageops import map_images, parse_spec
from app.services.studio.imageops.pool import start_fork_server
from tests.utils.vision_images import encode

signal.signal(signal.SIGTERM, lambda *_: None)  # like huey: note it, stop in good order
start_fork_server()
spec = parse_spec({"resize": {"long_edge": 50}, "convert": {"format": "png"}})
small = encode(Image.new("RGB", (120, 90), (200, 50, 50)), "PNG")
list(map_images([(i, small, f"{i}.png") for i in range(2)], spec, workers=2, in_process=False))
server = forkserver._forkserver._forkserver_pid
print(server, flush=True)
sys.stdin.readline()  # the test sends SIGTERM to the whole group, then a line
results = dict(
    map_images([(i, small, f"{i}.png") for i in range(4)], spec, workers=2, in_process=False)
)
try:
    alive = os.waitpid(server, os.WNOHANG) == (0, 0)
except ChildProcessError:  # reaped: it died, and was replaced
    alive = False
print(alive, forkserver._forkserver._forkserver_pid == server,
      all(isinstance(r, list) for r in results.values()), flush=True)
"""


def test_the_pools_fork_server_outlives_a_stop_signal_to_the_group() -> None:
    """A service manager stops the job worker with SIGTERM to its process group. The fork
    server must live on: the pool learns of its workers' deaths through it, so its death would
    pass for every image in flight having killed its worker (and the image failing)."""
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(
        [sys.executable, "-c", STOP_SIGNAL_SCRIPT],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as script:
        assert script.stdin is not None and script.stdout is not None
        assert script.stdout.readline().strip().isdigit()
        os.killpg(script.pid, signal.SIGTERM)
        script.stdin.write("go\n")
        script.stdin.flush()
        verdict = script.stdout.readline().split()
        assert script.wait(timeout=60) == 0
    assert verdict == ["True", "True", "True"]  # alive, the same server, every image done


STOP_POOLS_SCRIPT = """
from PIL import Image
from app.services.studio.imageops import map_images, parse_spec
from app.services.core.errors import PoolStoppedError
from app.services.studio.imageops.pool import stop_pools, worker_pids
from tests.utils.vision_images import encode

spec = parse_spec({"resize": {"long_edge": 50}, "convert": {"format": "png"}})
small = encode(Image.new("RGB", (120, 90), (200, 50, 50)), "PNG")
results = map_images([(i, small, f"{i}.png") for i in range(50)], spec, workers=2, in_process=False)
next(results)  # images are in flight on both workers now
workers = worker_pids(2)
stop_pools()
try:
    list(results)
except PoolStoppedError:
    print("abandoned", len(workers))
try:
    list(map_images([(0, small, "later.png")], spec, workers=2))
except PoolStoppedError:
    print("refused")
"""


def test_stopping_the_pools_abandons_images_in_flight_and_refuses_new_ones() -> None:
    """A stopping worker has handed its jobs back: its images in flight end at once (raising
    PoolStoppedError, not failing one by one as if each had killed its worker)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", STOP_POOLS_SCRIPT],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["abandoned", "2", "refused"]
