"""`map_images`: the pipeline over a pool of worker processes, with flat memory; a small batch
runs in this process instead.

A batch that fits in what the pool would hold in flight anyway (2 images per worker) runs on
threads of this process, one per worker, or in the calling thread for one image: starting the
fork server and its workers costs more than such a batch takes (about a second, against a
quarter of a second for a 12-MP photo). Pillow and OpenCV release the GIL while they decode,
resize and encode, so threads still use every core. The results and their messages are the
same; what a small batch gives up is the isolation of a worker process: a crash in a C library
or the kernel's OOM killer would take this process with it, not one image. Each image's pixel
count is still checked before it is decoded, so a small batch needs no more memory than the
pool would. A caller that knows better says so: `in_process=False` sends even one image to the
pool, `in_process=True` keeps a batch of any size here (`jsoncraft ops` on a few files: a
one-shot process pays the pool's start-up on every run).

Processes, not threads: Pillow releases the GIL in its codecs but not everywhere, and the OCR
and GrabCut stages hold it for long stretches. The pool uses the forkserver start method: the
huey worker that calls this is threaded, and forking a threaded process can copy a lock held by
another thread into the child, which then hangs. The fork server imports the engine once, so a
new worker is ready in tens of milliseconds instead of re-importing numpy, OpenCV and Pillow.

One pool per worker count lives for the life of the process (jobs share it, so two jobs never
put more than that many images on the CPU at once) and is rebuilt when a worker dies.

Failure handling:
- a UserFacingError from the pipeline is that item's result;
- anything else is logged here with a reference id, and the item gets a generic message with
  that id;
- a worker that dies (the kernel's OOM killer, a crash in a C library) breaks the whole pool
  and every image in flight with it; those images are then run again one at a time in a
  private one-worker pool, so only the image that kills a worker on its own fails.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.services.core.errors import PoolStoppedError, UserFacingError, new_error_id, public_message
from app.services.studio.imageops.outputs import OutputFile
from app.services.studio.imageops.pipeline import process_image
from app.services.studio.imageops.spec import OpsSpec
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

K = TypeVar("K")
Result = list[OutputFile] | UserFacingError

# Images submitted per worker: one running, one waiting, so a worker never idles between two
# images while the parent reads the next input. Memory held is this many inputs.
IN_FLIGHT_PER_WORKER = 2
WORKER_DIED_MESSAGE = (
    "The worker processing this image stopped unexpectedly (most likely it ran out of memory). "
    "Try a smaller image."
)

_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}
_thread_pools: dict[int, ThreadPoolExecutor] = {}
_solo_pools: set[ProcessPoolExecutor] = set()
_stopped = threading.Event()


@dataclass(frozen=True)
class _Unexpected:
    """An exception that is not a UserFacingError, carried back from a worker as text."""

    kind: str
    traceback: str


def map_images(
    items: Iterable[tuple[K, bytes, str]],
    spec: OpsSpec,
    *,
    workers: int | None = None,
    in_process: bool | None = None,
) -> Iterator[tuple[K, Result]]:
    """Process `(key, data, name)` items on the pool; yield `(key, outputs or error)` as each
    finishes (not in input order). `items` is read lazily, at most 2 per worker ahead, so a
    batch of any length runs in flat memory. Closing the generator cancels what has not
    started; images already on a worker finish and are dropped.

    `in_process`: None runs a batch of at most 2 images per worker in this process and a bigger
    one on the pool; True and False choose (see the module docstring)."""
    if _stopped.is_set():
        raise PoolStoppedError("the image pools were stopped")
    settings = get_settings()
    count = workers or settings.imageops_workers or default_workers()
    limit = count * IN_FLIGHT_PER_WORKER
    source = iter(items)
    if in_process is None:
        # Read no more than the pool would take in flight at once, plus one to know whether
        # the batch ends there.
        head = list(itertools.islice(source, limit + 1))
        in_process = len(head) <= limit
        source = itertools.chain(head, source)
    if in_process:
        yield from _map_in_process(source, spec, count, limit, settings)
    else:
        yield from _map_on_pool(source, spec, count, limit, settings)


def _map_on_pool(
    source: Iterator[tuple[K, bytes, str]],
    spec: OpsSpec,
    count: int,
    limit: int,
    settings: Settings,
) -> Iterator[tuple[K, Result]]:
    pending: dict[Future[Any], tuple[K, bytes, str]] = {}
    suspects: deque[tuple[K, bytes, str]] = deque()
    executor = shared_pool(count)
    exhausted = False
    try:
        while True:
            while suspects:
                key, data, name = suspects.popleft()
                yield key, _run_alone(data, name, spec, settings)
            while not exhausted and len(pending) < limit:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                future, executor = _submit(executor, count, item, spec, settings)
                pending[future] = item
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            if any(_broke(future) for future in done):
                # The pool is gone and every image still in it; which one killed it is
                # unknown. Its futures all fail at once: collect them, keep what finished.
                done, _ = wait(pending)
                executor = _replace_broken(count, executor)
            for future in done:
                key, data, name = pending.pop(future)
                if _broke(future):
                    suspects.append((key, data, name))
                    continue
                try:
                    value = future.result()
                except Exception as e:  # the call failed outside process_image (pickling...)
                    value = _Unexpected(type(e).__name__, "".join(traceback.format_exception(e)))
                yield key, _as_result(value, name)
    finally:
        for future in pending:
            future.cancel()


def _map_in_process(
    source: Iterator[tuple[K, bytes, str]],
    spec: OpsSpec,
    count: int,
    limit: int,
    settings: Settings,
) -> Iterator[tuple[K, Result]]:
    """The batch on this process's threads (one worker: the calling thread), read as lazily as
    on the pool, with the pool's per-item results: a UserFacingError is the item's result,
    anything else is logged with a reference id and the item gets a generic message."""
    if count == 1:
        for key, data, name in source:
            yield key, _as_result(_run(data, name, spec, settings), name)
        return
    threads = _thread_pool(count)
    pending: dict[Future[object], tuple[K, str]] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < limit:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                key, data, name = item
                pending[threads.submit(_run, data, name, spec, settings)] = (key, name)
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                key, name = pending.pop(future)
                yield key, _as_result(future.result(), name)  # _run returns, never raises
    finally:
        for future in pending:
            future.cancel()


def _thread_pool(workers: int) -> ThreadPoolExecutor:
    """One per worker count, shared by jobs like the process pools, so that small batches
    running at once never put more than that many images on the CPU."""
    with _lock:
        pool = _thread_pools.get(workers)
        if pool is None:
            pool = _thread_pools[workers] = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="imageops"
            )
        return pool


def start_fork_server() -> None:
    """Start the pool's fork server now, deaf to SIGTERM; call it from the main thread.

    A service manager stops the job worker with SIGTERM to its whole process group. The pool's
    workers may die of it: their images run again one at a time, on fresh workers. But each
    worker's liveness is read through the fork server, so a fork server dying with them would
    make the pool report every image in flight as having killed its worker, and those images
    would be recorded as failed before the worker hands its job back. Left alive, the server
    exits with this process, when the pipe it watches closes.
    """
    context = _context_of_shared_pools()
    if not isinstance(context, multiprocessing.context.ForkServerContext):
        return
    _configure_fork_server(context)
    from multiprocessing import forkserver

    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the server
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_pools() -> None:
    """The process is stopping after handing its jobs back: end every pool's workers now,
    images in flight included, rather than wait for them at exit. Images asked for from now on
    raise PoolStoppedError instead of starting."""
    _stopped.set()
    with _lock:
        pools = [*_pools.values(), *_solo_pools]
        _pools.clear()
    for pool in pools:
        # ProcessPoolExecutor keeps no public list of its processes.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def shared_pool(workers: int) -> ProcessPoolExecutor:
    with _lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = _new_pool(workers)
        return pool


def worker_pids(workers: int | None = None) -> list[int]:
    """Process ids of the shared pool's live workers (for the benchmark's memory figures)."""
    with _lock:
        pools = [_pools[workers]] if workers in _pools else list(_pools.values())
        # ProcessPoolExecutor keeps no public list of its processes.
        return [pid for pool in pools for pid in (getattr(pool, "_processes", None) or {})]


def shutdown_pools() -> None:
    """Stop every shared pool (tests and benchmarks; the next call starts a new one)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
        threads = list(_thread_pools.values())
        _thread_pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)
    for thread_pool in threads:
        thread_pool.shutdown(wait=True, cancel_futures=True)


