"""The gallery listing: keyset pages, every filter, who sees what, saved filters, similar prompts.

The tests taking only `session` also run on PostgreSQL (tests/integration/test_search_postgres.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlmodel import Session, col, select

from app.services.analyzer import style_memory
from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import Prompt, PromptTag, Role, Tag, User
from app.services.core.storage import get_storage
from app.services.library import gallery, prompt_ops
from app.services.library.gallery import GalleryQuery
from tests.utils.prompt_factories import make_prompt, make_user

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _list(
    session: Session,
    viewer: User | None,
    query: GalleryQuery | None = None,
    *,
    limit: int = 100,
    cursor: str | None = None,
) -> gallery.Page:
    return gallery.list_prompts(
        session, storage=get_storage(), viewer=viewer, query=query, limit=limit, cursor=cursor
    )


def _titles(session: Session, viewer: User | None, **query: Any) -> list[str]:
    return [c.title for c in _list(session, viewer, GalleryQuery(**query)).items]


def test_keyset_pages_never_repeat_or_skip_while_prompts_arrive(session: Session) -> None:
    ada = make_user(session, "ada")
    originals = []
    for i in range(23):
        # Groups of three share a timestamp, so the id tiebreak decides order inside them.
        created = T0 + timedelta(minutes=i // 3)
        originals.append(make_prompt(session, ada, f"p{i:02d}", created_at=created).id)
    session.commit()

    seen: list[int] = []
    cursor = None
    pages = 0
    late_older_id = None
    while True:
        page = _list(session, ada, limit=5, cursor=cursor)
        seen += [c.id for c in page.items]
        pages += 1
        # Between pages: newer prompts (belong before the cursor), a same-second twin of the
        # last row, and once a much older prompt (belongs after the cursor, must show up).
        make_prompt(session, ada, f"new{pages}", created_at=T0 + timedelta(days=1))
        if page.items:
            make_prompt(session, ada, f"twin{pages}", created_at=page.items[-1].created_at)
        if pages == 2:
            late_older_id = make_prompt(
                session, ada, "late-old", created_at=T0 - timedelta(days=30)
            ).id
        session.commit()
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)), "a row was repeated across pages"
    assert set(originals) <= set(seen), "a row was skipped"
    assert late_older_id in seen
    titles = {p.id: p.title for p in session.exec(select(Prompt)).all()}
    assert not any(titles[i].startswith("new") for i in seen)
    # Rows come newest first, ties by id descending.
    rows = session.exec(select(Prompt).where(col(Prompt.id).in_(seen))).all()
    order = {p.id: (p.created_at, p.id) for p in rows}
    keys = [order[i] for i in seen]
    assert keys == sorted(keys, reverse=True)


def test_a_mangled_cursor_restarts_from_the_first_page(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "only")
    session.commit()
    for cursor in ["garbage", "2025-01-01|x", "|", "2025-01-01T00:00:00|9"]:
        page = _list(session, ada, cursor=cursor)
        assert [c.title for c in page.items] in (["only"], [])
    assert [c.title for c in _list(session, ada, cursor="nonsense").items] == ["only"]


def test_visibility_public_plus_own_and_admin_by_owner(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    root = make_user(session, "root", Role.admin)
    eve = make_user(session, "eve", Role.editor)
    make_prompt(session, ada, "ada-private", visibility="private", created_at=T0)
    make_prompt(session, ada, "ada-public", created_at=T0 + timedelta(minutes=1))
    make_prompt(session, bob, "bob-private", visibility="private", created_at=T0 + timedelta(2))
    session.commit()
    assert _titles(session, None) == ["ada-public"]
    assert _titles(session, ada) == ["ada-public", "ada-private"]
    assert _titles(session, bob) == ["bob-private", "ada-public"]
    assert _titles(session, eve) == ["ada-public"]
    # Admins browse like anyone, and see all of one person's prompts when they ask for them.
    assert _titles(session, root) == ["ada-public"]
    assert _titles(session, root, owner=ada.id) == ["ada-public", "ada-private"]
    assert _titles(session, bob, owner=ada.id) == ["ada-public"]


def test_owner_filters(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    make_prompt(session, ada, "ada-private", visibility="private", created_at=T0)
    make_prompt(session, ada, "ada-public", created_at=T0 + timedelta(minutes=1))
    make_prompt(session, bob, "bob-public", created_at=T0 + timedelta(minutes=2))
    session.commit()
    assert _titles(session, ada, owner="me") == ["ada-public", "ada-private"]
    assert _titles(session, ada, owner="public") == ["bob-public", "ada-public"]
    assert _titles(session, ada, owner=bob.id) == ["bob-public"]
    assert _titles(session, ada, owner=str(bob.id)) == ["bob-public"]
    assert _titles(session, None, owner="me") == []
    with pytest.raises(InvalidInputError):
        _titles(session, ada, owner="everyone")


def test_tag_filter_needs_every_tag(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "both", tags=["night", "city"], created_at=T0)
    make_prompt(session, ada, "night", tags=["night"], created_at=T0 + timedelta(minutes=1))
    make_prompt(session, ada, "city", tags=["city", "rain"], created_at=T0 + timedelta(2))
    session.commit()
    assert _titles(session, ada, tags=("night",)) == ["night", "both"]
    assert _titles(session, ada, tags=("night", "city")) == ["both"]
    assert _titles(session, ada, tags=(" NIGHT ", "City")) == ["both"]  # stored normalised
    assert _titles(session, ada, tags=("night", "unknown")) == []
    assert _titles(session, ada, tags=("", "  ")) == ["city", "night", "both"]  # blank = none
    with pytest.raises(InvalidInputError):
        _titles(session, ada, tags=tuple(f"t{i}" for i in range(gallery.MAX_FILTER_TAGS + 1)))


def test_model_style_and_date_filters(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "old", model="m/a", style="watercolor", created_at=T0)
    make_prompt(session, ada, "mid", model="m/b", style="watercolor", created_at=T0 + timedelta(1))
    make_prompt(session, ada, "new", model="m/a", style="photo", created_at=T0 + timedelta(2))
    session.commit()
    assert _titles(session, ada, model="m/a") == ["new", "old"]
    assert _titles(session, ada, style="watercolor") == ["mid", "old"]
    assert _titles(session, ada, model="m/a", style="watercolor") == ["old"]
    assert _titles(session, ada, date_from=T0 + timedelta(1)) == ["new", "mid"]
    assert _titles(session, ada, date_to=T0 + timedelta(1)) == ["old"]  # exclusive
    assert _titles(
        session, ada, date_from=T0 + timedelta(hours=1), date_to=T0 + timedelta(days=1, hours=1)
    ) == ["mid"]
    # A naive datetime means UTC.
    assert _titles(session, ada, date_from=datetime(2025, 3, 2, 12, 0)) == ["new", "mid"]


def test_text_filter_combines_with_the_others(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "Red fox", scene="A fox in snow", tags=["animal"], created_at=T0)
    make_prompt(session, ada, "Grey fox", scene="A fox at dusk", created_at=T0 + timedelta(1))
    make_prompt(session, ada, "Owl", scene="An owl in snow", tags=["animal"], created_at=T0)
    session.commit()
    assert _titles(session, ada, text="fox") == ["Grey fox", "Red fox"]
    assert _titles(session, ada, text="fox", tags=("animal",)) == ["Red fox"]
    assert _titles(session, ada, text="snow animal") == ["Owl", "Red fox"]  # same second: id
    assert _titles(session, ada, text='"*') == ["Grey fox", "Owl", "Red fox"]  # no words


def test_favorites_only_is_the_viewers_own_favourites(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    fav = make_prompt(session, ada, "fav", created_at=T0)
    make_prompt(session, ada, "plain", created_at=T0 + timedelta(1))
    bob_fav = make_prompt(session, bob, "bob-fav", created_at=T0 + timedelta(2))
    assert fav.id is not None and bob_fav.id is not None
    prompt_ops.set_favorite(session, prompt_id=fav.id, viewer=ada, favorite=True)
    prompt_ops.set_favorite(session, prompt_id=bob_fav.id, viewer=bob, favorite=True)
    session.commit()
    assert _titles(session, ada, favorites_only=True) == ["fav"]
    assert _titles(session, None, favorites_only=True) == []


def test_trash_is_hidden_unless_asked_and_only_your_own(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    gone = make_prompt(session, ada, "gone", created_at=T0)
    make_prompt(session, ada, "kept", created_at=T0 + timedelta(1))
    bobs = make_prompt(session, bob, "bob-gone", created_at=T0 + timedelta(2))
    assert gone.id is not None and bobs.id is not None
    prompt_ops.trash(session, prompt_ids=[gone.id], viewer=ada)
    prompt_ops.trash(session, prompt_ids=[bobs.id], viewer=bob)
    session.commit()
    assert _titles(session, ada) == ["kept"]
    assert _titles(session, ada, include_trash=True) == ["kept", "gone"]
    assert _titles(session, ada, trash_only=True) == ["gone"]
    assert _titles(session, None, include_trash=True) == ["kept"]
    cards = _list(session, ada, GalleryQuery(trash_only=True)).items
    assert cards[0].deleted_at is not None


def test_cards_carry_favourite_rating_and_tags(session: Session) -> None:
    ada = make_user(session, "ada")
    p = make_prompt(session, ada, "card", tags=["b", "a"])
    assert p.id is not None
    prompt_ops.set_favorite(session, prompt_id=p.id, viewer=ada, favorite=True)
    prompt_ops.set_rating(session, prompt_id=p.id, viewer=ada, rating=4)
    session.commit()
    (card,) = _list(session, ada).items
    assert (card.is_favorite, card.rating, card.tags, card.owner_id) == (
        True,
        4,
        ["a", "b"],
        ada.id,
    )
    assert card.author == "ada"


# --- saved filters ----------------------------------------------------------------------------


def test_saved_filters_round_trip_and_belong_to_their_owner(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    query = GalleryQuery(
        text="fox", tags=("night", "city"), owner="me", date_from=T0, model="m/a", trash_only=False
    )
    saved = gallery.save_filter(session, user=ada, name="  Night   foxes ", query=query)
    assert saved.name == "Night foxes"
    again = gallery.save_filter(session, user=ada, name="Night foxes", query=GalleryQuery())
    assert again.id == saved.id  # same name replaces
    gallery.save_filter(session, user=ada, name="Night foxes", query=query)
    gallery.save_filter(session, user=bob, name="Bob's", query=GalleryQuery(text="owl"))
    session.commit()

    (mine,) = gallery.list_filters(session, user=ada)
    assert GalleryQuery.from_dict(mine.query) == query
    assert GalleryQuery.from_dict({"text": "x", "from_the_future": 1}) == GalleryQuery(text="x")
    assert saved.id is not None
    with pytest.raises(NotFoundError):
        gallery.delete_filter(session, user=bob, filter_id=saved.id)
    gallery.delete_filter(session, user=ada, filter_id=saved.id)
    session.commit()
    assert gallery.list_filters(session, user=ada) == []
    assert [f.name for f in gallery.list_filters(session, user=bob)] == ["Bob's"]
    with pytest.raises(InvalidInputError):
        gallery.save_filter(session, user=ada, name="   ", query=query)


def test_saved_filters_are_capped(session: Session) -> None:
    ada = make_user(session, "ada")
    for i in range(gallery.MAX_SAVED_FILTERS):
        gallery.save_filter(session, user=ada, name=f"f{i}", query=GalleryQuery())
    with pytest.raises(InvalidInputError):
        gallery.save_filter(session, user=ada, name="one more", query=GalleryQuery())


# --- similar prompts (embeddings; SQLite only, it is slow-ish) -----------------------------------


def test_similar_to_uses_style_memory_and_respects_visibility(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    sea = make_prompt(session, ada, "sea", scene="Sailboats on a calm sea at sunset")
    make_prompt(session, ada, "sea2", scene="A yacht on the ocean as the sun goes down")
    make_prompt(session, ada, "desk", scene="A laptop and a coffee mug on an office desk")
    make_prompt(
        session, bob, "bob-sea", scene="Boats sailing on the sea at sunset", visibility="private"
    )
    hidden = make_prompt(session, bob, "hidden", visibility="private")
    assert style_memory.refresh_embeddings(session) == 5
    assert style_memory.refresh_embeddings(session) == 0  # nothing changed since
    session.commit()
    assert sea.id is not None and hidden.id is not None
    similar = gallery.similar_to(session, prompt_id=sea.id, viewer=ada, storage=get_storage(), k=2)
    assert [c.title for c in similar] == ["sea2", "desk"]
    with pytest.raises(NotFoundError):
        gallery.similar_to(session, prompt_id=hidden.id, viewer=ada, storage=get_storage())


def test_common_and_rare_tags_give_the_same_answers(session: Session) -> None:
    """Past COMMON_TAG_ROWS a tag is probed per row instead of listed: same results either way."""
    ada = make_user(session, "ada")
    common, rare = (make_prompt(session, ada, n, tags=[n]) for n in ("common", "rare"))
    assert ada.id is not None and common.id is not None and rare.id is not None
    tag_id = {
        name: session.exec(select(Tag.id).where(Tag.name == name)).one()
        for name in ("common", "rare")
    }
    n = gallery.COMMON_TAG_ROWS + 50
    session.execute(
        insert(Prompt),
        [
            {"owner_id": ada.id, "title": f"bulk{i}", "visibility": "public",
             "created_at": T0 + timedelta(seconds=i), "updated_at": T0}
            for i in range(n)
        ],
    )  # fmt: skip
    bulk = session.exec(select(Prompt.id).where(col(Prompt.title).startswith("bulk"))).all()
    links = [{"prompt_id": pid, "tag_id": tag_id["common"]} for pid in bulk]
    links += [{"prompt_id": pid, "tag_id": tag_id["rare"]} for pid in bulk[::400]]
    session.execute(insert(PromptTag), links)
    session.commit()

    def ids(*tags: str) -> list[int]:
        out: list[int] = []
        cursor = None
        while True:
            page = _list(session, ada, GalleryQuery(tags=tags), limit=100, cursor=cursor)
            out += [c.id for c in page.items]
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    everything = ids("common")
    assert len(everything) == n + 1 and len(set(everything)) == n + 1
    both = ids("common", "rare")
    assert set(both) == set(bulk[::400])
    assert ids("rare") == [rare.id, *sorted(bulk[::400], reverse=True)]  # newest first
