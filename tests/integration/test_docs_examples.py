"""Every example on /docs/uploads (the files in docs/uploads/), run as written against a live API.

One flow per language: create a project with the CLI the docs name, configure it, subscribe a
webhook, presign, PUT, complete, list, look up, mint a client token, verify the webhook that
arrives with the verification example, and delete. cURL examples run in bash, Python ones with
this interpreter, JavaScript ones with node.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlmodel import Session

from app.settings import reset_settings
from tests.utils.job_helpers import make_user, run_queue
from tests.utils.live_api import free_port, serving_api

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "uploads"
RUNNERS = {
    "sh": ["bash", "-euo", "pipefail"],
    "py": [sys.executable],
    "mjs": ["node"],
}


class Receiver:
    """A webhook endpoint on loopback that records each request's headers and raw body."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length", "0"))
                received.append(({k.lower(): v for k, v in self.headers.items()},
                                 self.rfile.read(length)))  # fmt: skip
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    # Local storage signs its upload URLs to the API's own address.
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    reset_settings()
    with serving_api(port) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


def run_example(name: str, ext: str, env: dict[str, str], stdin: bytes = b"") -> str:
    result = subprocess.run(
        [*RUNNERS[ext], str(EXAMPLES / f"{name}.{ext}")],
        input=stdin,
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{name}.{ext} failed: {result.stderr.decode()[-2000:]}"
    return result.stdout.decode()


def test_every_example_has_all_three_languages() -> None:
    names = {p.stem for p in EXAMPLES.iterdir() if p.suffix in (".sh", ".py", ".mjs")}
    for name in names - {"verify"}:
        assert {f"{name}.{ext}" for ext in RUNNERS} <= {p.name for p in EXAMPLES.iterdir()}
    assert (EXAMPLES / "verify.py").exists() and (EXAMPLES / "verify.mjs").exists()


@pytest.mark.parametrize("ext", ["sh", "py", "mjs"])
def test_the_documented_flow_works_as_written(
    ext: str, api_url: str, receiver: Receiver, tmp_path: Path, session: Session
) -> None:
    email = f"dev-{ext}@example.com"
    make_user(session, email)
    session.commit()
    project = json.loads(
        subprocess.run(
            [sys.executable, "-m", "app.cli", "create-project", email, f"Docs {ext}", "--json"],
            capture_output=True,
            check=True,
            cwd=ROOT,
        ).stdout
    )
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(buf, "PNG")
    photo = tmp_path / "photo.png"
    photo.write_bytes(buf.getvalue())
    env = {
        "JSONCRAFT_API": api_url,
        "JSONCRAFT_KEY": project["key"],
        "PROJECT_ID": str(project["project_id"]),
        "FILE_PATH": str(photo),
        "FILE_NAME": "photo.png",
        "FILE_SIZE": str(photo.stat().st_size),
        "FILE_TYPE": "image/png",
        "WEBHOOK_URL": receiver.url,
    }

    config = json.loads(run_example("configure", ext, env))
    assert "application/pdf" in config["allowed_types"]
    secret = json.loads(run_example("webhook", ext, env))["secret"]
    assert secret.startswith("whsec_")

    item = json.loads(run_example("presign", ext, env))["uploads"][0]
    env |= {"UPLOAD_ID": item["id"], "UPLOAD_URL": item["url"]}
    run_example("put", ext, env)
    assert json.loads(run_example("complete", ext, env))["status"] == "ready"
    listed = json.loads(run_example("list", ext, env))
    assert item["id"] in [u["id"] for u in listed["uploads"]]
    assert json.loads(run_example("get", ext, env))["id"] == item["id"]
    assert json.loads(run_example("client_token", ext, env))["token"].startswith("jct_")

    run_queue()  # the worker sends the webhook
    [(headers, body)] = [r for r in receiver.requests if b"upload.completed" in r[1]]
    verify_env = env | {
        "WEBHOOK_SECRET": secret,
        "WEBHOOK_ID": headers["webhook-id"],
        "WEBHOOK_TIMESTAMP": headers["webhook-timestamp"],
        "WEBHOOK_SIGNATURE": headers["webhook-signature"],
    }
    verify_ext = "py" if ext == "sh" else ext
    verified = json.loads(run_example("verify", verify_ext, verify_env, stdin=body))
    assert verified == {"type": "upload.completed", "id": item["id"]}
    forged = subprocess.run(
        [*RUNNERS[verify_ext], str(EXAMPLES / f"verify.{verify_ext}")],
        input=body.replace(b"upload.completed", b"upload.completeX"),
        capture_output=True,
        env={**os.environ, **verify_env},
        check=False,
    )
    assert forged.returncode != 0

    run_example("delete", ext, env)
    gone = httpx.get(
        f"{api_url}/api/uploads/{item['id']}",
        headers={"Authorization": f"Bearer {project['key']}"},
    )
    assert gone.status_code == 404
