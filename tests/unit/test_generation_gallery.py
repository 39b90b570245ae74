"""Generated images in the gallery: the entry each image becomes, its fidelity score, the
gallery's origin filter, the prompt page's round trip, and files read back on import.

Real SQLite, the real huey queue run inline, the offline layout preview and Together's fake.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlmodel import Session, select

from app.services.core.errors import InvalidInputError, NotFoundError
from app.services.core.models import Asset, GenerationImage, Prompt, PromptVersion, User
from app.services.core.storage import get_storage
from app.services.generation import metadata, restore, round_trip, runs
from app.services.generation.gallery_entry import embed_restorable, run_tag
from app.services.generation.metadata import GenerationMetadata
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.images.intake import ingest_image
from app.services.library import gallery
from app.services.library.gallery import GalleryQuery
from app.services.library.writes import add_version, create_prompt
from app.settings import reset_settings
from tests.utils.fakes.together_server import KEY, FakeTogetherServer, serve
from tests.utils.job_helpers import make_user
from tests.utils.job_helpers import run_queue as run_the_queue
from tests.utils.prompt_factories import prompt_data

SCHNELL = "black-forest-labs/FLUX.1-schnell"
LIGHTHOUSE = prompt_data(
    "A lighthouse on a cliff at dusk",
    color_palette=[{"hex": "#1b2a49"}, {"hex": "#e8a33d"}],
    subjects=[{"description": "a white lighthouse", "position": "center"}],
    tags=["coast"],
)


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=20)


@pytest.fixture
def bob(session: Session) -> User:
    return make_user(session, "bob@example.com")


@pytest.fixture
def saved(session: Session, ada: User) -> Prompt:
    assert ada.id is not None
    prompt = create_prompt(
        session, owner_id=ada.id, title="Lighthouse", data=LIGHTHOUSE, visibility="public"
    )
    session.commit()
    return prompt


@pytest.fixture
def together(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTogetherServer]:
    for server in serve():
        monkeypatch.setenv("TOGETHER_BASE_URL", server.base_url)
        monkeypatch.setenv("TOGETHER_API_KEY", KEY)
        reset_settings()
        yield server


def generate(session: Session, user: User, **options: object) -> runs.GenerationView:
    options = {"model": OFFLINE_MODEL_ID, **options}
    started = runs.start_generation(session, user=user, **options)  # type: ignore[arg-type]
    run_the_queue()
    return runs.get_generation(session, user=user, generation_id=started.id)


def file_of(session: Session, asset_id: int | None) -> bytes:
    asset = session.get(Asset, asset_id)
    assert asset is not None
    return get_storage().read_bytes(asset.storage_key)


def entry(session: Session, prompt_id: int | None) -> Prompt:
    prompt = session.get(Prompt, prompt_id, populate_existing=True)
    assert prompt is not None
    return prompt


# --- the gallery entry and the score, made by the worker ------------------------------------------


def test_each_generated_image_becomes_a_private_gallery_entry(
    session: Session, ada: User, saved: Prompt
) -> None:
    done = generate(session, ada, prompt_id=saved.id, n=2, seed=3, preset="film-noir")
    assert done.status == "done"
    generation_data = session.exec(
        select(PromptVersion.data).join(Prompt, Prompt.current_version_id == PromptVersion.id)
    ).all()
    ids = [i.gallery_prompt_id for i in done.images]
    assert all(ids) and len(set(ids)) == 2
    for number, image in enumerate(done.images, start=1):
        made = entry(session, image.gallery_prompt_id)
        assert made.origin == "generated" and saved.origin == "analyzed"
        assert made.owner_id == ada.id and made.visibility == "private"
        assert made.model == OFFLINE_MODEL_ID and made.asset_id == image.asset_id
        assert made.title == f"Lighthouse · Layout preview · {number}/2"
        version = session.get(PromptVersion, made.current_version_id)
        assert version is not None and version.number == 1
        row = session.exec(
            select(GenerationImage).where(GenerationImage.gallery_prompt_id == made.id)
        ).one()
        generation = runs.get_generation(session, user=ada, generation_id=row.generation_id)
        # The JSON it was made from: the saved prompt with the preset applied.
        assert version.data != LIGHTHOUSE and version.data["scene"] == LIGHTHOUSE["scene"]
        assert json.loads(generation.prompt_sent)["scene"] == version.data["scene"]
    assert len(generation_data) == 3  # the source and its two images
    # Tags and search work as for any prompt: the run's tag finds both, words find them too.
    tagged = gallery.list_prompts(
        session, storage=get_storage(), viewer=ada, query=GalleryQuery(tags=(run_tag(done.id),))
    )
    assert sorted(c.id for c in tagged.items) == sorted(ids)  # type: ignore[type-var]
    found = gallery.list_prompts(
        session, storage=get_storage(), viewer=ada, query=GalleryQuery(text="lighthouse")
    )
    assert {saved.id, *ids} <= {c.id for c in found.items}


def test_every_done_image_gets_a_fidelity_score_with_its_parts(
    session: Session, ada: User, saved: Prompt
) -> None:
    done = generate(session, ada, prompt_id=saved.id, aspect="16:9")
    image = done.images[0]
    assert image.fidelity_score is not None and 0 <= image.fidelity_score <= 100
    names = [p["name"] for p in image.fidelity_parts]
    assert "palette" in names and "aspect" in names
    assert all(0 <= int(str(p["score"])) <= 100 for p in image.fidelity_parts)
    assert abs(sum(float(str(p["weight"])) for p in image.fidelity_parts) - 1) < 0.01
    # The layout preview draws the prompt's own palette at the asked aspect: faithful.
    aspect = next(p for p in image.fidelity_parts if p["name"] == "aspect")
    assert int(str(aspect["score"])) >= 90


def test_paid_images_land_in_the_gallery_named_after_their_model(
    session: Session, ada: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    done = generate(session, ada, model=SCHNELL, prompt_id=saved.id, n=1, seed=5)
    made = entry(session, done.images[0].gallery_prompt_id)
    assert made.model == SCHNELL and made.title == "Lighthouse · FLUX.1 [schnell] · 1/1"
    assert done.images[0].fidelity_score is not None  # a plain colour: scored, and low
    # FLUX.1 was sent prose; the file still carries the JSON, so an import can restore it.
    found = metadata.read(file_of(session, done.images[0].asset_id))
    assert found is not None and found.prompt_format == "text"
    assert found.prompt_data == entry_data(session, made)


def entry_data(session: Session, prompt: Prompt) -> dict[str, object]:
    version = session.get(PromptVersion, prompt.current_version_id)
    assert version is not None
    return dict(version.data)


def test_a_json_prompt_given_directly_is_titled_as_such(session: Session, ada: User) -> None:
    done = generate(session, ada, prompt=LIGHTHOUSE)
    made = entry(session, done.images[0].gallery_prompt_id)
    assert made.title == "JSON prompt · Layout preview · 1/1"


def test_a_failed_image_makes_no_entry(
    session: Session, ada: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    from tests.utils.fakes.together_server import error

    together.script(error(402, "Credit limit exceeded"))
    done = generate(session, ada, model=SCHNELL, prompt_id=saved.id)
    assert done.images[0].status == "failed" and done.images[0].gallery_prompt_id is None
    assert session.exec(select(Prompt).where(Prompt.origin == "generated")).all() == []


def test_scoring_failures_are_logged_and_give_no_score(caplog: pytest.LogCaptureFixture) -> None:
    assert round_trip.score_quietly(b"not an image at all", LIGHTHOUSE) is None
    assert round_trip.score_quietly(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, LIGHTHOUSE) is None
    assert round_trip.score_quietly(_png(8, 8), {"scene": 3}) is None  # breaks the schema
    assert "fidelity scoring failed" in caplog.text


def test_a_stored_score_reads_back_and_skips_parts_of_the_wrong_shape() -> None:
    score = round_trip.score_from_row(
        70,
        [
            {"name": "palette", "label": "Colours", "score": 70, "weight": 1.0},
            {"name": "broken"},
            "garbage",
        ],
    )
    assert score.score == 70 and [p.name for p in score.parts] == ["palette"]
    assert round_trip.score_from_row(None, "not a list").parts == ()


# --- the gallery: origin filter, card label, saved filters ---------------------------------------


def test_the_gallery_filters_generated_from_analyzed(
    session: Session, ada: User, saved: Prompt
) -> None:
    done = generate(session, ada, prompt_id=saved.id, n=2)
    storage = get_storage()

    def listed(**query: object) -> list[int]:
        page = gallery.list_prompts(
            session,
            storage=storage,
            viewer=ada,
            query=GalleryQuery(**query),  # type: ignore[arg-type]
        )
        return [c.id for c in page.items]

    generated = [i.gallery_prompt_id for i in reversed(done.images)]
    assert listed(origin="generated") == generated
    assert listed(origin="analyzed") == [saved.id]
    assert listed() == [*generated, saved.id]
    # The model filter covers the generating model.
    assert listed(model=OFFLINE_MODEL_ID) == generated
    assert listed(model=OFFLINE_MODEL_ID, origin="analyzed") == []
    cards = gallery.list_prompts(session, storage=storage, viewer=ada).items
    assert [c.origin for c in cards] == ["generated", "generated", "analyzed"]
    assert all(c.thumbnail_url for c in cards[:2])
    with pytest.raises(InvalidInputError, match="Origin"):
        listed(origin="stolen")


def test_the_generated_entries_stay_private_to_their_maker(
    session: Session, ada: User, bob: User, saved: Prompt
) -> None:
    generate(session, ada, prompt_id=saved.id)
    page = gallery.list_prompts(
        session, storage=get_storage(), viewer=bob, query=GalleryQuery(origin="generated")
    )
    assert page.items == []


def test_a_saved_filter_keeps_the_origin(session: Session, ada: User) -> None:
    kept = gallery.save_filter(
        session, user=ada, name="Only generated", query=GalleryQuery(origin="generated")
    )
    again = GalleryQuery.from_dict(kept.query)
    assert again.origin == "generated"
    assert GalleryQuery.from_dict({"text": "old filter"}).origin == ""  # older filters load


# --- the prompt page's round trip -----------------------------------------------------------------


def test_a_generated_entry_says_what_made_it_and_links_back(
    session: Session, ada: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    done = generate(session, ada, model=SCHNELL, prompt_id=saved.id, seed=11, steps=4)
    image = done.images[0]
    made = round_trip.made_from(session, prompt_id=image.gallery_prompt_id or 0, viewer=ada)
    assert made is not None
    assert (made.source_prompt_id, made.source_title, made.source_version) == (
        saved.id,
        "Lighthouse",
        1,
    )
    assert (made.provider, made.model, made.model_label) == (
        "together",
        SCHNELL,
        "FLUX.1 [schnell]",
    )
    assert (made.seed, made.steps, made.request_id) == (11, 4, image.request_id)
    assert made.cost_credits == image.cost_credits > 0 and made.duration_ms is not None
    assert made.prompt_sent == done.prompt_sent and made.prompt_format == "text"
    assert made.fidelity is not None and made.fidelity.score == image.fidelity_score
    # Not a generated entry: nothing.
    assert round_trip.made_from(session, prompt_id=saved.id or 0, viewer=ada) is None


def test_the_link_back_is_hidden_when_the_source_is_not_visible(
    session: Session, ada: User, bob: User, saved: Prompt
) -> None:
    done = generate(session, ada, prompt_id=saved.id)
    made_id = done.images[0].gallery_prompt_id
    assert made_id is not None and saved.id is not None
    entry(session, made_id).visibility = "public"
    entry(session, saved.id).visibility = "private"
    session.commit()
    seen_by_bob = round_trip.made_from(session, prompt_id=made_id, viewer=bob)
    assert seen_by_bob is not None
    assert (seen_by_bob.source_prompt_id, seen_by_bob.source_title) == (None, "")


def test_each_version_shows_its_images_and_average_fidelity(
    session: Session, ada: User, bob: User, saved: Prompt
) -> None:
    assert saved.id is not None and ada.id is not None
    first = generate(session, ada, prompt_id=saved.id, n=2)
    # Version 2 asks for colours the layout preview will draw: compare the two.
    changed = {**LIGHTHOUSE, "color_palette": [{"hex": "#ff0000"}, {"hex": "#00ff00"}]}
    add_version(session, prompt_id=saved.id, author_id=ada.id, data=changed, message="v2")
    session.commit()
    second = generate(session, ada, prompt_id=saved.id, n=1)

    versions = round_trip.fidelity_by_version(
        session, prompt_id=saved.id, viewer=ada, storage=get_storage()
    )
    assert [v.version for v in versions] == [2, 1]
    assert [len(v.images) for v in versions] == [1, 2]
    scores = [i.fidelity_score for i in first.images]
    assert versions[1].average.images == 2
    assert versions[1].average.score == round(sum(s or 0 for s in scores) / 2, 1)
    assert versions[0].images[0].prompt_id == second.images[0].gallery_prompt_id
    assert all(i.thumbnail_url and i.model_label == "Layout preview" for i in versions[1].images)
    # Bob sees the public source, but Ada's generated images are private: none listed.
    assert round_trip.fidelity_by_version(session, prompt_id=saved.id, viewer=bob) == []


# --- metadata inside the files, and reading it back on import ------------------------------------


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (20, 40, 60)).save(buf, "PNG")
    return buf.getvalue()


def _meta(**fields: object) -> GenerationMetadata:
    values: dict[str, object] = {
        "provider": "together",
        "model": SCHNELL,
        "width": 8,
        "height": 8,
        "prompt_format": "text",
        "prompt_sent": "A lighthouse on a cliff at dusk",
        "seed": 7,
    }
    values.update(fields)
    return GenerationMetadata(**values)  # type: ignore[arg-type]


def _stored(session: Session, user: User, data: bytes) -> int:
    asset = ingest_image(
        session=session,
        storage=get_storage(),
        owner_id=user.id,
        stream=io.BytesIO(data),
        filename="from-a-friend.png",
    )
    session.commit()
    assert asset.id is not None
    return asset.id


def test_a_downloaded_generated_file_restores_its_json_exactly(
    session: Session, ada: User, bob: User, saved: Prompt, together: FakeTogetherServer
) -> None:
    done = generate(session, ada, model=SCHNELL, prompt_id=saved.id, seed=9)
    made = entry(session, done.images[0].gallery_prompt_id)
    downloaded = file_of(session, done.images[0].asset_id)  # the bytes the download serves

    asset_id = _stored(session, bob, downloaded)  # Bob drops Ada's file into his analyzer
    found = restore.embedded_in_asset(
        session, storage=get_storage(), user_id=bob.id or 0, asset_id=asset_id
    )
    assert found is not None
    assert found.summary.startswith("Made with JSONCraft: FLUX.1 [schnell], seed 9")
    restored_id = restore.restore_to_gallery(
        session, storage=get_storage(), user_id=bob.id or 0, asset_id=asset_id
    )
    session.commit()
    restored = entry(session, restored_id)
    assert restored.owner_id == bob.id and restored.origin == "generated"
    assert restored.model == SCHNELL and restored.asset_id == asset_id
    assert entry_data(session, restored) == entry_data(session, made)
    # Someone else's image: not found, nothing read.
    with pytest.raises(NotFoundError):
        restore.embedded_in_asset(
            session, storage=get_storage(), user_id=ada.id or 0, asset_id=asset_id
        )


def test_an_older_json_file_restores_from_the_prompt_it_sent() -> None:
    sent = json.dumps(LIGHTHOUSE)
    data = metadata.embed(_png(8, 8), _meta(prompt_format="json", prompt_sent=sent))
    found = restore.read_embedded(data)
    assert found is not None and found.prompt == LIGHTHOUSE


def test_a_text_only_file_is_shown_but_not_restored(session: Session, ada: User) -> None:
    data = metadata.embed(_png(8, 8), _meta())
    found = restore.read_embedded(data)
    assert found is not None and found.prompt is None
    asset_id = _stored(session, ada, data)
    with pytest.raises(InvalidInputError, match="not its JSON prompt"):
        restore.restore_to_gallery(
            session, storage=get_storage(), user_id=ada.id or 0, asset_id=asset_id
        )


def test_a_plain_image_has_nothing_to_restore(session: Session, ada: User) -> None:
    assert restore.read_embedded(_png(8, 8)) is None
    asset_id = _stored(session, ada, _png(9, 9))
    with pytest.raises(NotFoundError, match="no JSONCraft generation details"):
        restore.restore_to_gallery(
            session, storage=get_storage(), user_id=ada.id or 0, asset_id=asset_id
        )


def _with_chunk(image: bytes, payload: bytes, *, crc: int | None = None) -> bytes:
    """`image` with an iTXt chunk of our keyword holding `payload`, as a forger would write."""
    data = metadata.PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + payload
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + data) if crc is None else crc)
    end = image.rindex(b"IEND") - 4
    return image[:end] + chunk + image[end:]


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        json.dumps({"format": "jsoncraft.generation", "version": 1}).encode(),  # fields missing
        json.dumps(
            {"format": "jsoncraft.generation", "version": 1, **vars(_meta()), "seed": "seven"}
        ).encode(),  # wrong type
        json.dumps(
            {"format": "jsoncraft.generation", "version": 1, **vars(_meta()), "prompt_data": [1]}
        ).encode(),  # the JSON prompt is not an object
        json.dumps({"format": "other.tool", "version": 1}).encode(),
        b"[" * 100_000 + b"]" * 100_000,  # nesting bomb
        b"x" * (metadata.MAX_PNG_METADATA + 10),  # huge chunk
    ],
    ids=["garbage", "missing", "wrong-type", "prompt-not-object", "foreign", "deep", "huge"],
)
def test_forged_or_broken_details_are_ignored(payload: bytes) -> None:
    assert restore.read_embedded(_with_chunk(_png(8, 8), payload)) is None


def test_a_damaged_checksum_or_truncated_file_is_ignored() -> None:
    good = metadata.embed(_png(8, 8), _meta())
    assert restore.read_embedded(good) is not None
    payload = json.dumps({"format": "jsoncraft.generation", "version": 1, **vars(_meta())})
    assert restore.read_embedded(_with_chunk(_png(8, 8), payload.encode(), crc=1)) is None
    assert restore.read_embedded(good[: len(good) // 2]) is None
    assert restore.read_embedded(b"") is None


def test_embedded_json_that_breaks_the_schema_is_not_restored() -> None:
    hostile = {"scene": {"$ref": "http://evil"}, "schema_version": "1.0"}
    found = restore.read_embedded(metadata.embed(_png(8, 8), _meta(prompt_data=hostile)))
    assert found is not None and found.prompt is None


def test_details_too_large_for_a_jpeg_keep_the_sent_prompt_without_the_json() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "JPEG")
    big = {**LIGHTHOUSE, "scene": "waves " * 6_000}
    data = embed_restorable(buf.getvalue(), _meta(prompt_sent="waves " * 6_000), big)
    found = metadata.read(data)
    assert found is not None and found.prompt_data is None
    small = embed_restorable(buf.getvalue(), _meta(), LIGHTHOUSE)
    read_back = metadata.read(small)
    assert read_back is not None and read_back.prompt_data == LIGHTHOUSE


def test_the_api_lists_prompts_by_origin(session: Session, ada: User, saved: Prompt) -> None:
    from fastapi.testclient import TestClient

    from app.api import create_api
    from app.services.accounts import auth

    done = generate(session, ada, prompt_id=saved.id)
    token = auth.open_session(session, user=ada)
    session.commit()
    client = TestClient(create_api(), raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"}

    generated = client.get("/api/prompts?origin=generated", headers=headers)
    assert generated.status_code == 200, generated.text
    items = generated.json()["items"]
    assert [(i["id"], i["origin"], i["model"]) for i in items] == [
        (done.images[0].gallery_prompt_id, "generated", OFFLINE_MODEL_ID)
    ]
    analyzed = client.get("/api/prompts?origin=analyzed", headers=headers).json()["items"]
    assert [i["id"] for i in analyzed] == [saved.id]
    assert client.get("/api/prompts?origin=stolen", headers=headers).status_code == 422


# --- every way a person downloads the image keeps the details -------------------------------------


def test_the_prompt_pages_download_serves_the_file_with_its_details(
    session: Session, ada: User, saved: Prompt
) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from app.api import files
    from app.services.library import prompt_ops

    done = generate(session, ada, prompt_id=saved.id, seed=21)
    made_id = done.images[0].gallery_prompt_id
    detail = prompt_ops.get_prompt_detail(
        session, prompt_id=made_id or 0, viewer=ada, storage=get_storage()
    )
    app = FastAPI()
    app.include_router(files.router)
    client = TestClient(app, base_url="http://test")
    for url in (detail.download_url, detail.image_url):
        response = client.get(url)
        assert response.status_code == 200 and response.content == file_of(
            session, done.images[0].asset_id
        )
        found = metadata.read(response.content)
        assert found is not None and found.seed == 21
    downloaded = client.get(detail.download_url)
    assert f"generation-{done.id}-1.png" in downloaded.headers["content-disposition"]


def _export(session: Session, owner: User, **kwargs: object) -> bytes:
    from app.services.library.bundles import export_bundle

    out = io.BytesIO()
    export_bundle(session, storage=get_storage(), owner=owner, out=out, **kwargs)  # type: ignore[arg-type]
    session.commit()
    return out.getvalue()


def _import(session: Session, owner: User, data: bytes) -> list[int]:
    from app.services.library.bundles import import_bundle

    report = import_bundle(session, storage=get_storage(), owner=owner, source=io.BytesIO(data))
    return report.prompt_ids


def test_a_bundle_keeps_the_details_and_brings_the_entry_back_as_generated(
    session: Session, ada: User, bob: User, saved: Prompt
) -> None:
    import zipfile

    done = generate(session, ada, prompt_id=saved.id, seed=4)
    made_id = done.images[0].gallery_prompt_id
    bundle = _export(session, ada, prompt_ids=[made_id])
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        image_names = [n for n in zf.namelist() if n.startswith("images/")]
        assert len(image_names) == 1
        found = metadata.read(zf.read(image_names[0]))
        assert found is not None and found.seed == 4
        record = json.loads(zf.read("prompts/1.json"))
        assert record["origin"] == "generated"

    [imported] = _import(session, bob, bundle)
    assert entry(session, imported).origin == "generated"
    assert entry(session, imported).model == OFFLINE_MODEL_ID


def _rewrite(bundle: bytes, change: dict[str, object], *, drop: tuple[str, ...] = ()) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.startswith("prompts/"):
                record = {**json.loads(data), **change}
                for key in drop:
                    record.pop(key, None)
                data = json.dumps(record).encode()
            dst.writestr(name, data)
    return out.getvalue()


def test_an_older_bundle_is_read_by_the_details_inside_its_images(
    session: Session, ada: User, bob: User, saved: Prompt
) -> None:
    from app.services.library.bundles import BundleRejectedError

    done = generate(session, ada, prompt_id=saved.id)
    bundle = _export(session, ada, prompt_ids=[done.images[0].gallery_prompt_id, saved.id])
    older = _rewrite(bundle, {}, drop=("origin",))
    imported = _import(session, bob, older)
    assert sorted(entry(session, i).origin for i in imported) == ["analyzed", "generated"]
    with pytest.raises(BundleRejectedError, match="origin"):
        _import(session, make_user(session, "cy@example.com"), _rewrite(bundle, {"origin": 7}))


# --- what the gallery's state makes of it --------------------------------------------------------


def test_saved_filters_keep_the_origin_through_the_filter_bar() -> None:
    from app.state.gallery import NO_FILTERS
    from app.state.saved_filters import _filters, _query

    bar = {**NO_FILTERS, "origin": "generated", "model": SCHNELL}
    kept = _query(bar).to_dict()
    assert _filters(kept)["origin"] == "generated" and _filters(kept)["model"] == SCHNELL
    assert _filters({"text": "an old filter"})["origin"] == ""


def test_cards_say_which_model_made_them() -> None:
    from datetime import UTC, datetime

    from app.services.generation.labels import known_models, model_labels
    from app.state.gallery import _card

    def card(origin: str, model: str) -> gallery.PromptCard:
        return gallery.PromptCard(
            id=1, title="t", model=model, style="", author="a", created_at=datetime.now(UTC),
            tags=[], thumbnail_url="", width=1, height=1, visibility="private", origin=origin,
        )  # fmt: skip

    labels = model_labels([SCHNELL, OFFLINE_MODEL_ID, "someone/unknown-model"])
    assert _card(card("generated", SCHNELL), labels)["made_by"] == "Generated · FLUX.1 [schnell]"
    preview = _card(card("generated", OFFLINE_MODEL_ID), labels)
    assert preview["made_by"] == "Generated · Layout preview"
    analyzed = _card(card("analyzed", "someone/unknown-model"), labels)
    assert analyzed["made_by"] == "Analyzed · someone/unknown-model"
    assert _card(card("analyzed", ""), labels)["made_by"] == "Analyzed"
    ids = [m for m, _ in known_models()]
    assert ids[0] == OFFLINE_MODEL_ID and SCHNELL in ids and len(ids) == len(set(ids))
