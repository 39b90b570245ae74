"""The embeddable upload button on a customer's site: another origin than the app's.

The customer's site is a small HTTP server on loopback, on its own port (so its own origin). Its
page loads `<app>/embed/upload.js`; its `/token` route trades the project's secret key for a
client token through the real API, so the secret key stays on that server. Chromium uploads
through the element across origins (CORS), and any console error fails the test.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import ConsoleWatch, RunningApp, shot
from tests.browser.test_project_uploads import PDF, png
from tests.browser.test_shell import new_email
from tests.browser.test_studio import app_db  # noqa: F401 - a fixture
from tests.utils.job_helpers import make_user

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Acme: send us your photos</title>
<script src="{app}/embed/upload.js" defer></script></head>
<body style="font-family: sans-serif; max-width: 640px; margin: 40px auto">
<h1>Acme support</h1>
<p>Attach screenshots of the problem.</p>
<jsoncraft-upload api="{api}" token-url="{token_url}" accept="image/*" multiple
  label="Attach screenshots"></jsoncraft-upload>
<script>
  window.__done = null;
  document.querySelector("jsoncraft-upload")
    .addEventListener("complete", (e) => {{ window.__done = e.detail.uploads; }});
</script>
</body></html>"""


@dataclass
class CustomerSite:
    """What the customer's server knows (the secret key) and what it did with it."""

    url: str
    api_url: str
    secret_key: str
    expired_token: str  # minted properly for this project, two hours ago
    minted: list[str] = field(default_factory=list)


def _handler(site: CustomerSite, app: RunningApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet test output
            pass

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if self.path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
                return
            token_url = {"/forged": "/forged-token", "/expired": "/expired-token"}.get(
                self.path, "/token"
            )
            page = PAGE.format(app=app.url, api=site.api_url, token_url=token_url)
            self._send(200, page.encode(), "text/html; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            if self.path == "/forged-token":
                body = {"token": "jct_eyJhbGciOiJIUzI1NiJ9.e30.forged"}
            elif self.path == "/expired-token":
                body = {"token": site.expired_token}
            else:  # the customer's server side: its secret key, the real API
                answer = httpx.post(
                    f"{site.api_url}/api/uploads/client-tokens",
                    headers={"Authorization": f"Bearer {site.secret_key}"},
                    json={"expires_in": 120},
                    timeout=30,
                )
                if answer.status_code != 201:
                    self._send(answer.status_code, answer.content, "application/json")
                    return
                body = {"token": answer.json()["token"]}
                site.minted.append(body["token"])
            self._send(200, json.dumps(body).encode(), "application/json")

    return Handler


@pytest.fixture
def customer_site(
    app_server: RunningApp,
    app_db: None,  # noqa: F811 - the fixture imported above
) -> Iterator[CustomerSite]:
    from app.services.accounts.api_keys import KeyAuth, create_key
    from app.services.core.db import session_scope
    from app.services.core.models import utcnow
    from app.services.uploads.client_tokens import mint_client_token

    with session_scope() as session:
        owner = make_user(session, new_email())
        new = create_key(session, owner=owner, project_name="Acme site")
    expired = mint_client_token(
        KeyAuth(new.project_id, new.key_id, frozenset({"upload"})),
        expires_in=600,
        now=utcnow() - timedelta(hours=2),
    ).token
    # 127.0.0.1 and its own port: another origin than the app's http://localhost:<port>.
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    site = CustomerSite(
        f"http://127.0.0.1:{server.server_port}", app_server.api_url, new.key, expired
    )
    server.RequestHandlerClass = _handler(site, app_server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def _watch_requests(page: Page) -> list[Request]:
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request))
    return seen


def test_upload_from_another_origin(page: Page, customer_site: CustomerSite) -> None:
    requests = _watch_requests(page)
    page.goto(customer_site.url)
    assert not customer_site.url.startswith(customer_site.api_url)
    expect(page.get_by_role("heading", name="Acme support")).to_be_visible()
    element = page.locator("jsoncraft-upload")
    expect(element.get_by_role("button", name="Attach screenshots")).to_be_visible()

    element.locator("input[type=file]").set_input_files(
        files=[
            {"name": "screen.png", "mimeType": "image/png", "buffer": png()},
            {"name": "notes.png", "mimeType": "image/png", "buffer": PDF},
        ]
    )
    states = element.locator(".state")
    expect(states.nth(0)).to_have_text("Uploaded")
    expect(states.nth(1)).to_have_text(
        "Rejected: The file's bytes are application/pdf, not image/png as declared."
    )
    page.wait_for_function("window.__done !== null")
    done = page.evaluate("window.__done")
    assert [u["status"] for u in done] == ["ready", "rejected"], done
    shot(page, "embed-other-origin")

    # The upload is ready in the API, read with the secret key (on the server side).
    answer = httpx.get(
        f"{customer_site.api_url}/api/uploads/{done[0]['id']}",
        headers={"Authorization": f"Bearer {customer_site.secret_key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready" and answer.json()["name"] == "screen.png"
    assert answer.json()["size"] == len(png())

    # The browser only ever held the client token; the secret key never left the server.
    assert len(customer_site.minted) == 1
    api_calls = [r for r in requests if r.url.startswith(customer_site.api_url + "/api/")]
    assert {r.method for r in api_calls} >= {"POST", "PUT"}, [r.url for r in api_calls]
    for request in requests:
        headers = request.all_headers()  # `headers` leaves out the security-related ones
        sent = json.dumps(headers) + request.url + (request.post_data or "")
        assert customer_site.secret_key not in sent, request.url
        if request.url.startswith(customer_site.api_url + "/api/uploads"):
            assert headers.get("authorization") == f"Bearer {customer_site.minted[0]}", headers
            assert headers.get("origin") == customer_site.url, headers
    assert not page.evaluate("document.cookie")


@pytest.mark.parametrize("token", ["forged", "expired"])
def test_a_bad_token_shows_the_apis_message(
    page: Page, customer_site: CustomerSite, console: ConsoleWatch, token: str
) -> None:
    page.goto(f"{customer_site.url}/{token}")
    element = page.locator("jsoncraft-upload")
    expect(element.get_by_role("button", name="Attach screenshots")).to_be_visible()
    element.locator("input[type=file]").set_input_files(
        files=[{"name": "screen.png", "mimeType": "image/png", "buffer": png()}]
    )
    # The API's own words reach the element: its 401 carries CORS headers.
    message = "This client token is invalid or has expired. Ask your server for a new one."
    expect(element.get_by_role("alert").first).to_have_text(message)
    expect(element.locator(".state")).to_have_text("Not uploaded")
    shot(page, f"embed-{token}-token")
    # The browser logs the 401 itself; that one line is expected, nothing else is.
    expected = re.compile(r"status of 401 \(Unauthorized\).*/api/uploads'")
    unexpected = [e for e in console.errors if not expected.search(e)]
    console.errors[:] = unexpected
