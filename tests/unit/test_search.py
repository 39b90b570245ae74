"""Full-text search: safe query parsing, relevance basics, and an index that follows every change.

The tests taking only `session` also run on PostgreSQL (tests/integration/test_search_postgres.py).
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.services.core.models import Role, User
from app.services.core.storage import get_storage
from app.services.library import prompt_ops, search
from app.services.library.gallery import GalleryQuery, list_prompts
from app.services.library.writes import add_version
from tests.utils.prompt_factories import make_prompt, make_user, prompt_data

NASTY = [
    '"',
    '""',
    "*",
    "OR",
    "a OR b",
    "-",
    "-lighthouse",
    "NEAR(",
    "NEAR(a b, 2)",
    "title:lighthouse",
    "^lighthouse",
    "'",
    "\\",
    "lighthouse AND NOT",
    "(((",
    "a & b | !c",
    "lighthouse:*",
    "%_%",
    "\x00",
    "🙂🙂",
    "日本語",
    "café",
    "x" * 10_000,
    "lighthouse " * 2_000,
]


def _titles(session: Session, text: str, viewer_name: str = "ada") -> list[str]:
    viewer = session.exec(select(User).where(User.display_name == viewer_name)).one()
    return [h.title for h in search.search_prompts(session, text=text, viewer=viewer)]


def _gallery_titles(session: Session, text: str) -> list[str]:
    page = list_prompts(
        session, storage=get_storage(), viewer=None, query=GalleryQuery(text=text), limit=100
    )
    return [c.title for c in page.items]


# --- parsing (no database) --------------------------------------------------------------------


@pytest.mark.parametrize("text", NASTY)
def test_user_text_is_always_quoted_words(text: str) -> None:
    fts = search.fts5_query(text)
    ts = search.tsquery(text)
    words = search.terms(text)
    assert (fts is None) == (ts is None) == (not words)
    assert len(words) <= search.MAX_TERMS
    assert all(len(w) <= search.MAX_TERM_LENGTH for w in words)
    if fts is not None:
        # Every token is a quoted word: no bare operator, column filter or paren survives.
        for token in fts.split(" "):
            assert token.startswith('"') and token.rstrip("*").endswith('"')
            assert '"' not in token.rstrip("*")[1:-1]


def test_empty_or_punctuation_only_text_means_no_filter() -> None:
    for text in ["", "   ", '"*-()', "the a of", None]:
        assert search.fts5_query(text) is None
        assert search.tsquery(text) is None


def test_words_are_anded_and_the_last_is_a_prefix() -> None:
    assert search.fts5_query("Red FOX, misty") == '"red" "fox" "misty"*'
    assert search.tsquery("Red FOX, misty") == "'red' & 'fox' & 'misty':*"
    assert search.fts5_query("the fox") == '"fox"*'  # stop word dropped
    assert search.fts5_query("fox x") == '"fox" "x"'  # one letter: no prefix blow-up


# --- against the database (also run on PostgreSQL) --------------------------------------------


def test_nasty_queries_never_break_search(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "Lighthouse at dusk", scene="A lighthouse on a rocky point")
    session.commit()
    for text in NASTY:
        hits = search.search_prompts(session, text=text, viewer=ada)
        page = list_prompts(
            session, storage=get_storage(), viewer=ada, query=GalleryQuery(text=text)
        )
        assert isinstance(hits, list) and isinstance(page.items, list)
    # Punctuation around a word doesn't hide it.
    assert _titles(session, '"lighthouse"') == ["Lighthouse at dusk"]
    assert _titles(session, "-lighthouse") == ["Lighthouse at dusk"]
    assert _titles(session, "(lighthouse*)") == ["Lighthouse at dusk"]


def test_title_beats_tags_beats_prose(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "Quiet harbour", scene="Boats resting, a lighthouse far away")
    make_prompt(session, ada, "Seaside", scene="Waves on sand", tags=["lighthouse"])
    make_prompt(session, ada, "Lighthouse keeper", scene="An old man with a lantern")
    make_prompt(session, ada, "Forest", scene="Tall pines in fog")
    session.commit()
    assert _titles(session, "lighthouse") == ["Lighthouse keeper", "Seaside", "Quiet harbour"]


def test_all_words_must_match_with_stemming_and_prefix(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "Peaks", scene="Snowy mountains under a red sky")
    make_prompt(session, ada, "Valley", scene="A green mountain valley")
    session.commit()
    assert sorted(_titles(session, "mountain")) == ["Peaks", "Valley"]  # stemmed
    assert _titles(session, "mountain red") == ["Peaks"]  # AND, not OR
    assert _titles(session, "snowy mount") == ["Peaks"]  # prefix on the last word
    assert _titles(session, "mountain purple") == []


def test_unicode_words_are_found(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "Morning in Paris", scene="A small café with espresso cups")
    make_prompt(session, ada, "Tokyo sign", scene="A neon sign reading 日本語 at night")
    session.commit()
    assert _titles(session, "café") == ["Morning in Paris"]
    assert _titles(session, "日本語") == ["Tokyo sign"]


def test_only_visible_live_prompts_are_found(session: Session) -> None:
    ada = make_user(session, "ada")
    bob = make_user(session, "bob")
    mine = make_prompt(session, ada, "My secret lighthouse", visibility="private")
    make_prompt(session, bob, "Bob's secret lighthouse", visibility="private")
    make_prompt(session, bob, "Bob's public lighthouse", visibility="public")
    session.commit()
    assert sorted(_titles(session, "lighthouse")) == [
        "Bob's public lighthouse",
        "My secret lighthouse",
    ]
    assert _gallery_titles(session, "lighthouse") == ["Bob's public lighthouse"]  # anonymous
    assert mine.id is not None
    prompt_ops.trash(session, prompt_ids=[mine.id], viewer=ada)
    session.commit()
    assert _titles(session, "lighthouse") == ["Bob's public lighthouse"]


def test_the_index_follows_versions_tags_titles_and_purges(session: Session) -> None:
    ada = make_user(session, "ada")
    prompt = make_prompt(session, ada, "Harbour", scene="Fishing boats at dawn")
    assert prompt.id is not None and ada.id is not None
    session.commit()
    assert _titles(session, "fishing") == ["Harbour"]

    add_version(
        session, prompt_id=prompt.id, data=prompt_data("Sailboats at noon"), author_id=ada.id
    )
    session.commit()
    assert _titles(session, "fishing") == []
    assert _titles(session, "sailboats") == ["Harbour"]

    prompt_ops.bulk_tag(session, prompt_ids=[prompt.id], viewer=ada, add=["Nautical"])
    session.commit()
    assert _titles(session, "nautical") == ["Harbour"]
    prompt_ops.bulk_tag(session, prompt_ids=[prompt.id], viewer=ada, remove=["nautical"])
    session.commit()
    assert _titles(session, "nautical") == []

    prompt_ops.rename(session, prompt_id=prompt.id, viewer=ada, title="Marina")
    session.commit()
    assert _titles(session, "marina") == ["Marina"]

    prompt_ops.trash(session, prompt_ids=[prompt.id], viewer=ada)
    assert prompt_ops.purge_trash(session, viewer=ada) == 1
    session.commit()
    assert _titles(session, "sailboats") == []


def test_rebuild_index_recreates_every_document(session: Session) -> None:
    ada = make_user(session, "ada")
    make_prompt(session, ada, "Harbour", scene="Fishing boats at dawn", tags=["sea"])
    session.commit()
    assert search.rebuild_index(session.connection()) == 1
    session.commit()
    assert _titles(session, "fishing sea") == ["Harbour"]


def test_a_prompt_editor_sees_public_matches_like_anyone(session: Session) -> None:
    ada = make_user(session, "ada")
    eve = make_user(session, "eve", Role.editor)
    make_prompt(session, ada, "Private harbour", visibility="private")
    session.commit()
    assert search.search_prompts(session, text="harbour", viewer=eve) == []
