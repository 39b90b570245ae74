"""Mutations on saved prompts: permissions, share links, conflicts, trash, tags, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from app.services.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    VersionConflictError,
)
from app.services.core.models import (
    Analysis,
    Asset,
    Conversation,
    ConversationTurn,
    Prompt,
    PromptTag,
    PromptVersion,
    Role,
    Tag,
    utcnow,
)
from app.services.core.storage import get_storage
from app.services.library import prompt_ops
from app.services.library.gallery import GalleryQuery, list_prompts
from app.services.library.prompts import PromptValidationError
from tests.utils.prompt_factories import make_prompt, make_user, prompt_data


def _pid(prompt: Prompt) -> int:
    assert prompt.id is not None
    return prompt.id


# --- who may do what --------------------------------------------------------------------------


def test_someone_elses_private_prompt_is_invisible_and_untouchable(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    eve = make_user(session, "eve", Role.editor)
    secret = _pid(make_prompt(session, ada, "secret", visibility="private"))
    session.commit()
    for viewer in (bob, eve, None):
        with pytest.raises(NotFoundError):
            prompt_ops.get_prompt_detail(session, prompt_id=secret, viewer=viewer)
        with pytest.raises(NotFoundError):
            prompt_ops.list_versions(session, prompt_id=secret, viewer=viewer)
    for viewer in (bob, eve):
        calls = [
            lambda v=viewer: prompt_ops.save_version(
                session, prompt_id=secret, data=prompt_data("x"), author=v, base_version=1
            ),
            lambda v=viewer: prompt_ops.set_favorite(
                session, prompt_id=secret, viewer=v, favorite=True
            ),
            lambda v=viewer: prompt_ops.create_share_link(session, prompt_id=secret, viewer=v),
            lambda v=viewer: prompt_ops.trash(session, prompt_ids=[secret], viewer=v),
            lambda v=viewer: prompt_ops.duplicate(session, prompt_id=secret, viewer=v),
            lambda v=viewer: prompt_ops.bulk_tag(session, prompt_ids=[secret], viewer=v, add=["x"]),
        ]
        for call in calls:
            with pytest.raises(NotFoundError):
                call()
    assert prompt_ops.get_prompt_detail(session, prompt_id=secret, viewer=ada).current_version == 1


def test_editors_edit_public_prompts_but_only_owners_manage_them(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    eve = make_user(session, "eve", Role.editor)
    public = _pid(make_prompt(session, ada, "public"))
    session.commit()

    # A plain user can look but not edit.
    with pytest.raises(PermissionDeniedError):
        prompt_ops.save_version(
            session, prompt_id=public, data=prompt_data("bob"), author=bob, base_version=1
        )
    # An editor can add versions and tags...
    v2 = prompt_ops.save_version(
        session, prompt_id=public, data=prompt_data("eve"), author=eve, base_version=1
    )
    assert v2.number == 2 and v2.author_id == eve.id
    assert prompt_ops.bulk_tag(session, prompt_ids=[public], viewer=eve, add=["curated"]) == 1
    # ...but the owner's decisions stay the owner's.
    for call in (
        lambda: prompt_ops.set_visibility(
            session, prompt_id=public, viewer=eve, visibility="private"
        ),
        lambda: prompt_ops.set_rating(session, prompt_id=public, viewer=eve, rating=1),
        lambda: prompt_ops.create_share_link(session, prompt_id=public, viewer=eve),
        lambda: prompt_ops.trash(session, prompt_ids=[public], viewer=eve),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    detail = prompt_ops.get_prompt_detail(session, prompt_id=public, viewer=eve)
    assert (detail.can_edit, detail.can_manage) == (True, False)


def test_admins_can_open_and_change_anything(session: Session) -> None:
    ada = make_user(session, "ada")
    root = make_user(session, "root", Role.admin)
    secret = _pid(make_prompt(session, ada, "secret", visibility="private"))
    detail = prompt_ops.get_prompt_detail(session, prompt_id=secret, viewer=root)
    assert (detail.can_edit, detail.can_manage) == (True, True)
    prompt_ops.save_version(
        session, prompt_id=secret, data=prompt_data("moderated"), author=root, base_version=1
    )
    assert prompt_ops.trash(session, prompt_ids=[secret], viewer=root) == 1


def test_favourite_rating_visibility(session: Session) -> None:
    ada = make_user(session, "ada")
    p = _pid(make_prompt(session, ada, "p", visibility="private"))
    assert prompt_ops.set_favorite(session, prompt_id=p, viewer=ada, favorite=True).is_favorite
    assert prompt_ops.set_rating(session, prompt_id=p, viewer=ada, rating=5).rating == 5
    assert prompt_ops.set_rating(session, prompt_id=p, viewer=ada, rating=None).rating is None
    for bad in (0, 6, -1, True):
        with pytest.raises(InvalidInputError):
            prompt_ops.set_rating(session, prompt_id=p, viewer=ada, rating=bad)
    assert (
        prompt_ops.set_visibility(session, prompt_id=p, viewer=ada, visibility="public").visibility
        == "public"
    )
    with pytest.raises(InvalidInputError):
        prompt_ops.set_visibility(session, prompt_id=p, viewer=ada, visibility="unlisted")


# --- share links ------------------------------------------------------------------------------


def test_share_links_are_read_only_revocable_and_die_with_the_trash(session: Session) -> None:
    ada = make_user(session, "ada")
    p = _pid(make_prompt(session, ada, "shared", visibility="private", tags=["sea"]))
    token = prompt_ops.create_share_link(session, prompt_id=p, viewer=ada)
    assert len(token) >= 32
    assert prompt_ops.create_share_link(session, prompt_id=p, viewer=ada) == token  # stable
    session.commit()

    shared = prompt_ops.get_shared(session, token=token)
    assert (shared.title, shared.version, shared.tags, shared.author) == (
        "shared",
        1,
        ["sea"],
        "ada",
    )
    assert shared.data["scene"] == "An abstract pattern"
    # The link gives no other power: the prompt is still private to everyone else.
    assert list_prompts(session, storage=get_storage(), viewer=None).items == []

    prompt_ops.trash(session, prompt_ids=[p], viewer=ada)
    with pytest.raises(NotFoundError):
        prompt_ops.get_shared(session, token=token)
    prompt_ops.restore(session, prompt_ids=[p], viewer=ada)
    assert prompt_ops.get_shared(session, token=token).title == "shared"

    prompt_ops.revoke_share_link(session, prompt_id=p, viewer=ada)
    with pytest.raises(NotFoundError):
        prompt_ops.get_shared(session, token=token)
    assert prompt_ops.create_share_link(session, prompt_id=p, viewer=ada) != token  # rotated
    for forged in ["", "x" * 65, "../../etc", "' OR 1=1 --", token[:-1]]:
        with pytest.raises(NotFoundError):
            prompt_ops.get_shared(session, token=forged)


# --- versions and conflicts -------------------------------------------------------------------


def test_two_saves_on_the_same_base_second_gets_a_conflict(session: Session) -> None:
    ada = make_user(session, "ada")
    eve = make_user(session, "eve", Role.editor)
    p = _pid(make_prompt(session, ada, "p"))
    session.commit()
    first = prompt_ops.save_version(
        session, prompt_id=p, data=prompt_data("ada's edit"), author=ada, base_version=1
    )
    session.commit()
    with pytest.raises(VersionConflictError) as caught:
        prompt_ops.save_version(
            session, prompt_id=p, data=prompt_data("eve's edit"), author=eve, base_version=1
        )
    assert isinstance(caught.value, ConflictError)
    assert caught.value.current_version == 2
    assert caught.value.current_data["scene"] == "ada's edit"
    session.rollback()
    versions = session.exec(select(PromptVersion).where(PromptVersion.prompt_id == p)).all()
    assert sorted(v.number for v in versions) == [1, 2]
    detail = prompt_ops.get_prompt_detail(session, prompt_id=p, viewer=ada)
    assert detail.current_version == 2 and detail.data["scene"] == "ada's edit"
    assert first.number == 2
    # Retrying on top of the latest works.
    again = prompt_ops.save_version(
        session, prompt_id=p, data=prompt_data("eve's edit"), author=eve, base_version=2
    )
    assert again.number == 3


def test_saving_identical_data_adds_no_version_and_bad_data_nothing(session: Session) -> None:
    ada = make_user(session, "ada")
    p = _pid(make_prompt(session, ada, "p"))
    same = prompt_ops.save_version(
        session, prompt_id=p, data=prompt_data(), author=ada, base_version=1
    )
    assert same.number == 1
    with pytest.raises(PromptValidationError):
        prompt_ops.save_version(session, prompt_id=p, data={"scene": 3}, author=ada, base_version=1)
    assert len(prompt_ops.list_versions(session, prompt_id=p, viewer=ada)) == 1


def test_revert_adds_a_version_equal_to_the_old_one(session: Session) -> None:
    ada = make_user(session, "ada")
    p = _pid(make_prompt(session, ada, "p", scene="first"))
    prompt_ops.save_version(
        session, prompt_id=p, data=prompt_data("second"), author=ada, base_version=1
    )
    reverted = prompt_ops.revert(session, prompt_id=p, viewer=ada, version_number=1)
    assert reverted.number == 3 and reverted.data["scene"] == "first"
    assert reverted.message == "Reverted to version 1"
    history = prompt_ops.list_versions(session, prompt_id=p, viewer=ada)
    assert [v.number for v in history] == [3, 2, 1]
    assert [v.is_current for v in history] == [True, False, False]
    assert prompt_ops.get_version(session, prompt_id=p, viewer=ada, number=2).data["scene"] == (
        "second"
    )
    with pytest.raises(NotFoundError):
        prompt_ops.revert(session, prompt_id=p, viewer=ada, version_number=9)
    with pytest.raises(VersionConflictError):
        prompt_ops.revert(session, prompt_id=p, viewer=ada, version_number=2, base_version=2)


# --- trash ------------------------------------------------------------------------------------


def test_trash_restore_and_purge(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    a1 = _pid(make_prompt(session, ada, "a1", tags=["x"]))
    a2 = _pid(make_prompt(session, ada, "a2"))
    b1 = _pid(make_prompt(session, bob, "b1"))
    # Analyses and chats that pointed at a purged prompt survive it, unlinked.
    assert ada.id is not None
    analysis = Analysis(user_id=ada.id, prompt_id=a1, provider="local", model="local/x")
    chat = Conversation(user_id=ada.id, prompt_id=a1)
    session.add_all([analysis, chat])
    session.commit()

    assert prompt_ops.trash(session, prompt_ids=[a1, a2, a1], viewer=ada) == 2
    assert prompt_ops.trash(session, prompt_ids=[a1], viewer=ada) == 0  # already there
    with pytest.raises(NotFoundError):  # all or nothing: b1 isn't Ada's to trash (or see)
        prompt_ops.trash(session, prompt_ids=[a2, b1], viewer=bob)
    assert prompt_ops.restore(session, prompt_ids=[a2], viewer=ada) == 1
    prompt_ops.trash(session, prompt_ids=[b1], viewer=bob)
    session.commit()

    # Nothing old enough yet.
    assert prompt_ops.purge_trash(session, viewer=ada, older_than=timedelta(days=30)) == 0
    assert prompt_ops.purge_trash(session, viewer=ada) == 1  # only Ada's, only trashed
    session.commit()
    assert session.get(Prompt, a1) is None
    assert session.get(Prompt, a2) is not None and session.get(Prompt, b1) is not None
    assert session.exec(select(PromptVersion).where(PromptVersion.prompt_id == a1)).all() == []
    assert session.exec(select(PromptTag).where(PromptTag.prompt_id == a1)).all() == []
    session.refresh(analysis)
    session.refresh(chat)
    assert analysis.prompt_id is None and chat.prompt_id is None
    root = make_user(session, "root", Role.admin)
    assert prompt_ops.purge_trash(session, viewer=root) == 1  # admins empty everyone's


# --- tags and duplicates ----------------------------------------------------------------------


def test_bulk_tag_adds_and_removes(session: Session) -> None:
    ada = make_user(session, "ada")
    p1 = _pid(make_prompt(session, ada, "p1", tags=["old", "keep"]))
    p2 = _pid(make_prompt(session, ada, "p2", tags=["keep"]))
    changed = prompt_ops.bulk_tag(
        session, prompt_ids=[p1, p2], viewer=ada, add=["New", " new ", ""], remove=["OLD", "nope"]
    )
    assert changed == 2
    assert prompt_ops.bulk_tag(session, prompt_ids=[p1, p2], viewer=ada, add=["new"]) == 0
    by_prompt: dict[int, list[str]] = {}
    for pid, name in session.exec(
        select(PromptTag.prompt_id, Tag.name)
        .join(Tag, col(Tag.id) == col(PromptTag.tag_id))
        .order_by(col(Tag.name))
    ).all():
        by_prompt.setdefault(pid, []).append(name)
    assert by_prompt == {p1: ["keep", "new"], p2: ["keep", "new"]}
    page = list_prompts(
        session, storage=get_storage(), viewer=ada, query=GalleryQuery(tags=("new", "keep"))
    )
    assert len(page.items) == 2
    with pytest.raises(InvalidInputError):
        prompt_ops.bulk_tag(session, prompt_ids=[p1], viewer=ada, add=[f"t{i}" for i in range(21)])
    with pytest.raises(InvalidInputError):
        prompt_ops.bulk_tag(session, prompt_ids=range(501), viewer=ada, add=["x"])


def test_duplicate_makes_a_private_copy_for_the_viewer(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    assert ada.id is not None
    asset = Asset(
        owner_id=ada.id, content_hash="h" * 64, mime_type="image/png", size_bytes=1, width=1,
        height=1, storage_key="k",
    )  # fmt: skip
    session.add(asset)
    session.flush()
    source = make_prompt(session, ada, "Sunset", tags=["sea"], model="m/a", style="photo")
    source.asset_id = asset.id
    prompt_ops.save_version(
        session, prompt_id=_pid(source), data=prompt_data("v2"), author=ada, base_version=1
    )
    mine = prompt_ops.duplicate(session, prompt_id=_pid(source), viewer=ada)
    theirs = prompt_ops.duplicate(session, prompt_id=_pid(source), viewer=bob)
    assert (mine.owner_id, theirs.owner_id) == (ada.id, bob.id)
    assert mine.title == "Copy of Sunset" and mine.visibility == "private"
    assert (mine.model, mine.style, mine.asset_id) == ("m/a", "photo", asset.id)
    assert theirs.asset_id is None  # someone else's upload doesn't travel
    detail = prompt_ops.get_prompt_detail(session, prompt_id=_pid(theirs), viewer=bob)
    assert detail.data["scene"] == "v2" and detail.current_version == 1
    assert detail.tags == ["sea"]
    assert "version 2" in detail.versions[0].message


# --- the prompt page --------------------------------------------------------------------------


def test_detail_shows_the_analysis_that_made_it(session: Session) -> None:
    ada = make_user(session, "ada")
    assert ada.id is not None
    p = _pid(make_prompt(session, ada, "From the analyzer"))
    chat = Conversation(user_id=ada.id, prompt_id=p)
    session.add(chat)
    session.flush()
    assert chat.id is not None
    earlier = utcnow() - timedelta(minutes=5)
    describe = Analysis(
        user_id=ada.id, provider="local", model="local/vision", status="done", kind="describe",
        reasoning="Warm light from the left.", created_at=earlier,
    )  # fmt: skip
    refine = Analysis(
        user_id=ada.id, provider="openrouter", model="vendor/model", status="done",
        kind="refine", reasoning="Made it night.", prompt_id=p,
    )  # fmt: skip
    session.add_all([describe, refine])
    session.flush()
    session.add(
        ConversationTurn(conversation_id=chat.id, role="assistant", analysis_id=describe.id)
    )
    session.commit()
    detail = prompt_ops.get_prompt_detail(session, prompt_id=p, viewer=ada, storage=get_storage())
    assert [a.model for a in detail.analyses] == ["local/vision", "vendor/model"]
    assert detail.origin is not None and detail.origin.reasoning == "Warm light from the left."
    assert detail.conversation_id == chat.id
    assert detail.image_url == "" and detail.asset is None


def test_saving_from_the_analyzer_stamps_its_analyses_with_the_prompt(session: Session) -> None:
    from app.services.analyzer import conversations

    ada = make_user(session, "ada")
    assert ada.id is not None
    chat = Conversation(user_id=ada.id, title="Chat")
    analysis = Analysis(user_id=ada.id, provider="local", model="local/vision", status="done")
    session.add_all([chat, analysis])
    session.flush()
    conversations.add_turn(
        session,
        conversation=chat,
        role="assistant",
        analysis_id=analysis.id,
        data=prompt_data("From a chat"),
    )
    prompt_id, version = conversations.save_to_gallery(
        session, user_id=ada.id, conversation_id=chat.id or 0
    )
    session.commit()
    session.refresh(analysis)
    assert (analysis.prompt_id, version) == (prompt_id, 1)
    detail = prompt_ops.get_prompt_detail(session, prompt_id=prompt_id, viewer=ada)
    assert detail.origin is not None and detail.origin.model == "local/vision"
