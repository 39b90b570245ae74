"""The API docs pages load nothing from the internet (the browser test checks them offline too)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.api import create_api


@pytest.fixture
def client(db_url: str) -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_docs_pages_load_their_assets_from_the_app(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200
    assert "/api/openapi.json" in html.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert assets, html.text
    for url in assets:
        assert url.startswith("/api/"), f"{page} loads {url}"
        assert client.get(url).status_code == 200, url


def test_redoc_bundle_names_no_remote_image(client: TestClient) -> None:
    html = client.get("/api/redoc").text
    (script,) = re.findall(r'<script src="([^"]+redoc[^"]*)"', html)
    bundle = client.get(script)
    assert bundle.headers["content-type"].startswith("application/javascript")
    assert "cdn.redoc.ly" not in bundle.text
