"""`jsoncraft upload` against the real API served by uvicorn on loopback (local store): one line
per file, one-line errors, exit 2 for input and auth, 1 for an unreachable server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session

from app.cli import main
from app.services.accounts import api_keys
from app.services.core import rate_limits
from app.services.core.models import Project, Upload
from app.settings import reset_settings
from tests.utils.job_helpers import make_user
from tests.utils.live_api import free_port, serving_api


@pytest.fixture
def api(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{port}")
    reset_settings()
    rate_limits.reset_counters()
    with serving_api(port) as url:
        yield url


@pytest.fixture
def key(session: Session) -> str:
    owner = make_user(session, "cli@example.com", plan="pro")
    new = api_keys.create_key(session, owner=owner)
    project = session.get(Project, new.project_id)
    assert project is not None
    project.allowed_types, project.max_file_size = ["image/*", "application/pdf"], 200 << 20
    session.add(project)
    session.commit()
    return new.key


def write_png(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (9, 9), "navy").save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def test_uploads_files_one_line_each(
    api: str, key: str, tmp_path: Path, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    png = write_png(tmp_path / "a.png")
    big = tmp_path / "big.pdf"
    with big.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        f.write(b"\x00" * (65 << 20))
    code = main(["upload", str(png), str(big), "--key", key, "--api", api])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and err == ""
    assert lines[0].endswith("  ready  a.png") and lines[1].endswith("  ready  big.pdf")
    ids = [line.split()[0] for line in lines]
    rows = [session.get(Upload, i) for i in ids]
    assert [r.status if r else None for r in rows] == ["ready", "ready"]
    assert rows[1] is not None and rows[1].part_count == 9


def test_a_lying_file_is_rejected_with_its_reason(
    api: str, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"%PDF-1.7\nnot a png")
    assert main(["upload", str(fake), "--key", key, "--api", api]) == 2
    out, _err = capsys.readouterr()
    assert "  rejected  fake.png  (The file's bytes are application/pdf" in out


def test_errors_are_one_line_with_exit_codes(
    api: str, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = write_png(tmp_path / "a.png")
    assert main(["upload", str(tmp_path / "missing.png"), "--key", key, "--api", api]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.png'}: no such file\n"

    assert main(["upload", str(png), "--key", "jc_wrong", "--api", api]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: a.png: Send a project secret key") and err.count("\n") == 1

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["upload", str(text), str(png), "--key", key, "--api", api]) == 2
    out, err = capsys.readouterr()
    refused = "notes.txt is text/plain; this project accepts image/*, application/pdf."
    assert err == f"error: notes.txt: {refused}\n"
    assert out.endswith("  ready  a.png\n")  # the next file still went up

    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["upload", str(png), "--key", key, "--api", closed]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: could not reach {closed}") and "Traceback" not in err
