"""`/docs/uploads`: the upload platform for developers, every call in cURL, Python and JavaScript.

The examples are the files in docs/uploads/, shown exactly as the docs examples test runs them
against a live API (tests/integration/test_docs_examples.py): the page can't drift from the API.
"""

from __future__ import annotations

from pathlib import Path

import reflex as rx

from app import routes
from app.components.shell import page_shell
from app.state.landing import API_DOCS_URL

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "docs" / "uploads"
LANGUAGES = (
    ("cURL", "sh", "bash"),
    ("Python (httpx)", "py", "python"),
    ("JavaScript", "mjs", "javascript"),
)

# (anchor, title, what it does, example name)
STEPS = (
    (
        "client-token",
        "Mint a client token (server side)",
        "Browsers never hold your secret key. Your server trades it for a token that can only "
        "start and complete uploads of this project, for up to an hour.",
        "client_token",
    ),
    (
        "presign",
        "1. Ask for upload URLs: POST /api/uploads",
        "Send each file's name, size and type. The answer has one presigned URL per file (a PUT "
        "to storage), the headers to send with it, and when it expires. Files over 64 MiB get a "
        "multipart upload instead: `multipart.parts` lists a URL per part of `part_size` bytes.",
        "presign",
    ),
    (
        "put",
        "2. Send the bytes straight to storage",
        "PUT the file to the URL with the headers the answer gave. For a multipart upload, PUT "
        "each part to its URL and keep each answer's ETag header.",
        "put",
    ),
    (
        "complete",
        "3. Complete: POST /api/uploads/{id}/complete",
        "The server checks the stored object: its size, and its type from its first bytes (not "
        "its name). `status` is `ready`, or `rejected` with a reason (the object is then deleted). "
        'For a multipart upload, send `{"parts": [{"part_number", "etag"}]}`. The file is '
        "then scanned for viruses and, for images, given a thumbnail.",
        "complete",
    ),
    (
        "list",
        "List: GET /api/uploads",
        "Filters: status, type, name, created_after, created_before. Pages are keyset pages: pass "
        "`next_cursor` back as `cursor` until it is null.",
        "list",
    ),
    (
        "get",
        "Look one up: GET /api/uploads/{id}",
        "Its metadata, scan status, thumbhash, and a signed download URL.",
        "get",
    ),
    ("delete", "Delete: DELETE /api/uploads/{id}", "The object and its thumbnail go.", "delete"),
    (
        "configure",
        "Configure: PATCH /api/projects/{id}",
        "Allowed types (MIME types or wildcards like image/*), the largest file in bytes, files "
        "per request, and days until files expire (null keeps them). Your plan caps these.",
        "configure",
    ),
    (
        "webhooks",
        "Webhooks: POST /api/projects/{id}/webhooks",
        "Subscribe a URL to events. The answer's secret (whsec_...) is shown once: keep it to "
        "verify deliveries.",
        "webhook",
    ),
)

EVENTS = (
    ("upload.completed", "a file passed the checks at complete"),
    ("upload.rejected", "a file failed them (its size or real type); the object is deleted"),
    ("upload.infected", "the virus scan found something; the file is quarantined"),
    ("upload.expired", "the project's expiry removed the file"),
    ("upload.deleted", "someone deleted the file through the API or the dashboard"),
)

EVENT_BODY = """{
  "type": "upload.completed",
  "timestamp": "2026-12-07T18:00:00Z",
  "data": {"id": "up_...", "project_id": 1, "key": "p/1/up_.../photo.png", "name": "photo.png",
           "size": 48213, "type": "image/png", "status": "ready", "scan_status": "pending", ...}
}"""

EMBED = """<script src="{app}/embed/upload.js" defer></script>
<!-- token-url: your server's route that answers {{"token": "jct_..."}} (see above) -->
<jsoncraft-upload api="{api}" token-url="/jsoncraft-token" accept="image/*" multiple>
</jsoncraft-upload>
<script>
  document.querySelector("jsoncraft-upload")
    .addEventListener("complete", (e) => console.log(e.detail.uploads));
</script>"""


def _example(name: str, ext: str) -> str:
    return (EXAMPLES_DIR / f"{name}.{ext}").read_text(encoding="utf-8").rstrip()


def prose(*parts: str | rx.Component) -> rx.Component:
    """A paragraph whose `backticked` spans show as code (the texts above are written so)."""
    children: list[str | rx.Component] = []
    for part in parts:
        if isinstance(part, str):
            pieces = part.split("`")
            children += [rx.code(p) if i % 2 else p for i, p in enumerate(pieces) if p]
        else:
            children.append(part)
    return rx.text(*children, size="2")


