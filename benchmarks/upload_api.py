"""Presign and complete latency of the upload API, with baselines measured in the same run.

    .venv/bin/python -m benchmarks.upload_api [--clients 50] [--requests 10] [--completes 100]

The real API (`create_api`) runs under uvicorn in its own process on a loopback port, on SQLite
and the local store in a temporary directory. Each of `--clients` concurrent clients (httpx,
asyncio) has its own project and key, on one Pro account, and sends `--requests` presigns of one
file each; the same clients first send as many `GET /api/health` (the baseline: the app's
cheapest route, through the same server and middleware): "saturated", every client back to
back. Then the same clients "paced": all connected at once, each sending a request every
`--interval` seconds on average, the steady load of many apps uploading. Then, one at a time,
each of `--completes` files is presigned (timed: the cost of a presign without queueing) and
PUT (not timed), and its `complete` timed (HEAD, prefix read and sniff, the conditional update, the
outbox), beside as many `GET /api/health`. With 50 clients at once on a small machine, time
spent queueing for the CPU dominates every route's latency, the baseline's too: compare them.

Goals: presign p95 under 15 ms with 50 clients at once; complete p95 under 50 ms.
Nothing outside the temporary directory is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _p(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (27, 42, 73)).save(out, "PNG")
    return out.getvalue()


def _keys(clients: int) -> list[str]:
    from sqlmodel import Session

    from app.services.accounts import api_keys, auth
    from app.services.core.db import get_engine
    from app.services.core.migrations import upgrade_to_head

    upgrade_to_head()
    with Session(get_engine(), expire_on_commit=False) as session:
        owner = auth.create_user(session, email="bench@example.com", password="a long pass 123")
        owner.plan = "pro"
        session.add(owner)
        session.commit()
        keys = [
            api_keys.create_key(session, owner=owner, project_name=f"bench {i}").key
            for i in range(clients)
        ]
        session.commit()
    return keys


async def _timed(
    call: Callable[[], Awaitable[httpx.Response]], into: list[float]
) -> httpx.Response:
    started = time.perf_counter()
    answer = await call()
    into.append((time.perf_counter() - started) * 1000)
    answer.raise_for_status()
    return answer


async def _concurrent(base: str, keys: list[str], requests: int) -> tuple[list[float], list[float]]:
    health: list[float] = []
    presign: list[float] = []
    limits = httpx.Limits(max_connections=len(keys) + 5)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        one = {"files": [{"name": "a.png", "size": 1000, "type": "image/png"}]}

        async def client(key: str, kind: str) -> None:
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(requests):
                if kind == "health":
                    await _timed(lambda: http.get("/api/health"), health)
                else:
                    await _timed(
                        lambda: http.post("/api/uploads", json=one, headers=headers), presign
                    )

        for kind in ("health", "presign"):
            await asyncio.gather(*(client(key, kind) for key in keys))
    return health, presign


async def _paced(
    base: str, keys: list[str], requests: int, interval: float
) -> tuple[list[float], list[float]]:
    """Every client connected at once, each sending one request every `interval` seconds on
    average (exponential gaps, as independent apps do): latency at a steady load, not at
    saturation. Health first, then presign, like `_concurrent`."""
    health: list[float] = []
    presign: list[float] = []
    limits = httpx.Limits(max_connections=len(keys) + 5)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        one = {"files": [{"name": "a.png", "size": 1000, "type": "image/png"}]}

        async def client(index: int, key: str, kind: str) -> None:
            pace = random.Random(index)
            headers = {"Authorization": f"Bearer {key}"}
            await asyncio.sleep(pace.uniform(0, interval))  # clients don't start in step
            for _ in range(requests):
                if kind == "health":
                    await _timed(lambda: http.get("/api/health"), health)
                else:
                    await _timed(
                        lambda: http.post("/api/uploads", json=one, headers=headers), presign
                    )
                await asyncio.sleep(pace.expovariate(1 / interval))

        for kind in ("health", "presign"):
            await asyncio.gather(*(client(i, key, kind) for i, key in enumerate(keys)))
    return health, presign


async def _completes(
    base: str, key: str, runs: int
) -> tuple[list[float], list[float], list[float]]:
    data = _png()
    health: list[float] = []
    presign: list[float] = []
    complete: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    body = {"files": [{"name": "a.png", "size": len(data), "type": "image/png"}]}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for _ in range(runs):
            answer = await _timed(
                lambda: http.post("/api/uploads", json=body, headers=headers), presign
            )
            up = answer.json()["uploads"][0]
            url = urlsplit(up["url"])
            (
                await http.put(f"{url.path}?{url.query}", content=data, headers=up["headers"])
            ).raise_for_status()
            await _timed(lambda: http.get("/api/health"), health)
            path = f"/api/uploads/{up['id']}/complete"
            answer = await _timed(lambda p=path: http.post(p, headers=headers), complete)
            assert answer.json()["status"] == "ready", answer.text
    return health, presign, complete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=10, help="presigns per client")
    parser.add_argument("--completes", type=int, default=100)
    parser.add_argument(
        "--api-workers", type=int, default=1, help="API processes (uvicorn --workers)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="paced phase: seconds between one client's requests",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jsoncraft-bench-") as tmp:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        os.environ.update(
            DATA_DIR=str(Path(tmp) / "data"),
            APP_ENV="test",
            SECRET_KEY="benchmark-secret-key-that-is-long-enough-0123",
            API_URL=base,
            LOG_LEVEL="WARNING",
        )
        for name in ("DATABASE_URL", "STORAGE_BACKEND", "REDIS_URL"):
            os.environ.pop(name, None)
        keys = _keys(args.clients)
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.api.main:create_api", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
             "--log-level", "warning", "--workers", str(args.api_workers)],
            cwd=tmp, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the API did not start")
                time.sleep(0.2)
            asyncio.run(_concurrent(base, keys, 2))  # warm up: imports, caches, connections
            started = time.perf_counter()
            health, presign = asyncio.run(_concurrent(base, keys, args.requests))
            saturated_rate = 2 * len(presign) / (time.perf_counter() - started)
            paced_health, paced = asyncio.run(_paced(base, keys, args.requests, args.interval))
            health1, presign1, complete = asyncio.run(_completes(base, keys[0], args.completes))
        finally:
            server.terminate()
            server.wait(timeout=20)

    (h50, h95), (p50, p95) = _p(health), _p(presign)
    (s50, s95), (q50, q95), (c50, c95) = _p(health1), _p(presign1), _p(complete)
    (ph50, ph95), (pp50, pp95) = _p(paced_health), _p(paced)
    rate = args.clients / args.interval
    _say(
        f"{args.clients} clients at once, SQLite + local store, {args.api_workers} API process(es)"
    )
    _say(f"paced: each client one request every ~{args.interval:g} s (about {rate:.0f} req/s)")
    _say(f"baseline GET /api/health   p50 {ph50:7.1f} ms   p95 {ph95:7.1f} ms")
    _say(f"POST /api/uploads presign  p50 {pp50:7.1f} ms   p95 {pp95:7.1f} ms")
    _say(f"saturated: back to back, {args.requests} each (about {saturated_rate:.0f} req/s served)")
    _say(f"baseline GET /api/health   p50 {h50:7.1f} ms   p95 {h95:7.1f} ms")
    _say(f"POST /api/uploads presign  p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    _say(f"one client, {args.completes} files of {len(_png())} bytes")
    _say(f"baseline GET /api/health   p50 {s50:7.1f} ms   p95 {s95:7.1f} ms")
    _say(f"POST /api/uploads presign  p50 {q50:7.1f} ms   p95 {q95:7.1f} ms")
    _say(f"POST .../complete          p50 {c50:7.1f} ms   p95 {c95:7.1f} ms")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    _say(f"load average while measuring: {load:.1f} on {os.cpu_count()} cores")
    _say(
        f"goal: presign p95 < 15 ms with {args.clients} clients at once: paced "
        f"{'met' if pp95 < 15 else 'NOT met'}, saturated {'met' if p95 < 15 else 'NOT met'}"
    )
    _say(f"goal: complete p95 < 50 ms: {'met' if c95 < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
