"""Provider catalogues: parsing nasty answers, id spellings, closest matches, the markup rule,
the cached table, and fetching from a loopback OpenRouter that misbehaves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.services.accounts.auth import create_user
from app.services.analyzer.catalogue import store
from app.services.analyzer.catalogue.entries import (
    MAX_ENTRIES,
    OPENAI_COMPATIBLE,
    OPENROUTER,
    CatalogueEntry,
    parse_openai,
    parse_openrouter,
)
from app.services.analyzer.catalogue.fetch import fetch_models
from app.services.analyzer.catalogue.ids import closest, openrouter_id
from app.services.analyzer.catalogue.refresh import refresh_all
from app.services.billing import pricing
from app.services.core.errors import (
    InvalidInputError,
    ProviderAuthError,
    ProviderUnavailableError,
    RateLimitedError,
)
from app.services.core.models import Role
from app.settings import get_settings, reset_settings
from tests.utils.fakes.openai_server import (
    NEMOTRON_VL,
    FakeOpenAIServer,
    Reply,
    catalogue_model,
    error_reply,
    json_reply,
    openai_model_list,
    openrouter_catalogue,
)

# -- parsing ---------------------------------------------------------------------------------


def test_parses_every_field_of_a_real_shaped_entry() -> None:
    entries = {e.model_id: e for e in parse_openrouter(openrouter_catalogue())}
    assert len(entries) == 320
    paid = entries[NEMOTRON_VL]
    assert paid.name == "NVIDIA: Nemotron Nano 12B 2 VL"
    assert paid.context_length == 131072
    assert paid.prompt_usd == pytest.approx(2e-7) and paid.completion_usd == pytest.approx(6e-7)
    assert paid.image_usd == 0 and paid.request_usd == 0
    assert paid.input_modalities == ("image", "text", "video")
    assert paid.output_modalities == ("text",)
    assert paid.vision and paid.reasoning and paid.structured_outputs
    free = entries[f"{NEMOTRON_VL}:free"]
    assert free.prompt_usd == 0 and not free.structured_outputs
    text_only = [e for e in entries.values() if not e.vision]
    assert text_only and all("image" not in e.input_modalities for e in text_only)


@pytest.mark.parametrize(
    "payload",
    [None, [], "models", {"models": []}, {"data": "all"}, {"data": {"id": "x/y"}}, 42],
)
def test_an_answer_of_the_wrong_shape_is_refused_readably(payload: Any) -> None:
    with pytest.raises(ProviderUnavailableError, match="expected shape"):
        parse_openrouter(payload)


def test_nasty_entries_lose_their_bad_fields_not_the_catalogue() -> None:
    good = catalogue_model("acme/good-vl", "Good", inputs=("text", "image"))
    payload = {
        "data": [
            good,
            {"id": "acme/bare"},  # every other field missing
            {
                "id": "acme/prices",
                "pricing": {"prompt": "abc", "completion": "-1", "image": "1e999"},
            },
            {"id": "acme/types", "pricing": "free", "architecture": ["image"], "name": 7},
            {"id": "acme/ctx", "context_length": "lots", "supported_parameters": "reasoning"},
            {"id": "acme/true", "context_length": True, "pricing": {"prompt": True}},
            {"id": "acme/old", "architecture": {"modality": "text+image->text"}},
            {"id": "  acme/spaces  ", "name": "Line\nbreak\tname"},
            {"id": 12},
            {"id": ""},
            {"id": "has space/in it"},
            {"id": "x" * 500},
            {"name": "no id"},
            "not an object",
            None,
            dict(good, name="Duplicate, dropped"),
        ]
    }
    entries = {e.model_id: e for e in parse_openrouter(payload)}
    assert set(entries) == {
        "acme/good-vl",
        "acme/bare",
        "acme/prices",
        "acme/types",
        "acme/ctx",
        "acme/true",
        "acme/old",
        "acme/spaces",
    }
    assert entries["acme/good-vl"].name == "Good"
    bare = entries["acme/bare"]
    assert bare.name == "acme/bare" and bare.prompt_usd is None and bare.input_modalities == ()
    assert not bare.vision
    prices = entries["acme/prices"]
    assert (prices.prompt_usd, prices.completion_usd, prices.image_usd) == (None, None, None)
    assert entries["acme/types"].name == "acme/types" and entries["acme/types"].prompt_usd is None
    assert entries["acme/ctx"].context_length is None
    assert entries["acme/ctx"].supported_parameters == ()
    assert entries["acme/true"].context_length is None and entries["acme/true"].prompt_usd is None
    assert entries["acme/old"].vision and entries["acme/old"].output_modalities == ("text",)
    assert entries["acme/spaces"].name == "Line break name"


def test_too_many_entries_is_not_a_catalogue() -> None:
    payload = {"data": [{"id": f"a/m{i}"} for i in range(MAX_ENTRIES + 1)]}
    with pytest.raises(ProviderUnavailableError, match="more than"):
        parse_openrouter(payload)


def test_openai_lists_give_ids_only() -> None:
    payload = openai_model_list(["llava:13b", "qwen2.5vl:7b", "llava:13b"])
    payload["data"].append({"object": "model"})
    entries = parse_openai(payload)
    assert [e.model_id for e in entries] == ["llava:13b", "qwen2.5vl:7b"]
    assert entries[0].prompt_usd is None and not entries[0].vision


# -- ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("nvidia/nemotron-nano-12b-v2-vl", "nvidia/nemotron-nano-12b-v2-vl"),
        ("nvidia/nemotron-nano-12b-v2-vl:free", "nvidia/nemotron-nano-12b-v2-vl:free"),
        ("openrouter/nvidia/nemotron-nano-12b-v2-vl", "nvidia/nemotron-nano-12b-v2-vl"),
        ("openrouter:nvidia/nemotron-nano-12b-v2-vl:free", "nvidia/nemotron-nano-12b-v2-vl:free"),
        ("  OpenRouter:NVIDIA/Nemotron-Nano-12B-v2-VL  ", "nvidia/nemotron-nano-12b-v2-vl"),
        ("openrouter/auto", "openrouter/auto"),  # OpenRouter's own router keeps its vendor
        ("openrouter:", "openrouter:"),
    ],
)
def test_id_spellings(written: str, expected: str) -> None:
    assert openrouter_id(written) == expected


def test_closest_matches_catch_typos_and_other_vendors() -> None:
    ids = [e.model_id for e in parse_openrouter(openrouter_catalogue())]
    assert closest("nvidia/nemotron-nano-12b-v2", ids)[0] == NEMOTRON_VL
    assert NEMOTRON_VL in closest("nvidia/nemotron-nano-12b-v2-vI", ids)
    assert "openai/gpt-4o-mini" in closest("gpt-4o-mini", ids)
    assert closest("zzzz-qqqq", ids) == []
    assert closest("x" * 10_000, ids) == []


# -- the markup rule ---------------------------------------------------------------------------


def test_usd_to_credits_rounds_up_with_the_markup_and_a_floor() -> None:
    rule = pricing.MarkupRule(credits_per_usd=100, markup_percent=150, min_credits=1)
    assert rule.credits_for_usd(0.02) == 3  # 0.02 * 1.5 * 100 = 3, not 4 from float noise
    assert rule.credits_for_usd(0.021) == 4
    assert rule.credits_for_usd(0.000417) == 1  # the floor
    assert rule.credits_for_usd(0) == 1
    assert rule.credits_for_usd(float("nan")) == 1
    assert rule.credits_for_usd(1e12) == pricing.MAX_PRICE
    free = pricing.MarkupRule(credits_per_usd=100, markup_percent=100, min_credits=0)
    assert free.credits_for_usd(0) == 0


def test_estimate_needs_token_prices() -> None:
    assert pricing.estimate_usd(prompt_usd=None, completion_usd=1e-6) is None
    usd = pricing.estimate_usd(prompt_usd=2e-7, completion_usd=6e-7, image_usd=0.001)
    assert usd == pytest.approx(2e-7 * 4000 + 6e-7 * 2000 + 0.001)


def _admin(session: Session) -> Any:
    admin = create_user(session, email="admin@example.com", password="a-long-password-1")
    admin.role = Role.admin.value
    session.add(admin)
    session.commit()
    return admin


def test_admins_set_the_rule_in_the_price_table_and_quotes_follow_it(session: Session) -> None:
    quote = pricing.quote_model(session, model_id="acme/m", default=1, usd_per_call=0.02)
    assert quote == pricing.ModelQuote(credits=3, by_cost=True)
    admin = _admin(session)
    pricing.set_price(session, actor=admin, key="rule:markup_percent", credits=300)
    session.commit()
    assert (
        pricing.quote_model(session, model_id="acme/m", default=1, usd_per_call=0.02).credits == 6
    )
    listed = {row.key: row for row in pricing.list_prices(session)}
    assert listed["rule:markup_percent"].credits == 300 and listed["rule:markup_percent"].custom
    assert listed["rule:credits_per_usd"].credits == 100
    # The reported cost settles the charge, never above what was reserved.
    held = pricing.ModelQuote(credits=6, by_cost=True)
    assert pricing.charge_for_call(session, quote=held, cost_usd=0.01) == 3
    assert pricing.charge_for_call(session, quote=held, cost_usd=1.0) == 6
    assert pricing.charge_for_call(session, quote=held, cost_usd=None) == 6
    flat = pricing.ModelQuote(credits=6, by_cost=False)
    assert pricing.charge_for_call(session, quote=flat, cost_usd=0.0001) == 6
    # An admin's price for the model is flat and wins over the rule.
    pricing.set_price(session, actor=admin, key="model:acme/m", credits=9)
    session.commit()
    assert pricing.quote_model(
        session, model_id="acme/m", default=1, usd_per_call=0.02
    ) == pricing.ModelQuote(credits=9, by_cost=False)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("rule:markup_percent", 0, "at least 1"),
        ("rule:credits_per_usd", 0, "at least 1"),
        ("rule:nonsense", 5, "Unknown price"),
        ("rule:min_credits", -1, "from 0"),
    ],
)
def test_bad_rules_are_refused(session: Session, key: str, value: int, fragment: str) -> None:
    admin = _admin(session)
    with pytest.raises(InvalidInputError, match=fragment):
        pricing.set_price(session, actor=admin, key=key, credits=value)


# -- the cached table --------------------------------------------------------------------------


def _entries(*ids: str, vision: bool = True) -> list[CatalogueEntry]:
    inputs = ("text", "image") if vision else ("text",)
    return [
        CatalogueEntry(
            model_id=i,
            name=i.title(),
            prompt_usd=1e-7,
            completion_usd=2e-7,
            input_modalities=inputs,
        )
        for i in ids
    ]


def test_refresh_keeps_admin_choices_and_unlists_what_disappeared(session: Session) -> None:
    store.replace_source(session, source=OPENROUTER, entries=_entries("a/one", "a/two", "a/three"))
    store.set_offered(session, source=OPENROUTER, model_id="a/two", offered=False)
    session.commit()
    assert [r.model_id for r in store.offered_page(session)] == ["a/one", "a/three"]
    store.replace_source(session, source=OPENROUTER, entries=_entries("a/two", "a/three"))
    session.commit()
    assert store.find(session, source=OPENROUTER, model_id="a/one") is None
    two = store.find(session, source=OPENROUTER, model_id="A/TWO")
    assert two is not None and two.offered is False
    assert [r.model_id for r in store.offered_page(session)] == ["a/three"]
    store.replace_source(session, source=OPENROUTER, entries=_entries("a/one"))
    session.commit()
    assert [r.model_id for r in store.offered_page(session)] == ["a/one"]


def test_the_picker_default_is_priced_image_models_that_write_text(session: Session) -> None:
    entries = parse_openrouter(openrouter_catalogue())
    store.replace_source(session, source=OPENROUTER, entries=entries)
    session.commit()
    offered = store.offered_page(session, limit=500)
    ids = {r.model_id for r in offered}
    assert NEMOTRON_VL in ids and f"{NEMOTRON_VL}:free" in ids
    assert all(r.vision for r in offered)
    assert "openrouter/auto" not in ids  # no usable price
    image_out = [e.model_id for e in entries if "image" in e.output_modalities and e.vision]
    assert image_out and not set(image_out) & ids
    # Search: every word must match the id or the name.
    found = store.offered_page(session, query="nemotron VL")
    assert [r.model_id for r in found] == [NEMOTRON_VL, f"{NEMOTRON_VL}:free"]
    assert store.offered_page(session, query="100%_\\") == []
    assert len(store.offered_page(session, query="", limit=30)) == 30
    summary = {s.source: s for s in store.summaries(session)}[OPENROUTER]
    assert summary.listed == 320 and summary.vision == sum(e.vision for e in entries)


def test_an_admin_can_offer_a_model_the_default_leaves_out(session: Session) -> None:
    store.replace_source(session, source=OPENROUTER, entries=_entries("a/text", vision=False))
    session.commit()
    assert store.offered_page(session) == []
    store.set_offered(session, source=OPENROUTER, model_id="a/text", offered=True)
    session.commit()
    assert [r.model_id for r in store.offered_page(session)] == ["a/text"]
    assert store.set_offered(session, source=OPENROUTER, model_id="a/none", offered=True) is None


# -- fetching ----------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def _fetch(server: FakeOpenAIServer, **kwargs: Any) -> Any:
    return fetch_models(base_url=server.url, api_key="sk-or-key", label="OpenRouter", **kwargs)


def test_fetch_reads_the_catalogue_and_sends_the_key(fake: FakeOpenAIServer) -> None:
    payload = _fetch(fake)
    assert len(payload["data"]) == 320
    assert fake.requests[-1].method == "GET" and fake.requests[-1].path == "/api/v1/models"
    assert fake.requests[-1].headers["authorization"] == "Bearer sk-or-key"


@pytest.mark.parametrize(
    ("reply", "error", "fragment"),
    [
        (error_reply(500, "Internal Server Error"), ProviderUnavailableError, "HTTP 500"),
        (error_reply(503, "down for maintenance"), ProviderUnavailableError, "maintenance"),
        (error_reply(401, "sk-or-key is wrong"), ProviderAuthError, "refused the API key"),
        (error_reply(429, headers={"Retry-After": "5"}), RateLimitedError, "in a minute"),
        (Reply(status=200, body=b"<html>Gateway</html>"), ProviderUnavailableError, "not JSON"),
        (json_reply({"data": []}, status=204), ProviderUnavailableError, "HTTP 204"),
    ],
)
def test_fetch_failures_are_readable(
    fake: FakeOpenAIServer, reply: Reply, error: type[Exception], fragment: str
) -> None:
    fake.serve_models(reply)
    with pytest.raises(error, match=fragment) as caught:
        _fetch(fake)
    assert "sk-or-key" not in str(caught.value)


def test_fetch_gives_up_on_a_silent_server(fake: FakeOpenAIServer) -> None:
    fake.serve_models(Reply(body=b'{"data": []}', stall=2.0))
    with pytest.raises(ProviderUnavailableError, match="in time"):
        _fetch(fake, timeout=httpx.Timeout(0.3))


def test_fetch_refuses_a_huge_answer(fake: FakeOpenAIServer) -> None:
    huge = json.dumps({"data": [{"id": "a/b", "description": "x" * 4_000_000}]}).encode()
    fake.serve_models(Reply(body=huge))
    with pytest.raises(ProviderUnavailableError, match="too large"):
        _fetch(fake, max_bytes=1_000_000)


def test_fetch_from_nowhere_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailableError, match="could not be reached"):
        fetch_models(base_url="http://127.0.0.1:9/api/v1", api_key=None, label="OpenRouter")


# -- refreshing ---------------------------------------------------------------------------------


def test_refresh_all_stores_both_catalogues_and_one_failure_keeps_the_other(
    db_url: str, fake: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    with FakeOpenAIServer() as local:
        local.serve_models(openai_model_list(["llava:13b", "qwen2.5vl:7b"]))
        monkeypatch.setenv("OPENROUTER_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_COMPATIBLE_BASE_URL", local.url)
        reset_settings()
        results = {r.source: r for r in refresh_all(get_settings())}
        assert results[OPENROUTER].listed == 320 and results[OPENAI_COMPATIBLE].listed == 2
        fake.serve_models(error_reply(502))
        results = {r.source: r for r in refresh_all(get_settings())}
        assert "HTTP 502" in results[OPENROUTER].error and results[OPENAI_COMPATIBLE].listed == 2
    # The failed refresh kept what the last good one stored.
    assert store.find(session, source=OPENROUTER, model_id=NEMOTRON_VL) is not None
    assert store.find(session, source=OPENAI_COMPATIBLE, model_id="llava:13b") is not None


def test_maintenance_refreshes_only_with_a_key_and_only_when_stale(
    db_url: str, fake: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_BASE_URL", fake.url)
    reset_settings()
    assert refresh_all(get_settings(), only_stale=True) == []  # offline installs ask nothing
    assert fake.requests == []
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-key")
    reset_settings()
    assert [r.listed for r in refresh_all(get_settings(), only_stale=True)] == [320]
    assert refresh_all(get_settings(), only_stale=True) == []  # fresh: not again today
    assert len(fake.requests) == 1


# -- the picker and the admin's choices --------------------------------------------------------


@pytest.fixture
def listed(session: Session) -> Session:
    from app.services.analyzer.providers.setup import ensure_models

    ensure_models()
    store.replace_source(
        session, source=OPENROUTER, entries=parse_openrouter(openrouter_catalogue())
    )
    session.commit()
    return session


def _ids(page: Any) -> list[str]:
    return [m.info.model_id for m in page.models]


def test_the_picker_sends_one_small_page_built_ins_first(listed: Session) -> None:
    from app.services.analyzer.catalogue.offers import PICKER_PAGE, picker_page

    page = picker_page(listed, settings=get_settings())
    ids = _ids(page)
    assert len(ids) == PICKER_PAGE and page.more
    assert ids[0] == "local/jsoncraft-vision" and f"{NEMOTRON_VL}:free" in ids[:4]
    assert len(set(ids)) == len(ids)  # the built-ins are not listed twice
    found = picker_page(listed, settings=get_settings(), query="NEMOTRON 12b")
    assert _ids(found) == [f"{NEMOTRON_VL}:free", NEMOTRON_VL] and not found.more
    paid = found.models[1]
    assert paid.credits == 1 and paid.unavailable.startswith("Set OPENROUTER_API_KEY")
    assert paid.info.structured_outputs and paid.info.reasoning


@pytest.mark.parametrize(
    "query", ["%", "_", "\\", "'; drop table x; --", "ü🙂", " " * 50, "x" * 10_000]
)
def test_nasty_picker_searches_find_nothing_or_everything_never_fail(
    listed: Session, query: str
) -> None:
    from app.services.analyzer.catalogue.offers import picker_page

    page = picker_page(listed, settings=get_settings(), query=query, keep=NEMOTRON_VL)
    assert NEMOTRON_VL in _ids(page)  # the selected model stays, whatever the search
    if query.strip():
        assert len(page.models) == 1


def test_only_admins_see_and_change_the_catalogue(listed: Session) -> None:
    from app.services.analyzer.catalogue import offers
    from app.services.core.errors import NotFoundError, PermissionDeniedError

    member = create_user(listed, email="member@example.com", password="a-long-password-1")
    with pytest.raises(PermissionDeniedError):
        offers.admin_rows(listed, actor=member)
    with pytest.raises(PermissionDeniedError):
        offers.set_offered(listed, actor=member, model_id=NEMOTRON_VL, offered=False)
    with pytest.raises(PermissionDeniedError):
        offers.refresh(actor=member, settings=get_settings())
    admin = _admin(listed)
    assert offers.status(listed, actor=admin).listed == 320
    rows = {r.model_id: r for r in offers.admin_rows(listed, actor=admin, query="nemotron")}
    assert rows[NEMOTRON_VL].price_kind == "markup" and rows[NEMOTRON_VL].offered
    assert rows[f"{NEMOTRON_VL}:free"].price_kind == "built-in"
    offers.set_offered(listed, actor=admin, model_id=NEMOTRON_VL, offered=False)
    listed.commit()
    from app.services.analyzer.catalogue.offers import picker_page

    assert NEMOTRON_VL not in _ids(picker_page(listed, settings=get_settings(), query="nemotron"))
    with pytest.raises(NotFoundError):
        offers.set_offered(listed, actor=admin, model_id="no/such-model", offered=True)
