"""A browser on another origin uploads through the API with a client token (CORS, for real).

The API runs under uvicorn on 127.0.0.1; a customer's page is served from `localhost` on another
port, a different origin. Chromium picks a file, presigns, PUTs the bytes to the local store's
signed URL (reading the exposed ETag), completes, and shows the status. The same page may not
read the upload log: that operation stays same-origin.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from app.services.accounts import api_keys
from app.services.accounts.api_keys import KeyAuth
from app.services.core import rate_limits
from app.services.uploads.client_tokens import mint_client_token
from app.settings import reset_settings
from tests.utils.job_helpers import make_user
from tests.utils.live_api import free_port, serving_api

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Customer site</title></head>
<body>
<label>Photo <input type="file" id="file"></label>
<button id="upload">Upload</button>
<button id="log">Show upload log</button>
<p role="status" id="status"></p>
<script>
const API = "__API__", TOKEN = "__TOKEN__";
const auth = {Authorization: "Bearer " + TOKEN};
const say = (text) => { document.getElementById("status").textContent = text; };
document.getElementById("upload").onclick = async () => {
  try {
    const f = document.getElementById("file").files[0];
    let r = await fetch(API + "/api/uploads", {method: "POST",
      headers: {...auth, "Content-Type": "application/json"},
      body: JSON.stringify({files: [{name: f.name, size: f.size, type: f.type}]})});
    const up = (await r.json()).uploads[0];
    r = await fetch(up.url, {method: "PUT", headers: up.headers, body: f});
    const etag = r.headers.get("ETag");
    r = await fetch(API + "/api/uploads/" + up.id + "/complete", {method: "POST", headers: auth});
    const done = await r.json();
    say(`${done.status} as ${done.type}, ETag ${etag ? "readable" : "hidden"}`);
  } catch (e) { say("failed: " + e.message); }
};
document.getElementById("log").onclick = async () => {
  try {
    await fetch(API + "/api/uploads", {headers: auth});
    say("log readable");
  } catch (e) { say("log blocked"); }
};
</script></body></html>"""


@pytest.fixture
def api(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    monkeypatch.setenv("API_URL", f"http://127.0.0.1:{port}")
    reset_settings()
    rate_limits.reset_counters()
    with serving_api(port) as url:
        yield url


def _serve(html: str) -> tuple[ThreadingHTTPServer, str]:
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_address[1]}/"


def test_a_page_on_another_origin_uploads_with_a_client_token(
    browser: Browser, api: str, session: Session, tmp_path: Path
) -> None:
    owner = make_user(session, "site@example.com")
    new = api_keys.create_key(session, owner=owner)
    session.commit()
    auth = KeyAuth(project_id=new.project_id, key_id=new.key_id, scopes=frozenset({"upload"}))
    token = mint_client_token(auth).token
    server, site = _serve(PAGE.replace("__API__", api).replace("__TOKEN__", token))
    photo = tmp_path / "photo.png"
    out = io.BytesIO()
    Image.new("RGB", (30, 20), "orange").save(out, "PNG")
    photo.write_bytes(out.getvalue())
    context = browser.new_context()
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(site)
        page.get_by_label("Photo").set_input_files(str(photo))
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("ready as image/png, ETag readable")
        assert errors == []

        page.get_by_role("button", name="Show upload log").click()
        expect(page.get_by_role("status")).to_have_text("log blocked")
        assert any("CORS" in e for e in errors), errors
    finally:
        context.close()
        server.shutdown()
