"""The simulated people: each signs up, then until time is up analyzes an image with the fake
OpenRouter model, saves the prompt, browses the gallery, runs a one-image studio job, generates
with the fake Together model (polling each to its end) and uploads a file to a project through
a presigned URL. Every request goes to the next backend in turn, so a session made on one is
used on the other.

Each person connects from an address of its own on 127.0.0.0/8 (as people behind a load
balancer would), so the per-address rate limits apply per person, not to the whole test.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

ANALYSIS_MODEL = "nvidia/nemotron-nano-12b-v2-vl:free"
GENERATION_MODEL = "flux-schnell"
RESIZE = {"resize": {"mode": "exact", "width": 64, "height": 48}}
POLL_SECONDS = 0.5
POLL_LIMIT = 150.0  # a job or run still unfinished after this counts as stuck
PASSWORD = "scale-test-password-1"
SESSION_COOKIE = "jsoncraft_sid"


@dataclass
class Stats:
    """Every response: its kind, status and latency; transport errors apart."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def record(self, kind: str, response: httpx.Response, seconds: float) -> None:
        self.latencies[kind].append(seconds)
        self.statuses[kind].append(response.status_code)
        if response.status_code >= 500:
            self.server_errors.append(
                f"{kind} {response.request.method} {response.request.url.path} -> "
                f"{response.status_code} {response.text[:200]}"
            )


@dataclass
class Upload:
    id: str
    key: str
    status: str


@dataclass
class Outcome:
    """What the people saw finish, to compare with the database afterwards."""

    emails: list[str] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)
    generations: list[int] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)


def jpeg(seed: int, size: tuple[int, int] = (160, 120)) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        image.paste(colour, (x, y, min(size[0], x + 30), min(size[1], y + 20)))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return buf.getvalue()


