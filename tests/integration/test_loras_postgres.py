"""LoRA trainings on a real PostgreSQL: the same rows, finishing once, and the time limit."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import Session

from app.services.billing import credits
from app.services.generation import lora_training
from app.services.generation.lora_fal import Outcome
from app.services.generation.lora_progress import apply_outcome
from app.services.generation.lora_queue import reconcile_trainings
from app.services.generation.lora_records import load
from app.settings import reset_settings
from tests.utils.job_helpers import make_user

pytestmark = pytest.mark.integration


def photos(count: int) -> list[tuple[str, bytes]]:
    files = []
    for i in range(count):
        buf = io.BytesIO()
        Image.new("RGB", (48, 48), (i * 60 % 256, 40, 90)).save(buf, "PNG")
        files.append((f"p{i}.png", buf.getvalue()))
    return files


@pytest.fixture(autouse=True)
def _fal_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY", "fal-test-key")
    reset_settings()


def test_a_training_finishes_once_and_one_never_sent_times_out(pg_session: Session) -> None:
    session = pg_session
    ada = make_user(session, "ada@example.com", balance=1000)
    done_id = lora_training.start_training(session, user=ada, files=photos(4),
                                           trigger_word="TOK").id  # fmt: skip
    outcome = Outcome("done", lora_url="https://fal.example/l.safetensors")
    assert apply_outcome(session, done_id, outcome) is True
    assert apply_outcome(session, done_id, Outcome("failed", error="late")) is False  # a replay
    assert load(session, done_id).status == "done"
    assert credits.balance(session, user_id=ada.id or 0) == 700

    stuck_id = lora_training.start_training(session, user=ada, files=photos(5),
                                            trigger_word="TOK2").id  # fmt: skip
    assert credits.balance(session, user_id=ada.id or 0) == 400
    later = load(session, stuck_id).created_at + timedelta(hours=3)
    assert reconcile_trainings(now=later)["timed_out"] == 1
    stuck = load(session, stuck_id)
    assert stuck.status == "failed" and "did not finish" in (stuck.error or "")
    assert credits.balance(session, user_id=ada.id or 0) == 700
