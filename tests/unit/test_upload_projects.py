"""Projects of the upload platform: the list, creating within the plan, renaming, the upload
rules (one validation for the form and the API) and deleting a project with everything in it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.services.accounts.api_keys import create_key, issue_key
from app.services.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PlanLimitError,
)
from app.services.core.models import (
    ApiKey,
    Project,
    Prompt,
    Upload,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from app.services.core.storage import get_storage
from app.services.uploads.project_config import (
    ConfigFieldError,
    clean_types,
    config_of,
    parse_types,
    update_config,
)
from app.services.uploads.project_usage import month_start, project_usage
from app.services.uploads.projects import (
    create_project,
    delete_project,
    list_projects,
    rename_project,
)
from tests.utils.job_helpers import make_user

MB = 1024 * 1024


def add_upload(session: Session, project: Project, n: int, *, days_ago: int = 0) -> Upload:
    assert project.id is not None
    upload = Upload(
        id=f"up_{project.id}_{n}_{days_ago}",
        project_id=project.id,
        name=f"f{n}.png",
        size=10,
        content_type="image/png",
        storage_key=f"uploads/{project.id}/{n}-{days_ago}.png",
        thumbnail_key=f"uploads/{project.id}/{n}-{days_ago}.thumb.webp",
        url_expires_at=utcnow(),
        created_at=utcnow() - timedelta(days=days_ago),
    )
    session.add(upload)
    session.flush()
    return upload


def test_the_list_shows_each_project_with_live_keys_and_this_months_uploads(
    session: Session,
) -> None:
    owner = make_user(session, "dev@example.com")
    other = make_user(session, "other@example.com")
    first = create_project(session, owner=owner, name="  Site   one ")
    second = create_project(session, owner=owner, name="App")
    create_project(session, owner=other, name="Theirs")
    assert first.id is not None and second.id is not None
    issue_key(session, project_id=first.id, name="a")
    revoked = issue_key(session, project_id=first.id, name="b")
    row = session.get(ApiKey, revoked.key_id)
    assert row is not None
    row.revoked_at = utcnow()
    add_upload(session, first, 1)
    add_upload(session, first, 2)
    add_upload(session, first, 3, days_ago=40)  # before this month
    assert month_start().day == 1

    rows = list_projects(session, owner=owner)
    assert [(r.name, r.key_count, r.uploads_this_month) for r in rows] == [
        ("App", 0, 0),
        ("Site one", 1, 2),
    ]


def test_creating_past_the_plans_projects_is_refused_and_points_to_pricing(
    session: Session,
) -> None:
    owner = make_user(session, "dev@example.com")  # Free: 3 projects
    for n in range(3):
        create_project(session, owner=owner, name=f"P{n}")
    with pytest.raises(PlanLimitError, match=r"Free plan allows 3 projects .*/pricing"):
        create_project(session, owner=owner, name="P3")
    pro = make_user(session, "pro@example.com", plan="pro")
    for n in range(4):
        create_project(session, owner=pro, name=f"P{n}")
    assert len(list_projects(session, owner=pro)) == 4


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_bad_names_are_refused(session: Session, name: str) -> None:
    owner = make_user(session, "dev@example.com")
    with pytest.raises(InvalidInputError):
        create_project(session, owner=owner, name=name)
    assert list_projects(session, owner=owner) == []


def test_names_are_unique_per_owner_and_rename_checks_ownership(session: Session) -> None:
    owner = make_user(session, "dev@example.com")
    other = make_user(session, "other@example.com")
    project = create_project(session, owner=owner, name="Site")
    create_project(session, owner=other, name="Site")  # another owner may use the name
    with pytest.raises(ConflictError, match="already have a project named"):
        create_project(session, owner=owner, name="Site")
    assert project.id is not None
    assert rename_project(session, owner=owner, project_id=project.id, name="Site").name == "Site"
    assert rename_project(session, owner=owner, project_id=project.id, name="Web").name == "Web"
    with pytest.raises(NotFoundError):
        rename_project(session, owner=other, project_id=project.id, name="Mine")


def test_config_changes_are_validated_normalised_and_applied_all_or_none(
    session: Session,
) -> None:
    owner = make_user(session, "dev@example.com")
    project = create_project(session, owner=owner, name="Site")
    assert project.id is not None
    update_config(
        session,
        owner=owner,
        project_id=project.id,
        changes={
            "allowed_types": [" Image/* ", "application/pdf", "image/*"],
            "max_file_size": 5 * MB,
            "max_files_per_upload": 3,
            "expire_after_days": 30,
            "acl": "public-read",
        },
    )
    config = config_of(project)
    assert config["allowed_types"] == ["image/*", "application/pdf"]
    assert (config["max_file_size"], config["max_files_per_upload"]) == (5 * MB, 3)
    assert (config["expire_after_days"], config["acl"]) == (30, "public-read")

    with pytest.raises(ConfigFieldError, match="“nonsense” is not a MIME type") as err:
        update_config(
            session,
            owner=owner,
            project_id=project.id,
            changes={"acl": "private", "allowed_types": ["nonsense"]},
        )
    assert err.value.field == "allowed_types"
    session.refresh(project)
    assert project.acl == "public-read"  # nothing applied
    update_config(session, owner=owner, project_id=project.id, changes={"expire_after_days": None})
    assert project.expire_after_days is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"allowed_types": ["image/png; q=1"]}, "allowed_types", "not a MIME type"),
        ({"allowed_types": ["*/*"]}, "allowed_types", "leave the list"),
        ({"allowed_types": ["pictures/png"]}, "allowed_types", "not a MIME type"),
        ({"allowed_types": "image/png"}, "allowed_types", "must be a list"),
        ({"allowed_types": [f"image/x{i}" for i in range(51)]}, "allowed_types", "at most 50"),
        ({"max_file_size": 0}, "max_file_size", "at least 1 byte"),
        ({"max_file_size": True}, "max_file_size", "at least 1 byte"),
        ({"max_file_size": 64 * MB + 1}, "max_file_size", "at most 64 MB on the Free plan"),
        ({"max_files_per_upload": 0}, "max_files_per_upload", "between 1 and 100"),
        ({"max_files_per_upload": 1.5}, "max_files_per_upload", "whole number"),
        ({"expire_after_days": 0}, "expire_after_days", "between 1 and 3,650"),
        ({"acl": "public"}, "acl", "private"),
        ({"owner_id": 2}, "owner_id", "not an upload setting"),
    ],
)
def test_bad_config_gets_a_message_naming_the_field(
    session: Session, changes: dict[str, object], field: str, message: str
) -> None:
    owner = make_user(session, "dev@example.com")
    project = create_project(session, owner=owner, name="Site")
    assert project.id is not None
    with pytest.raises(ConfigFieldError, match=message) as err:
        update_config(session, owner=owner, project_id=project.id, changes=changes)
    assert err.value.field == field


def test_the_plan_cap_is_the_owners_plan() -> None:
    assert parse_types("image/*, application/pdf\ntext/plain") == [
        "image/*",
        "application/pdf",
        "text/plain",
    ]
    assert clean_types([]) == []  # empty: any type


def test_pro_may_raise_the_file_size_to_its_cap(session: Session) -> None:
    pro = make_user(session, "pro@example.com", plan="pro")
    project = create_project(session, owner=pro, name="Big")
    assert project.id is not None
    update_config(session, owner=pro, project_id=project.id, changes={"max_file_size": 1024 * MB})
    assert project.max_file_size == 1024 * MB


def test_usage_counts_the_owners_uploads_this_month_against_the_plan(session: Session) -> None:
    owner = make_user(session, "dev@example.com")
    one = create_project(session, owner=owner, name="One")
    two = create_project(session, owner=owner, name="Two")
    add_upload(session, one, 1)
    add_upload(session, two, 1)
    add_upload(session, two, 2, days_ago=45)
    usage = project_usage(session, owner=owner, project=one)
    assert (usage.uploads_this_month, usage.project_uploads_this_month) == (2, 1)
    assert (usage.monthly_uploads, usage.projects, usage.max_projects) == (1000, 2, 3)
    assert usage.max_upload_file_size == 64 * MB


def test_deleting_removes_keys_uploads_objects_and_webhooks_but_keeps_prompts(
    session: Session,
) -> None:
    owner = make_user(session, "dev@example.com")
    other = make_user(session, "other@example.com")
    doomed = create_project(session, owner=owner, name="Doomed")
    kept = create_project(session, owner=owner, name="Kept")
    assert doomed.id is not None and kept.id is not None
    storage = get_storage()
    uploads = [add_upload(session, doomed, n) for n in range(3)]
    for upload in uploads:
        storage.put_bytes(upload.storage_key, b"file", content_type="image/png")
        assert upload.thumbnail_key is not None
        storage.put_bytes(upload.thumbnail_key, b"thumb", content_type="image/webp")
    survivor = add_upload(session, kept, 9)
    storage.put_bytes(survivor.storage_key, b"keep", content_type="image/png")
    issue_key(session, project_id=doomed.id, name="k")
    endpoint = WebhookEndpoint(project_id=doomed.id, url="https://example.com/h", secret_enc="x")
    session.add(endpoint)
    session.flush()
    assert endpoint.id is not None
    delivery = WebhookDelivery(
        id="msg_1", endpoint_id=endpoint.id, project_id=doomed.id, event_type="e", payload="{}"
    )
    session.add(delivery)
    session.flush()
    session.add(WebhookAttempt(delivery_id="msg_1", endpoint_id=endpoint.id))
    prompt = Prompt(owner_id=owner.id, project_id=doomed.id, title="filed", data={})
    session.add(prompt)
    session.flush()

    with pytest.raises(NotFoundError):
        delete_project(session, owner=other, project_id=doomed.id)
    result = delete_project(session, owner=owner, project_id=doomed.id)
    session.commit()

    assert (result.name, result.uploads, result.objects) == ("Doomed", 3, 6)
    assert session.get(Project, doomed.id) is None
    for model in (ApiKey, Upload, WebhookEndpoint, WebhookDelivery):
        left = session.exec(select(model).where(model.project_id == doomed.id)).all()  # type: ignore[attr-defined]
        assert left == [], model
    assert session.exec(select(WebhookAttempt)).all() == []
    for upload in uploads:
        assert not storage.exists(upload.storage_key)
    assert storage.exists(survivor.storage_key)
    session.refresh(prompt)
    assert prompt.project_id is None
    assert [p.name for p in list_projects(session, owner=owner)] == ["Kept"]


def test_create_key_still_files_keys_under_a_named_project(session: Session) -> None:
    owner = make_user(session, "dev@example.com")
    new = create_key(session, owner=owner, project_name="Default")
    row = session.get(ApiKey, new.key_id)
    assert row is not None and row.scopes == "upload,read,manage"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"max_mb": "ten"}, "max_file_size"),
        ({"max_mb": "nan"}, "max_file_size"),
        ({"max_mb": "inf"}, "max_file_size"),
        ({"max_files": "2.5"}, "max_files_per_upload"),
        ({"max_files": ""}, "max_files_per_upload"),
        ({"expire_days": "a week"}, "expire_after_days"),
    ],
)
def test_the_forms_text_that_is_no_number_is_refused_for_its_field(
    form: dict[str, str], field: str
) -> None:
    from app.state.project_overview import form_changes

    base = {
        "types": "image/*",
        "max_mb": "16",
        "max_files": "10",
        "expire_days": "",
        "acl": "private",
    }
    with pytest.raises(ConfigFieldError) as err:
        form_changes({**base, **form})
    assert err.value.field == field


def test_the_form_becomes_the_services_changes(session: Session) -> None:
    from app.state.project_overview import form_changes, form_values

    changes = form_changes(
        {
            "types": "image/*,  application/pdf",
            "max_mb": " 0.5 ",
            "max_files": "3",
            "expire_days": "",
            "acl": "public-read",
        }  # fmt: skip
    )
    assert changes == {
        "allowed_types": ["image/*", "application/pdf"],
        "max_file_size": MB // 2,
        "max_files_per_upload": 3,
        "expire_after_days": None,
        "acl": "public-read",
    }
    owner = make_user(session, "dev@example.com")
    project = create_project(session, owner=owner, name="Site")
    assert project.id is not None
    update_config(session, owner=owner, project_id=project.id, changes=changes)
    assert form_values(project) == {
        "types": "image/*, application/pdf",
        "max_mb": "0.5",
        "max_files": "3",
        "expire_days": "",
        "acl": "public-read",
    }