def code(text: str, language: str, label: str) -> rx.Component:
    return rx.box(
        rx.icon_button(
            rx.icon("copy", size=14),
            on_click=[rx.set_clipboard(text), rx.toast.success("Copied")],
            size="1",
            variant="soft",
            position="absolute",
            top="8px",
            right="8px",
            aria_label=f"Copy the {label} example",
        ),
        rx.code_block(text, language=language, wrap_long_lines=True, width="100%"),
        position="relative",
        width="100%",
    )


def example_tabs(name: str) -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(*[rx.tabs.trigger(label, value=ext) for label, ext, _ in LANGUAGES]),
        *[
            rx.tabs.content(code(_example(name, ext), lang, label), value=ext, padding_top="8px")
            for label, ext, lang in LANGUAGES
        ],
        default_value="sh",
        width="100%",
    )


def step(anchor: str, title: str, text: str, name: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2", id=anchor),
            prose(text),
            example_tabs(name),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def setup() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Before you start", size="4", as_="h2"),
            prose(
                "Create a project and a secret key on ",
                rx.link("Projects", href=routes.PROJECTS),
                " (or `python -m app.cli create-project EMAIL NAME --json`), then set:",
            ),
            code(
                f"export JSONCRAFT_API={API_DOCS_URL.removesuffix(routes.API_DOCS)}\n"
                "export JSONCRAFT_KEY=jc_...   # the secret key, shown once\n"
                "export FILE_PATH=photo.png FILE_NAME=photo.png FILE_SIZE=$(stat -c%s photo.png) "
                "FILE_TYPE=image/png",
                "bash",
                "setup",
            ),
            prose(
                "Every request sends the key as `Authorization: Bearer $JSONCRAFT_KEY`. Keys have "
                "scopes: upload (presign, complete), read (list, look up), manage (delete, "
                'configure, webhooks). Errors are JSON `{"detail": "..."}` with a clear '
                "status: 401 wrong key, 403 missing scope or expired URL, 404 not this "
                "project's, 413 too large, 415 refused type, 429 rate or plan limit. The full "
                "schema is in ",
                rx.link("the API reference", href=API_DOCS_URL, is_external=True),
                ".",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def webhook_format() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Webhook deliveries", size="4", as_="h2", id="webhook-format"),
            prose(
                "Each delivery follows the Standard Webhooks specification: headers webhook-id "
                "(the same on every retry of one event: use it to ignore duplicates), "
                "webhook-timestamp and webhook-signature (`v1,` + base64 HMAC-SHA256 of "
                "`id.timestamp.body` with your secret). Answer 2xx within 15 s. Anything else is "
                "retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; 410 disables the "
                "endpoint, and so do 5 days of failures. Every attempt is in the dashboard's "
                "delivery log, where you can replay it.",
            ),
            rx.table.root(
                rx.table.body(
                    *[
                        rx.table.row(rx.table.cell(rx.code(name)), rx.table.cell(what))
                        for name, what in EVENTS
                    ]
                ),
                size="1",
                width="100%",
            ),
            code(EVENT_BODY, "json", "event body"),
            rx.heading("Verify a delivery", size="3", as_="h3"),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Python (standardwebhooks)", value="py"),
                    rx.tabs.trigger("Node (node:crypto)", value="mjs"),
                ),
                rx.tabs.content(
                    code(_example("verify", "py"), "python", "Python verification"),
                    value="py",
                    padding_top="8px",
                ),
                rx.tabs.content(
                    code(_example("verify", "mjs"), "javascript", "Node verification"),
                    value="mjs",
                    padding_top="8px",
                ),
                default_value="py",
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def embed() -> rx.Component:
    app_url = "https://YOUR-JSONCRAFT"
    api_url = API_DOCS_URL.removesuffix(routes.API_DOCS)
    return rx.card(
        rx.vstack(
            rx.heading("The upload button for your site", size="4", as_="h2", id="embed"),
            rx.text(
                "One script defines <jsoncraft-upload>: a button and drop zone with progress per "
                "file and clear errors. It fetches a client token from your server, then uploads "
                "straight to storage and completes each file. Your bucket's CORS rules must allow "
                "PUT from your site and expose the ETag header (the project's Storage tab has the "
                "exact rules).",
                size="2",
            ),
            code(EMBED.format(app=app_url, api=api_url), "markup", "embed"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def docs_uploads_page() -> rx.Component:
    return page_shell(
        setup(),
        step(*STEPS[1]),
        step(*STEPS[2]),
        step(*STEPS[3]),
        *[step(*s) for s in STEPS[4:]],
        webhook_format(),
        step(*STEPS[0]),
        embed(),
        title="Uploads for developers",
        subtitle="Presigned uploads to your storage, checked on arrival, with signed webhooks.",
    )
