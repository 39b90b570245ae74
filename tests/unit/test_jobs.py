"""Studio jobs through the service: create, run on the real engine, credits, limits, cancel."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from app.services.billing import credits, pricing
from app.services.core.errors import (
    ConflictError,
    InsufficientCreditsError,
    InvalidInputError,
    NotFoundError,
    PlanLimitError,
)
from app.services.core.models import Asset, Job, JobItem, User
from app.services.core.storage import get_storage
from app.services.studio import jobs
from app.services.studio.jobs.lease import claim, release
from app.settings import Settings
from tests.utils.images import truncated_jpeg
from tests.utils.job_helpers import (
    make_user,
    noisy_photo,
    photo,
    queued_tasks,
    run_queue,
    spec,
    uploads,
    zip_of,
)


@pytest.fixture
def ada(session: Session) -> User:
    return make_user(session, "ada@example.com", balance=100)


@pytest.fixture
def admin(session: Session) -> User:
    return make_user(session, "boss@example.com", role="admin")


def _storage_files(settings: Settings) -> list[Path]:
    root = settings.storage_dir / "jobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _balance(session: Session, user: User) -> int:
    assert user.id is not None
    return credits.balance(session, user_id=user.id)


# -- cost --------------------------------------------------------------------------------------


def test_local_operations_are_free_and_ai_operations_priced(session: Session) -> None:
    free = jobs.estimate_cost(session, spec=spec(), count=10)
    assert (free.per_image, free.now_total, free.batch_total, free.free) == (0, 0, 0, True)
    assert [label for label, _ in free.lines] == [jobs.costs.LABELS["studio_local"]]

    ai = jobs.estimate_cost(
        session,
        spec=spec({"remove_background": {"provider": "local"}, "ocr": True}),
        count=3,
    )
    assert [c for _, c in ai.lines] == [0, 2, 1]  # local ops (the encode), GrabCut, OCR
    assert (ai.per_image, ai.now_total, ai.batch_total, ai.free) == (3, 9, 5, False)
    ocr_only = jobs.estimate_cost(session, spec=spec({"ocr": True}), count=1)
    assert [label for label, _ in ocr_only.lines] == ["Text recognition (OCR)"]
    with pytest.raises(InvalidInputError):
        jobs.estimate_cost(session, spec=spec(), count=-1)


def test_studio_prices_are_admin_editable_and_listed(session: Session, admin: User) -> None:
    listed = {row.key: row.credits for row in pricing.list_prices(session)}
    assert listed["op:studio_local"] == 0
    assert listed["op:studio_remove_background_local"] == 2
    assert listed["op:studio_remove_background_fal"] == 5
    assert listed["op:studio_ocr"] == 1
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=3)
    session.commit()
    preview = jobs.estimate_cost(session, spec=spec(), count=3)
    assert (preview.per_image, preview.now_total, preview.batch_total) == (3, 9, 5)


# -- create and run ----------------------------------------------------------------------------


def test_a_job_runs_on_the_engine_and_keeps_per_item_results(
    session: Session, ada: User, isolated_settings: Settings
) -> None:
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(("one.jpg", photo((400, 300))), ("two.jpg", photo((300, 400)))),
        mode="now",
    )
    assert (view.status, view.total, view.done, view.percent) == ("queued", 2, 0, 0)
    assert [i.status for i in view.items] == ["queued", "queued"]
    assert view.steps[-1] == "encode" and view.spec == {
        "resize": {"long_edge": 64},
        "convert": {"format": "webp"},
    }
    [task] = queued_tasks()
    assert task.args == (view.id,) and task.priority == jobs.PRIORITY["now"]

    run_queue()
    done = jobs.get_job(session, user=ada, job_id=view.id)
    assert (done.status, done.done, done.failed, done.percent) == ("done", 2, 0, 100)
    assert done.credits_charged == 0 and done.finished_at is not None
    first, second = done.items
    assert [o.name for o in first.outputs] == ["one.webp"]
    out = first.outputs[0]
    assert (out.media_type, out.width, out.height) == ("image/webp", 64, 48)
    assert "/api/files/jobs/" in out.url and "sig=" in out.url
    assert (second.outputs[0].width, second.outputs[0].height) == (48, 64)
    stored = get_storage().read_bytes(
        session.exec(select(JobItem).where(JobItem.job_id == view.id)).first().outputs[0]["key"]  # type: ignore[union-attr]
    )
    assert Image.open(io.BytesIO(stored)).size == (64, 48)
    assert jobs.run_job(view.id) == "skipped"  # finished: a stray duplicate task does nothing


def test_bad_files_fail_alone_and_the_rest_completes(session: Session, ada: User) -> None:
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(
            ("good.jpg", photo()),
            ("notes.txt", b"just some text, not an image"),
            ("cut.jpg", truncated_jpeg()),
            ("album.zip", zip_of(("in-zip.jpg", photo()), ("../escape.jpg", photo()))),
        ),
        mode="now",
    )
    by_name = {i.name: i for i in view.items}
    assert view.total == 5 and view.failed == 2  # refused at upload, before any work
    assert "not a supported image" in (by_name["notes.txt"].error or "")
    assert by_name["notes.txt"].status == "failed"
    escape = next(i for i in view.items if "escape" in i.name)
    assert escape.status == "failed" and "outside the archive" in (escape.error or "")

    run_queue()
    finished = jobs.get_job(session, user=ada, job_id=view.id)
    by_name = {i.name: i for i in finished.items}
    assert finished.status == "done" and (finished.done, finished.failed) == (2, 3)
    assert by_name["good.jpg"].status == "done"
    assert by_name["album.zip/in-zip.jpg"].status == "done"
    cut = by_name["cut.jpg"]
    assert cut.status == "failed" and cut.error and cut.outputs == []


def test_no_files_or_only_bad_files_are_refused_and_nothing_is_kept(
    session: Session, ada: User, isolated_settings: Settings
) -> None:
    with pytest.raises(InvalidInputError, match="at least one image"):
        jobs.create_job(session, user=ada, spec=spec(), uploads=[], mode="now")
    with pytest.raises(InvalidInputError, match="None of the 2 files") as refused:
        jobs.create_job(
            session,
            user=ada,
            spec=spec(),
            uploads=uploads(("a.txt", b"hello"), ("b.zip", zip_of(("../x.jpg", photo())))),
            mode="now",
        )
    assert "a.txt" in refused.value.message and "outside the archive" in refused.value.message
    with pytest.raises(InvalidInputError, match="mode"):
        jobs.create_job(session, user=ada, spec=spec(), uploads=[], mode="later")  # type: ignore[arg-type]
    assert session.exec(select(Job)).all() == []
    assert queued_tasks() == []


def test_more_images_than_the_plan_allows_is_refused(
    session: Session, ada: User, isolated_settings: Settings
) -> None:
    limit = pricing.plan_limits(ada).max_batch
    assert limit == 25
    files = [(f"p{i}.jpg", photo((16, 16))) for i in range(limit + 1)]
    with pytest.raises(PlanLimitError, match="Free plan runs up to 25 images") as refused:
        jobs.create_job(session, user=ada, spec=spec(), uploads=uploads(*files), mode="now")
    assert refused.value.status_code == 429
    # The same count inside a zip: each image counts, and the files stored so far are removed.
    with pytest.raises(PlanLimitError):
        jobs.create_job(
            session, user=ada, spec=spec(), uploads=uploads(("all.zip", zip_of(*files))), mode="now"
        )
    assert session.exec(select(Job)).all() == [] and _storage_files(isolated_settings) == []
    exactly = jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(*files[:limit]), mode="now"
    )
    assert exactly.total == limit
    with pytest.raises(PlanLimitError):
        jobs.check_batch_size(ada, limit + 1)


def test_a_free_account_runs_one_job_at_a_time(session: Session, ada: User) -> None:
    first = jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(("a.jpg", photo())), mode="now"
    )
    with pytest.raises(PlanLimitError, match="1 job at a time") as refused:
        jobs.create_job(
            session, user=ada, spec=spec(), uploads=uploads(("b.jpg", photo())), mode="now"
        )
    assert refused.value.status_code == 429
    run_queue()
    assert jobs.get_job(session, user=ada, job_id=first.id).status == "done"
    second = jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(("b.jpg", photo())), mode="batch"
    )
    assert second.status == "queued"


def test_pro_runs_four_jobs_at_once_and_now_jumps_ahead_of_batch(session: Session) -> None:
    pro = make_user(session, "pro@example.com", plan="pro")
    ids = [
        jobs.create_job(
            session, user=pro, spec=spec(), uploads=uploads(("a.jpg", photo())), mode=mode
        ).id
        for mode in ("batch", "batch", "now", "now")
    ]
    with pytest.raises(PlanLimitError, match="Pro plan runs 4 jobs"):
        jobs.create_job(
            session, user=pro, spec=spec(), uploads=uploads(("a.jpg", photo())), mode="now"
        )
    order = [task.args[0] for task in run_queue()]
    assert order == [ids[2], ids[3], ids[0], ids[1]]


def test_credits_are_reserved_then_charged_for_successes_at_the_price_reserved(
    session: Session, ada: User, admin: User
) -> None:
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=3)
    session.commit()
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(("a.jpg", photo()), ("b.jpg", photo()), ("cut.jpg", truncated_jpeg())),
        mode="now",
    )
    assert view.credits_reserved == 9 and view.credits_charged is None
    assert _balance(session, ada) == 91
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=50)  # mid-job
    session.commit()
    run_queue()
    done = jobs.get_job(session, user=ada, job_id=view.id)
    assert (done.done, done.failed, done.credits_charged) == (2, 1, 6)
    assert _balance(session, ada) == 94  # the failed image's 3 credits came back


def test_batch_mode_costs_half_rounded_up(session: Session, ada: User, admin: User) -> None:
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=3)
    session.commit()
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(("a.jpg", photo()), ("b.jpg", photo()), ("cut.jpg", truncated_jpeg())),
        mode="batch",
    )
    assert view.mode == "batch" and view.credits_reserved == 5  # 9 / 2, rounded up
    [task] = queued_tasks()
    assert task.priority == jobs.PRIORITY["batch"]
    run_queue()
    assert jobs.get_job(session, user=ada, job_id=view.id).credits_charged == 3  # 6 / 2
    assert _balance(session, ada) == 97


def test_not_enough_credits_is_refused_before_anything_is_kept(
    session: Session, admin: User, isolated_settings: Settings
) -> None:
    poor = make_user(session, "poor@example.com", balance=4)
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=3)
    session.commit()
    files = uploads(("a.jpg", photo()), ("b.jpg", photo()))
    with pytest.raises(InsufficientCreditsError) as refused:
        jobs.create_job(session, user=poor, spec=spec(), uploads=files, mode="now")
    assert (refused.value.cost, refused.value.balance, refused.value.status_code) == (6, 4, 402)
    broke = make_user(session, "broke@example.com")
    with pytest.raises(InsufficientCreditsError):  # refused before reading a single upload
        jobs.create_job(session, user=broke, spec=spec(), uploads=files, mode="now")
    assert session.exec(select(Job)).all() == [] and _storage_files(isolated_settings) == []
    assert _balance(session, poor) == 4
    cheaper = jobs.create_job(
        session,
        user=poor,
        spec=spec(),
        uploads=uploads(("a.jpg", photo()), ("b.jpg", photo())),
        mode="batch",
    )
    assert cheaper.credits_reserved == 3 and _balance(session, poor) == 1


# -- access ------------------------------------------------------------------------------------


def test_other_users_jobs_are_not_found_but_admins_see_them(
    session: Session, ada: User, admin: User
) -> None:
    view = jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(("a.jpg", photo())), mode="now"
    )
    run_queue()
    eve = make_user(session, "eve@example.com")
    for call in (
        lambda: jobs.get_job(session, user=eve, job_id=view.id),
        lambda: jobs.cancel_job(session, user=eve, job_id=view.id),
        lambda: jobs.write_zip(session, user=eve, job_id=view.id, out=io.BytesIO()),
        lambda: jobs.send_output_to_analyzer(
            session, user=eve, job_id=view.id, position=0, name="a.webp"
        ),
        lambda: jobs.get_job(session, user=ada, job_id=view.id + 1000),
    ):
        with pytest.raises(NotFoundError, match="No job with that id"):
            call()
    assert jobs.list_jobs(session, user=eve) == []
    assert jobs.get_job(session, user=admin, job_id=view.id).done == 1
    [listed] = jobs.list_jobs(session, user=ada)
    assert (listed.id, listed.status, listed.done, listed.items) == (view.id, "done", 1, [])


# -- cancel ------------------------------------------------------------------------------------


def test_cancelling_a_queued_job_refunds_everything_at_once(
    session: Session, ada: User, admin: User
) -> None:
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=2)
    session.commit()
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(("a.jpg", photo()), ("b.jpg", photo())),
        mode="now",
    )
    assert _balance(session, ada) == 96
    cancelled = jobs.cancel_job(session, user=ada, job_id=view.id)
    assert (cancelled.status, cancelled.cancelled, cancelled.credits_charged) == ("cancelled", 2, 0)
    assert [i.status for i in cancelled.items] == ["cancelled", "cancelled"]
    assert _balance(session, ada) == 100
    again = jobs.cancel_job(session, user=ada, job_id=view.id)  # twice: no error, no change
    assert again.status == "cancelled" and _balance(session, ada) == 100
    assert [t.args[0] for t in run_queue()] == [view.id]  # the queued task finds it cancelled
    assert jobs.get_job(session, user=ada, job_id=view.id).status == "cancelled"
    # A finished job can't be cancelled; the answer says why.
    done = jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(("c.jpg", photo())), mode="now"
    )
    run_queue()
    with pytest.raises(ConflictError, match="already finished"):
        jobs.cancel_job(session, user=ada, job_id=done.id)


def test_cancel_while_running_is_finished_by_the_worker(session: Session, ada: User) -> None:
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec(),
        uploads=uploads(("a.jpg", photo()), ("b.jpg", photo())),
        mode="now",
    )
    # A worker elsewhere holds the job when the cancel arrives.
    assert claim(session, job_id=view.id, worker_id="elsewhere:1:abc")
    asked = jobs.cancel_job(session, user=ada, job_id=view.id)
    assert asked.status == "cancelling"
    assert jobs.cancel_job(session, user=ada, job_id=view.id).status == "cancelling"
    # That worker dies; the job goes back to the queue still cancelling, and the next worker
    # finishes the cancellation without processing anything.
    assert release(session, job_id=view.id, worker_id="elsewhere:1:abc")
    assert jobs.run_job(view.id) == "cancelled"
    final = jobs.get_job(session, user=ada, job_id=view.id)
    assert (final.status, final.cancelled, final.done) == ("cancelled", 2, 0)


def test_cancel_mid_run_keeps_finished_items_and_refunds_the_rest(
    session: Session, ada: User, admin: User
) -> None:
    pricing.set_price(session, actor=admin, key="op:studio_local", credits=1)
    session.commit()
    files = [(f"big{i}.jpg", noisy_photo((1600, 1200), seed=i)) for i in range(24)]
    heavy = spec(
        {
            "resize": {"mode": "exact", "width": 1500, "height": 1100},
            "filters": [{"name": "sharpen"}, {"name": "blur", "amount": 2}],
            "convert": {"format": "png"},
        }
    )
    view = jobs.create_job(session, user=ada, spec=heavy, uploads=uploads(*files), mode="now")
    assert _balance(session, ada) == 76
    worker = threading.Thread(target=run_queue)
    worker.start()
    deadline = time.monotonic() + 120
    while jobs.get_job(session, user=ada, job_id=view.id).done == 0:
        assert time.monotonic() < deadline, "no image finished in time"
        time.sleep(0.05)
    asked = jobs.cancel_job(session, user=ada, job_id=view.id)
    worker.join(timeout=120)
    final = jobs.get_job(session, user=ada, job_id=view.id)
    assert asked.status == "cancelling" and final.status == "cancelled"
    assert 1 <= final.done < 24 and final.done + final.cancelled == 24
    assert all(i.outputs for i in final.items if i.status == "done")
    assert final.credits_charged == final.done
    assert _balance(session, ada) == 100 - final.done


# -- results -----------------------------------------------------------------------------------


def test_zip_has_safe_unique_names_and_lists_the_failures(session: Session, ada: User) -> None:
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec({"convert": {"format": "png"}, "thumbnails": [32]}),
        uploads=uploads(
            ("photo.jpg", photo()),
            ("PHOTO.jpg", photo()),
            ("pack.zip", zip_of(("dir/photo.jpg", photo()), ("bad.png", b"\x89PNG broken"))),
        ),
        mode="now",
    )
    with pytest.raises(ConflictError, match="Nothing to download yet"):
        jobs.write_zip(session, user=ada, job_id=view.id, out=io.BytesIO())
    run_queue()
    out = io.BytesIO()
    assert (
        jobs.write_zip(session, user=ada, job_id=view.id, out=out) == f"jsoncraft-job-{view.id}.zip"
    )
    archive = zipfile.ZipFile(out)
    names = archive.namelist()
    assert len(names) == len({n.casefold() for n in names}) == 7  # 3 images, 3 thumbs, errors
    assert {"photo.png", "PHOTO (2).png", "photo (3).png", "errors.txt"} <= set(names)
    assert all("/" not in n and not n.startswith(".") for n in names)
    assert "bad.png" in archive.read("errors.txt").decode()
    assert Image.open(io.BytesIO(archive.read("photo.png"))).format == "PNG"


def test_entry_names_are_flat_and_distinct() -> None:
    names = jobs.archive.UniqueNames(reserved={"errors.txt"})
    assert names.add("../../etc/passwd") == "passwd"
    assert names.add("C:\\Windows\\evil.exe") == "evil.exe"
    assert names.add("a\x00b\nc.png") == "abc.png"
    assert names.add("ERRORS.TXT") == "ERRORS (2).TXT"
    assert names.add("...") == "file" and names.add("") == "file (2)"
    assert names.add('what?*"<>|.jpg') == "what______.jpg"
    assert len(names.add("x" * 400 + ".webp")) == jobs.archive.MAX_ENTRY_NAME


def test_a_job_with_no_result_has_nothing_to_download(session: Session, ada: User) -> None:
    view = jobs.create_job(
        session, user=ada, spec=spec(), uploads=uploads(("cut.jpg", truncated_jpeg())), mode="now"
    )
    run_queue()
    final = jobs.get_job(session, user=ada, job_id=view.id)
    assert final.status == "failed" and final.error and "could be processed" in final.error
    with pytest.raises(ConflictError, match="no results"):
        jobs.write_zip(session, user=ada, job_id=view.id, out=io.BytesIO())


def test_an_output_can_be_sent_to_the_analyzer(session: Session, ada: User) -> None:
    view = jobs.create_job(
        session,
        user=ada,
        spec=spec({"resize": {"long_edge": 80}, "convert": {"format": "jpeg"}, "ocr": True}),
        uploads=uploads(("shot.jpg", photo((160, 120)))),
        mode="now",
    )
    run_queue()
    names = [o.name for o in jobs.get_job(session, user=ada, job_id=view.id).items[0].outputs]
    assert "shot.jpg" in names and "shot.ocr.json" in names
    asset_id = jobs.send_output_to_analyzer(
        session, user=ada, job_id=view.id, position=0, name="shot.jpg"
    )
    session.commit()
    asset = session.get(Asset, asset_id)
    assert (
        asset is not None and asset.owner_id == ada.id and (asset.width, asset.height) == (80, 60)
    )
    with pytest.raises(InvalidInputError, match="JPEG, PNG, WebP or GIF"):
        jobs.send_output_to_analyzer(
            session, user=ada, job_id=view.id, position=0, name="shot.ocr.json"
        )
    with pytest.raises(NotFoundError):
        jobs.send_output_to_analyzer(session, user=ada, job_id=view.id, position=0, name="nope.jpg")
