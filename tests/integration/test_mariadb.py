"""The same migrations, search, ledger, leases and conflicts on a real MariaDB (Debian's
mariadb-server on loopback, started by scripts/mariadb.sh).

The checks are the PostgreSQL integration tests (and the SQLite unit checks they share) run
again against `mariadb_session` / `mariadb_url`, so the three databases can't drift apart
silently. MariaDB-only checks follow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, col, select

from alembic import command
from app.services.accounts import auth
from app.services.core.db import engine_for
from app.services.core.migrations import alembic_config, upgrade_to_head
from app.services.core.models import CreditEntry, User, utcnow
from app.services.library import search
from tests.integration import test_credits_postgres as ledger
from tests.integration import test_generation_gallery_postgres as generated
from tests.integration import test_generation_runs_postgres as runs
from tests.integration import test_jobs_postgres as studio_jobs
from tests.integration import test_postgres as basics
from tests.integration import test_reports_postgres as reports
from tests.integration import test_search_postgres as searching
from tests.integration import test_webhooks_postgres as webhooks

pytestmark = pytest.mark.integration

# Search, gallery filters and prompt operations (a save on a stale base gets a conflict).
SHARED_CHECKS: list[Callable[[Session], None]] = [
    *searching.SHARED_CHECKS,
    basics.test_accounts_on_postgres,
    basics.test_prompt_json_round_trips,
    studio_jobs.test_a_job_runs_is_charged_and_purged_on_postgres,
    studio_jobs.test_cancel_and_recovery_on_postgres,
    reports.test_usage_and_top_users,
    reports.test_usage_over_time,
    reports.test_revenue,
    generated.test_generated_entries_filter_search_and_average_on_postgres,
    runs.test_an_offline_run_with_a_seed_past_int4_lands_on_postgres,
]


@pytest.mark.parametrize("check", SHARED_CHECKS, ids=lambda f: f.__name__.removeprefix("test_"))
def test_same_behaviour_on_mariadb(
    check: Callable[[Session], None], mariadb_session: Session
) -> None:
    check(mariadb_session)


def test_migrations_run_up_and_down_from_empty(mariadb_url: str) -> None:
    basics.test_migrations_create_every_table_and_downgrade_cleanly(mariadb_url)
    engine = engine_for(mariadb_url)
    assert "prompt_fts" in inspect(engine).get_table_names()


def test_the_schema_matches_the_models(mariadb_url: str) -> None:
    # What `alembic revision --autogenerate` would write: nothing (types compared too). The
    # search table has no model, as on SQLite (alembic/env.py leaves it out the same way).
    def include(name: str | None, type_: str, _parents: object) -> bool:
        return not (type_ == "table" and name is not None and name.startswith("prompt_fts"))

    with engine_for(mariadb_url).connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_timestamps_keep_microseconds(mariadb_session: Session) -> None:
    # DATETIME would round to the second: rows made in the same second would tie on created_at.
    user = auth.create_user(mariadb_session, email="ada@example.com", password=None)
    stamp = utcnow().replace(microsecond=123456)
    user.created_at = stamp
    mariadb_session.commit()
    mariadb_session.expire_all()
    stored = mariadb_session.exec(select(User)).one().created_at
    assert stored == stamp


def test_search_uses_fulltext_boolean_mode(mariadb_session: Session) -> None:
    from tests.utils.prompt_factories import make_prompt, make_user

    ada = make_user(mariadb_session, "ada")
    make_prompt(mariadb_session, ada, "Harbour at night", scene="Boats about a stone quay")
    mariadb_session.commit()
    assert search.mysql_boolean_query('boats "quay') == "+boat* +quay*"
    assert search.mysql_boolean_query("AI robots", min_token_size=3) == "+robot*"
    assert search.mysql_boolean_query("an AI", min_token_size=3) is None
    # InnoDB's own stop words ("about") are off: search.terms() decides what a stop word is.
    hits = search.search_prompts(mariadb_session, text="about quay", viewer=ada)
    assert [h.title for h in hits] == ["Harbour at night"]
    plan = mariadb_session.execute(
        text(
            "EXPLAIN SELECT `rowid` FROM prompt_fts"
            " WHERE MATCH(title, tags, body) AGAINST ('+quay*' IN BOOLEAN MODE)"
        )
    ).all()
    assert any(row.type == "fulltext" for row in plan)


def test_two_letter_words_are_found(mariadb_session: Session) -> None:
    # scripts/mariadb.sh sets innodb_ft_min_token_size=2, as SQLite and PostgreSQL index them.
    from tests.utils.prompt_factories import make_prompt, make_user

    ada = make_user(mariadb_session, "ada")
    make_prompt(mariadb_session, ada, "Robot", scene="An AI robot at dusk")
    make_prompt(mariadb_session, ada, "Oak", scene="An old oak tree")
    mariadb_session.commit()
    assert [h.title for h in search.search_prompts(mariadb_session, text="ai", viewer=ada)] == [
        "Robot"
    ]
    assert [h.title for h in search.search_prompts(mariadb_session, text="AI rob", viewer=ada)] == [
        "Robot"
    ]


def test_ledger_flow_and_idempotency(mariadb_session: Session) -> None:
    ledger.test_flow_and_idempotency_on_postgres(mariadb_session, _people(mariadb_session))


def test_fifty_concurrent_reservations_never_overdraw(
    mariadb_session: Session, mariadb_url: str
) -> None:
    people = _people(mariadb_session)
    ledger.test_fifty_concurrent_reservations_never_overdraw_on_postgres(
        mariadb_session, mariadb_url, people
    )
    _assert_ledger_exact(mariadb_session)


def test_admins_granting_to_each_other_at_once_all_land(
    mariadb_session: Session, mariadb_url: str
) -> None:
    # InnoDB takes a shared lock on the referenced user (created_by) when an entry is
    # inserted, so two crossed grants can deadlock there: the ledger retries the loser.
    people = _people(mariadb_session)
    ledger.test_admins_granting_to_each_other_at_once_do_not_deadlock(
        mariadb_session, mariadb_url, people
    )
    _assert_ledger_exact(mariadb_session)


def _people(session: Session) -> tuple[User, User]:
    admin, _ = auth.ensure_admin(session, email="boss@example.com", password=None)
    ada = auth.create_user(session, email="ada@example.com", password=None)
    session.commit()
    return admin, ada


def _assert_ledger_exact(session: Session) -> None:
    session.expire_all()
    for user in session.exec(select(User)).all():
        entries = session.exec(select(CreditEntry).where(CreditEntry.user_id == user.id)).all()
        from app.services.billing import credits

        assert credits.balance(session, user_id=user.id or 0) == sum(e.amount for e in entries)
        assert credits.balance(session, user_id=user.id or 0) >= 0


def test_webhook_deliveries_lease_retry_and_replay(
    mariadb_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhooks.test_deliveries_retry_lease_disable_and_replay_on_postgres(
        mariadb_session, monkeypatch
    )


def test_a_job_lease_is_held_by_one_worker(mariadb_session: Session) -> None:
    from app.services.core.models import Job
    from app.services.studio import jobs
    from app.services.studio.jobs.lease import claim
    from tests.utils.job_helpers import make_user, photo, spec, uploads

    pro = make_user(mariadb_session, "pro@example.com", plan="pro", balance=10)
    job = jobs.create_job(
        mariadb_session, user=pro, spec=spec(), uploads=uploads(("a.jpg", photo())), mode="batch"
    )
    assert claim(mariadb_session, job_id=job.id, worker_id="one:1:a")
    assert not claim(mariadb_session, job_id=job.id, worker_id="two:2:b")
    row = mariadb_session.exec(select(Job).where(col(Job.id) == job.id)).one()
    assert row.worker_id == "one:1:a"
    assert row.heartbeat_at is not None and row.heartbeat_at > utcnow() - timedelta(minutes=1)


def test_downgrade_then_upgrade_keeps_search_working(mariadb_url: str) -> None:
    command.downgrade(alembic_config(mariadb_url), "0015")
    assert "prompt_fts" not in inspect(engine_for(mariadb_url)).get_table_names()
    upgrade_to_head(mariadb_url)
    assert "prompt_fts" in inspect(engine_for(mariadb_url)).get_table_names()


def test_racing_workers_claim_a_job_once(mariadb_session: Session, mariadb_url: str) -> None:
    from app.services.studio import jobs
    from app.services.studio.jobs.lease import claim
    from tests.utils.job_helpers import make_user, photo, spec, uploads

    pro = make_user(mariadb_session, "pro@example.com", plan="pro", balance=10)
    job = jobs.create_job(
        mariadb_session, user=pro, spec=spec(), uploads=uploads(("a.jpg", photo())), mode="batch"
    )
    mariadb_session.commit()
    wins = _race(mariadb_url, lambda s, i: claim(s, job_id=job.id, worker_id=f"w{i}:1:x"))
    assert sum(wins) == 1


def test_racing_senders_post_a_webhook_once(
    mariadb_session: Session, mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services.accounts.api_keys import create_key
    from app.services.webhooks.endpoints import create_endpoint
    from app.services.webhooks.outbox import emit
    from app.services.webhooks.sender import send_delivery
    from app.settings import reset_settings
    from tests.utils.fakes.webhook_receiver import Reply, WebhookReceiver
    from tests.utils.job_helpers import make_user

    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    reset_settings()
    project_id = create_key(mariadb_session, owner=make_user(mariadb_session, "d@x.com")).project_id
    with WebhookReceiver() as receiver:
        create_endpoint(
            mariadb_session, project_id=project_id, url=receiver.url, events=["upload.completed"]
        )
        (delivery,) = emit(
            mariadb_session, project_id=project_id, event_type="upload.completed", data={}
        )
        mariadb_session.commit()
        receiver.script(*[Reply(200)] * 8)
        outcomes = _race(mariadb_url, lambda _s, _i: send_delivery(delivery))
        assert sorted(map(str, outcomes)) == ["None"] * 7 + ["succeeded"]
        assert receiver.ids() == [delivery]


def _race(url: str, attempt: Callable[[Session, int], object], threads: int = 8) -> list[object]:
    """`attempt` from `threads` threads at once, each with its own session."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(threads)

    def run(i: int) -> object:
        with Session(engine_for(url)) as session:
            barrier.wait()
            return attempt(session, i)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))