class Person:
    def __init__(
        self,
        number: int,
        *,
        backends: list[str],
        app_url: str,
        project_key: str,
        stats: Stats,
        outcome: Outcome,
        run_id: str,
    ) -> None:
        self.number = number
        turn = number % len(backends)  # half the people start on each backend
        self.backends = itertools.cycle(backends[turn:] + backends[:turn])
        self.app_url = app_url
        self.project_key = project_key
        self.stats = stats
        self.outcome = outcome
        self.email = f"scale-{run_id}-{number}@example.com"
        self.token = ""
        # 127.0.1.x .. : one client address per person (Linux routes all of 127/8 to lo).
        address = f"127.0.{1 + number // 250}.{1 + number % 250}"
        self.client = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(local_address=address),
            timeout=httpx.Timeout(60.0),
            follow_redirects=False,
        )

    async def request(self, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith("http") else next(self.backends) + path
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.TransportError as e:
            self.stats.errors.append(f"{kind} {method} {path}: {type(e).__name__} {e}")
            raise
        self.stats.record(kind, response, time.perf_counter() - started)
        return response

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def sign_up(self) -> None:
        form = {"email": self.email, "password": PASSWORD, "confirm": PASSWORD, "name": "Load"}
        response = await self.request(
            "sign_up", "POST", "/api/auth/sign-up", data=form, headers={"Origin": self.app_url}
        )
        token = response.cookies.get(SESSION_COOKIE)
        if response.status_code != 303 or not token:
            raise RuntimeError(f"sign-up of {self.email} failed: {response.status_code}")
        self.token = token
        self.outcome.emails.append(self.email)

    async def run(self, until: float) -> None:
        try:
            await self.sign_up()
            step = 0
            while time.monotonic() < until:
                await self.one_round(step)
                step += 1
                await asyncio.sleep(random.uniform(0.5, 1.5))  # think time
        finally:
            await self.client.aclose()

    async def one_round(self, step: int) -> None:
        image = jpeg(self.number * 1000 + step)
        prompt_id = await self.analyze_and_save(image, step)
        await self.browse()
        await self.studio_job(image)
        if prompt_id is not None and step < 3:  # 3 runs each: within the free plan's credits
            await self.generate(prompt_id)
        await self.upload(image, step)

    async def analyze_and_save(self, image: bytes, step: int) -> int | None:
        response = await self.request(
            "analyze", "POST", "/api/analyze", headers=self.auth(),
            files={"image": (f"photo-{step}.jpg", image, "image/jpeg")},
            data={"model": ANALYSIS_MODEL},
        )  # fmt: skip
        if response.status_code != 200:
            return None
        result = response.json()
        saved = await self.request(
            "save_prompt", "POST", "/api/prompts", headers=self.auth(),
            json={"title": f"Load {self.number}/{step}", "data": result["prompt"],
                  "asset_id": result["asset_id"], "model": ANALYSIS_MODEL, "tags": ["load"]},
        )  # fmt: skip
        return int(saved.json()["id"]) if saved.status_code == 201 else None

    async def browse(self) -> None:
        for params in ({"owner": "me"}, {"tags": "load", "limit": 12}):
            await self.request("gallery", "GET", "/api/prompts", params=params, headers=self.auth())

    async def poll(self, kind: str, path: str, done: set[str]) -> dict[str, Any] | None:
        deadline = time.monotonic() + POLL_LIMIT
        while time.monotonic() < deadline:
            response = await self.request(kind, "GET", path, headers=self.auth())
            if response.status_code == 200 and response.json()["status"] in done:
                return dict(response.json())
            await asyncio.sleep(POLL_SECONDS)
        self.outcome.stuck.append(path)
        return None

    async def studio_job(self, image: bytes) -> None:
        response = await self.request(
            "studio_submit", "POST", "/api/jobs", headers=self.auth(),
            data={"spec": json.dumps(RESIZE), "mode": "now"},
            files=[("files", ("one.jpg", image, "image/jpeg"))],
        )  # fmt: skip
        if response.status_code != 202:
            return
        job_id = int(response.json()["id"])
        self.outcome.jobs.append(job_id)
        await self.poll("studio_poll", f"/api/jobs/{job_id}", {"done", "failed", "cancelled"})

    async def generate(self, prompt_id: int) -> None:
        response = await self.request(
            "generate", "POST", "/api/generations", headers=self.auth(),
            json={"prompt_id": prompt_id, "model": GENERATION_MODEL, "n": 1, "aspect": "1:1"},
        )  # fmt: skip
        if response.status_code != 202:
            return
        run_id = int(response.json()["id"])
        self.outcome.generations.append(run_id)
        path = f"/api/generations/{run_id}"
        await self.poll("generation_poll", path, {"done", "failed", "cancelled"})

    async def upload(self, image: bytes, step: int) -> None:
        key = {"Authorization": f"Bearer {self.project_key}"}
        name = f"person-{self.number}-{step}.jpg"
        files = [{"name": name, "size": len(image), "type": "image/jpeg"}]
        presigned = await self.request(
            "upload_presign", "POST", "/api/uploads", headers=key, json={"files": files}
        )
        if presigned.status_code != 200:
            return
        slot = presigned.json()["uploads"][0]
        put = await self.request(
            "upload_put", "PUT", slot["url"], headers=slot["headers"], content=image
        )
        if put.status_code != 200:
            return
        done = await self.request(
            "upload_complete", "POST", f"/api/uploads/{slot['id']}/complete", headers=key
        )
        if done.status_code == 200:
            self.outcome.uploads.append(Upload(slot["id"], slot["key"], done.json()["status"]))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.0f}"


def report(stats: Stats, seconds: float) -> str:
    rows = [
        "| request | count | req/s | p50 ms | p95 ms | statuses |",
        "|---|---:|---:|---:|---:|---|",
    ]
    total = 0
    for kind in sorted(stats.latencies):
        values = stats.latencies[kind]
        total += len(values)
        counts: dict[int, int] = defaultdict(int)
        for status in stats.statuses[kind]:
            counts[status] += 1
        shown = " ".join(f"{s}x{n}" for s, n in sorted(counts.items()))
        rows.append(
            f"| {kind} | {len(values)} | {len(values) / seconds:.1f} | "
            f"{_ms(values, 0.5)} | {_ms(values, 0.95)} | {shown} |"
        )
    everything = [v for values in stats.latencies.values() for v in values]
    if everything:
        rows.append(
            f"| **all** | {total} | {total / seconds:.1f} | "
            f"{_ms(everything, 0.5)} | {_ms(everything, 0.95)} | |"
        )
    return "\n".join(rows)