# -- internals ------------------------------------------------------------------------------


def _new_pool(workers: int) -> ProcessPoolExecutor:
    if _stopped.is_set():
        raise PoolStoppedError("the image pools were stopped")
    context = _context_of_shared_pools()
    _configure_fork_server(context)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker)


def _configure_fork_server(context: multiprocessing.context.BaseContext) -> None:
    if isinstance(context, multiprocessing.context.ForkServerContext):
        # Imported once in the fork server, so every worker forked from it starts warm.
        # "__main__" too: otherwise each new worker re-imports the main module (the pytest
        # runner, the reflex command) before it can take its first image, which costs seconds.
        context.set_forkserver_preload(["__main__", __name__])
        _let_the_fork_server_import_us()


def _let_the_fork_server_import_us() -> None:
    """Python 3.11's fork server ignores the parent's sys.path (3.12 applies it) and starts in
    the parent's working directory, so from anywhere but the project root its preload fails
    silently and every worker imports the engine itself. It does inherit the environment."""
    if sys.version_info >= (3, 12):
        return
    root = str(Path(__file__).resolve().parents[4])
    current = os.environ.get("PYTHONPATH", "")
    if root not in current.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, current) if p)


def _init_worker() -> None:
    # Ctrl-C in a terminal reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The fork server ignores SIGTERM (start_fork_server): a worker must not, as the pool stops
    # a worker with SIGTERM.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # One process per core already; OpenCV's own threads would only fight over them. OpenCV
    # is imported only by the operations that use it, and reads this when it loads.
    os.environ["OPENCV_FOR_THREADS_NUM"] = "1"
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(1)


