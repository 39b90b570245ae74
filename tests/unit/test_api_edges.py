"""What the API fuzzer (schemathesis) found: inputs at the edges answered with 500s, error answers
that didn't match the schema, and `Allow` headers that didn't list every method. Each test below
failed before the fix."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.api import create_api
from app.services.accounts import auth
from app.services.core.models import Role
from tests.utils.prompt_factories import make_user, prompt_data

BEYOND_64_BITS = 2**64 + 5
BEYOND_INTEGER_COLUMN = 2**31  # ids are 32-bit INTEGER columns on PostgreSQL


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    user = make_user(session, "root", role=Role.admin)
    token = auth.open_session(session, user=user)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def _refused_field(response_json: dict[str, object], field: str) -> None:
    assert response_json["detail"] == "The request is not valid."
    errors = response_json["errors"]
    assert isinstance(errors, list)
    assert field in [e["field"] for e in errors], errors


@pytest.mark.parametrize("big", [BEYOND_64_BITS, BEYOND_INTEGER_COLUMN])
@pytest.mark.parametrize(
    ("method", "template", "field"),
    [
        ("GET", "/api/prompts/{id}", "path.prompt_id"),
        ("GET", "/api/prompts/{id}/versions", "path.prompt_id"),
        ("GET", "/api/bundles/{id}/download", "path.bundle_id"),
        ("GET", "/api/jobs/{id}", "path.job_id"),
        ("GET", "/api/jobs/{id}/download", "path.job_id"),
        ("DELETE", "/api/jobs/{id}", "path.job_id"),
    ],
)
def test_ids_beyond_the_column_are_refused_not_a_server_error(
    client: TestClient, admin: dict[str, str], method: str, template: str, field: str, big: int
) -> None:
    response = client.request(method, template.format(id=big), headers=admin)
    assert response.status_code == 422, response.text
    _refused_field(response.json(), field)


def test_admin_ids_beyond_64_bits_are_refused(client: TestClient, admin: dict[str, str]) -> None:
    role = client.put(
        f"/api/admin/users/{BEYOND_64_BITS}/role", headers=admin, json={"role": "user"}
    )
    assert role.status_code == 422, role.text
    _refused_field(role.json(), "path.user_id")
    usage = client.get("/api/admin/usage", params={"user_id": BEYOND_64_BITS}, headers=admin)
    assert usage.status_code == 422, usage.text
    _refused_field(usage.json(), "query.user_id")


def test_new_prompt_with_a_huge_asset_id_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"title": "Harbour", "data": prompt_data("Boats"), "asset_id": BEYOND_64_BITS}
    response = client.post("/api/prompts", headers=admin, json=body)
    assert response.status_code == 422, response.text
    _refused_field(response.json(), "asset_id")


def test_new_prompt_with_nul_in_its_title_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    # PostgreSQL refuses NUL in text; SQLite stored it, so the two engines disagreed.
    body = {"title": "NUL \x00 inside", "data": prompt_data("Boats")}
    response = client.post("/api/prompts", headers=admin, json=body)
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["errors"][0]["message"]


def test_unstorable_text_deep_inside_the_prompt_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    data = prompt_data("Boats")
    data["subjects"] = [{"description": "a boat \x00 at sea"}]
    response = client.post("/api/prompts", headers=admin, json={"title": "T", "data": data})
    assert response.status_code == 422, response.text
    assert "NUL" in response.text


def test_method_not_allowed_lists_every_method_of_the_path(client: TestClient) -> None:
    for path, methods in [
        ("/api/bundles", {"GET", "POST"}),
        ("/api/prompts/1", {"GET", "PUT"}),
        ("/api/jobs/1", {"GET", "DELETE"}),
    ]:
        response = client.options(path)
        assert response.status_code == 405
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed - {"HEAD"} == methods, (path, allowed)
        assert response.json() == {"detail": "Method Not Allowed"}


def test_every_operation_declares_the_shared_error_model(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            invalid = operation["responses"].get("422")
            assert invalid, f"{method.upper()} {path} does not declare 422"
            ref = invalid["content"]["application/json"]["schema"]["$ref"]
            model = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
            # ErrorOut, or a model that extends it (a 409 with the server's latest version...).
            assert model["properties"]["detail"] == {
                "type": "string",
                "title": "Detail",
                "description": "What went wrong, in words safe to show to a person",
            }, (method, path)
            assert {"detail", "errors"} <= set(model["properties"]), (method, path)


def test_every_link_leads_to_an_operation(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operations = {op["operationId"]: op for item in spec["paths"].values() for op in item.values()}
    found = 0
    for item in spec["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    target = operations[link["operationId"]]
                    params = {p["name"] for p in target.get("parameters", [])}
                    assert set(link["parameters"]) <= params, link
                    found += 1
    assert found >= 8  # prompts, jobs, bundles and accounts link to what reads them
