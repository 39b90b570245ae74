"""What /generate reads: the model choices, a person's recent runs and their image links, and
the analyzer answer it can open. Real SQLite, the real queue of the test's DATA_DIR."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services.analyzer import conversations
from app.services.core.errors import NotFoundError
from app.services.core.models import User
from app.services.core.storage import get_storage
from app.services.generation import runs
from app.services.generation.model_choices import OFFLINE_LABEL, image_model_choices
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.run_reads import image_links, recent_generations
from app.services.generation.sources import answer_prompt, latest_answer_id
from app.settings import reset_settings
from tests.utils.job_helpers import make_user
from tests.utils.job_helpers import run_queue as run_the_queue
from tests.utils.prompt_factories import prompt_data


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com")


@pytest.fixture
def bob(session: Session) -> User:
    return make_user(session, "bob@example.com")


def test_the_layout_preview_comes_first_and_models_without_a_key_say_why() -> None:
    choices = image_model_choices()
    first = choices[0]
    assert (first.model_id, first.label, first.available) == (OFFLINE_MODEL_ID, OFFLINE_LABEL, True)
    assert OFFLINE_LABEL == "Layout preview (not a generative model)"
    together = next(c for c in choices if c.model_id == "black-forest-labs/FLUX.1-schnell")
    assert not together.available and "TOGETHER_API_KEY" in (together.unavailable_reason or "")
    fal_dev = next(c for c in choices if c.model_id == "fal-ai/flux/dev")
    assert fal_dev.takes_steps and fal_dev.takes_guidance and not fal_dev.available
    assert [c.model_id for c in choices].count(OFFLINE_MODEL_ID) == 1


def test_a_model_becomes_available_once_its_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "together-test-key")
    reset_settings()
    choices = {c.model_id: c for c in image_model_choices()}
    assert choices["black-forest-labs/FLUX.1-schnell"].available
    assert not choices["fal-ai/flux/dev"].available


def _run(session: Session, user: User, scene: str, n: int = 1) -> int:
    view = runs.start_generation(session, user=user, model=OFFLINE_MODEL_ID,
                                 prompt=prompt_data(scene), n=n)  # fmt: skip
    return view.id


def test_recent_runs_are_the_persons_own_newest_first(
    session: Session, ada: User, bob: User
) -> None:
    older, newer = _run(session, ada, "A kite"), _run(session, ada, "A boat", n=2)
    _run(session, bob, "Not ada's")
    assert [v.id for v in recent_generations(session, user=ada)] == [newer, older]
    assert [v.id for v in recent_generations(session, user=ada, limit=1)] == [newer]
    assert recent_generations(session, user=User(email="nobody@example.com")) == []


def test_image_links_only_for_the_owners_images(session: Session, ada: User, bob: User) -> None:
    run_id = _run(session, ada, "A lighthouse", n=2)
    run_the_queue()
    view = runs.get_generation(session, user=ada, generation_id=run_id)
    asset_ids = [i.asset_id for i in view.images]
    assert all(asset_ids)
    links = image_links(session, user=ada, asset_ids=[*asset_ids, None], storage=get_storage())
    assert set(links) == set(asset_ids)
    assert all(link.thumbnail_url and link.url for link in links.values())
    assert image_links(session, user=bob, asset_ids=asset_ids, storage=get_storage()) == {}
    fresh = recent_generations(session, user=ada)[0]
    assert fresh.status == "done" and [i.status for i in fresh.images] == ["done", "done"]


def _conversation(session: Session, user: User, *answers: dict[str, object]) -> int:
    assert user.id is not None
    conversation = conversations.start(session, user_id=user.id, asset_id=None, model="local/x",
                                       title="poster.png")  # type: ignore[arg-type]  # fmt: skip
    conversations.add_turn(session, conversation=conversation, role="user", text="poster.png")
    for data in answers:
        conversations.add_turn(session, conversation=conversation, role="assistant", data=data)
    session.commit()
    assert conversation.id is not None
    return conversation.id


def test_the_analyzers_newest_answer_opens_for_its_owner_only(
    session: Session, ada: User, bob: User
) -> None:
    assert ada.id is not None and bob.id is not None
    chat = _conversation(session, ada, prompt_data("First look"), prompt_data("Made it night"))
    turn = latest_answer_id(session, user_id=ada.id, conversation_id=chat)
    data, title = answer_prompt(session, user_id=ada.id, turn_id=turn)
    assert (data["scene"], title) == ("Made it night", "poster.png")
    with pytest.raises(NotFoundError):
        answer_prompt(session, user_id=bob.id, turn_id=turn)
    with pytest.raises(NotFoundError):
        latest_answer_id(session, user_id=bob.id, conversation_id=chat)
    with pytest.raises(NotFoundError):
        answer_prompt(session, user_id=ada.id, turn_id=turn + 1000)
    user_turn = turn - 2  # the person's own message holds no prompt
    with pytest.raises(NotFoundError):
        answer_prompt(session, user_id=ada.id, turn_id=user_turn)


def test_a_conversation_with_no_answer_yet_has_nothing_to_generate(
    session: Session, ada: User
) -> None:
    assert ada.id is not None
    chat = _conversation(session, ada)
    with pytest.raises(NotFoundError, match="analyze an image first"):
        latest_answer_id(session, user_id=ada.id, conversation_id=chat)
