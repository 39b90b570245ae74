"""Search, filters, pagination and prompt operations on a real PostgreSQL (tsvector + GIN).

The checks are the SQLite unit tests themselves, run again against `pg_session`, so the two
engines can't drift apart silently. PostgreSQL-only checks follow.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session

from app.services.core.db import engine_for
from app.services.core.storage import get_storage
from app.services.library import search
from app.services.library.gallery import GalleryQuery, list_prompts
from tests.unit import test_gallery_filters as filters
from tests.unit import test_prompt_ops as ops
from tests.unit import test_search as searching
from tests.utils.prompt_factories import make_prompt, make_user

pytestmark = pytest.mark.integration

SHARED_CHECKS: list[Callable[[Session], None]] = [
    searching.test_nasty_queries_never_break_search,
    searching.test_title_beats_tags_beats_prose,
    searching.test_all_words_must_match_with_stemming_and_prefix,
    searching.test_only_visible_live_prompts_are_found,
    searching.test_the_index_follows_versions_tags_titles_and_purges,
    searching.test_rebuild_index_recreates_every_document,
    searching.test_unicode_words_are_found,
    filters.test_keyset_pages_never_repeat_or_skip_while_prompts_arrive,
    filters.test_a_mangled_cursor_restarts_from_the_first_page,
    filters.test_visibility_public_plus_own_and_admin_by_owner,
    filters.test_owner_filters,
    filters.test_tag_filter_needs_every_tag,
    filters.test_common_and_rare_tags_give_the_same_answers,
    filters.test_model_style_and_date_filters,
    filters.test_text_filter_combines_with_the_others,
    filters.test_favorites_only_is_the_viewers_own_favourites,
    filters.test_trash_is_hidden_unless_asked_and_only_your_own,
    filters.test_saved_filters_round_trip_and_belong_to_their_owner,
    ops.test_two_saves_on_the_same_base_second_gets_a_conflict,
    ops.test_trash_restore_and_purge,
    ops.test_bulk_tag_adds_and_removes,
    ops.test_revert_adds_a_version_equal_to_the_old_one,
    ops.test_share_links_are_read_only_revocable_and_die_with_the_trash,
]


@pytest.mark.parametrize("check", SHARED_CHECKS, ids=lambda f: f.__name__.removeprefix("test_"))
def test_same_behaviour_on_postgres(check: Callable[[Session], None], pg_session: Session) -> None:
    check(pg_session)


def test_migration_adds_a_gin_indexed_search_vector(pg_url: str) -> None:
    inspector = inspect(engine_for(pg_url))
    columns = {c["name"]: c for c in inspector.get_columns("prompts")}
    assert "search_vector" in columns
    indexes = {i["name"] for i in inspector.get_indexes("prompts")}
    assert {"ix_prompts_search_vector", "ix_prompts_deleted_created"} <= indexes
    assert "ix_prompt_tags_tag_prompt" in {i["name"] for i in inspector.get_indexes("prompt_tags")}
    with engine_for(pg_url).connect() as conn:
        method = conn.execute(
            text("SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
                 " WHERE c.relname = 'ix_prompts_search_vector'")
        ).scalar_one()  # fmt: skip
    assert method == "gin"


def test_the_text_filter_uses_the_gin_index(pg_session: Session) -> None:
    ada = make_user(pg_session, "ada")
    for i in range(50):
        make_prompt(pg_session, ada, f"filler {i}", scene="Tall pines in fog")
    make_prompt(pg_session, ada, "needle", scene="A lighthouse on a rock")
    pg_session.commit()
    # A table this small is cheaper to scan; forbid that to show the index *can* serve the query.
    pg_session.execute(text("SET LOCAL enable_seqscan = off"))
    query = search.tsquery("lighthouse")
    plan = "\n".join(
        row[0]
        for row in pg_session.execute(
            text("EXPLAIN SELECT id FROM prompts WHERE search_vector @@ to_tsquery('english', :q)"),
            {"q": query},
        ).all()
    )
    assert "ix_prompts_search_vector" in plan
    titles = [
        c.title
        for c in list_prompts(
            pg_session, storage=get_storage(), viewer=ada, query=GalleryQuery(text="lighthouse")
        ).items
    ]
    assert titles == ["needle"]