def _submit(
    executor: ProcessPoolExecutor,
    workers: int,
    item: tuple[Any, bytes, str],
    spec: OpsSpec,
    settings: Settings,
) -> tuple[Future[Any], ProcessPoolExecutor]:
    _key, data, name = item
    if _stopped.is_set():
        raise PoolStoppedError("the image pools were stopped")
    try:
        return executor.submit(_run, data, name, spec, settings), executor
    except BrokenProcessPool:  # broken by another job sharing it, or by our last batch
        executor = _replace_broken(workers, executor)
        return executor.submit(_run, data, name, spec, settings), executor


def _broke(future: Future[Any]) -> bool:
    return isinstance(future.exception(), BrokenProcessPool)


def _replace_broken(workers: int, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
    with _lock:
        current = _pools.get(workers)
        if current is None or current is broken:
            current = _pools[workers] = _new_pool(workers)
    broken.shutdown(wait=False, cancel_futures=True)
    return current


def _run_alone(data: bytes, name: str, spec: OpsSpec, settings: Settings) -> Result:
    """Run one image in a fresh one-worker pool of its own: if that worker dies, this image
    killed it (a shared pool could be broken by another job's image)."""
    with _lock:
        if _stopped.is_set():
            raise PoolStoppedError("the image pools were stopped")
        solo = ProcessPoolExecutor(
            max_workers=1, mp_context=_context_of_shared_pools(), initializer=_init_worker
        )
        _solo_pools.add(solo)
    try:
        # A worker that cannot be started (the fork server is gone, the process is exiting) is
        # the machine's failure, not the image's: it is raised for the job to be retried.
        try:
            future = solo.submit(_run, data, name, spec, settings)
        except RuntimeError:  # shut down by stop_pools meanwhile
            if _stopped.is_set():
                raise PoolStoppedError("the image pools were stopped") from None
            raise
        try:
            value = future.result()
        except BrokenProcessPool:
            if _stopped.is_set():  # killed by stop_pools, not by the image
                raise PoolStoppedError("the image pools were stopped") from None
            log.warning("image %r stopped a worker process on its own", name)
            return UserFacingError(WORKER_DIED_MESSAGE)
        except Exception as e:
            value = _Unexpected(type(e).__name__, "".join(traceback.format_exception(e)))
    finally:
        with _lock:
            _solo_pools.discard(solo)
        solo.shutdown(wait=True)
    return _as_result(value, name)


def _context_of_shared_pools() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run(data: bytes, name: str, spec: OpsSpec, settings: Settings) -> object:
    """In the worker. Returns rather than raises, so the parent gets exactly one of: outputs,
    a UserFacingError that survives pickling, or the text of an unexpected error."""
    try:
        return process_image(data, name, spec, settings=settings)
    except UserFacingError as e:
        try:
            pickle.loads(pickle.dumps(e))
        except Exception:  # a subclass with a constructor pickle cannot call
            return UserFacingError(e.message)
        return e
    except Exception as e:
        return _Unexpected(type(e).__name__, traceback.format_exc())


def _as_result(value: object, name: str) -> Result:
    if isinstance(value, list | UserFacingError):
        return value
    if isinstance(value, _Unexpected):
        error_id = new_error_id()
        log.error(
            "image operation failed on %r [error_id=%s]: %s\n%s",
            name,
            error_id,
            value.kind,
            value.traceback,
        )
        return UserFacingError(public_message(RuntimeError(value.kind), error_id))
    error_id = new_error_id()
    log.error("image worker returned %r for %r [error_id=%s]", type(value), name, error_id)
    return UserFacingError(public_message(RuntimeError("bad result"), error_id))
