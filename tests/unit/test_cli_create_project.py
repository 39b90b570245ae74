"""`python -m app.cli create-project EMAIL NAME [--json]`: a new project with a full-scope key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from app.cli import main
from app.services.accounts.api_keys import authenticate_project_key
from app.services.core.models import Project
from tests.utils.job_helpers import make_user

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a developer types it, in this test's DATA_DIR and settings."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_json_prints_exactly_the_project_and_a_working_full_scope_key(
    db_url: str, session: Session
) -> None:
    make_user(session, "dev@example.com")
    result = run_cli("create-project", "DEV@example.com", "My site", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"project_id", "key"} and result.stdout.count("\n") == 1
    assert isinstance(answer["project_id"], int) and answer["key"].startswith("jc_")
    project = session.get(Project, answer["project_id"])
    assert project is not None and project.name == "My site"
    for scope in ("upload", "read", "manage"):
        auth = authenticate_project_key(session, answer["key"], scope=scope)
        assert auth.project_id == answer["project_id"]


def test_without_json_two_readable_lines(
    db_url: str, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    make_user(session, "dev@example.com")
    assert main(["create-project", "dev@example.com", "App"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Created project ") and "(App) for dev@example.com" in lines[0]
    assert "shown once" in lines[1] and lines[1].split()[-1].startswith("jc_")


def test_an_unknown_email_is_one_line_exit_2_no_traceback(db_url: str) -> None:
    result = run_cli("create-project", "nobody@example.com", "App", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "error: No account with the email nobody@example.com.\n"


def test_the_plan_limit_and_bad_names_are_refused_in_one_line(
    db_url: str, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    make_user(session, "dev@example.com")
    for n in range(3):
        assert main(["create-project", "dev@example.com", f"P{n}", "--json"]) == 0
    capsys.readouterr()
    assert main(["create-project", "dev@example.com", "P3", "--json"]) == 2
    err = capsys.readouterr()
    assert err.out == "" and err.err.startswith("error: The Free plan allows 3 projects")
    assert main(["create-project", "dev@example.com", "   "]) == 2
    assert capsys.readouterr().err == "error: Give the project a name.\n"
