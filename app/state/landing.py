"""The signed-out `/`: the live demo (offline analyzer, nothing kept) and the demo gallery."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.core import rate_limits
from app.services.core.db import session_scope
from app.services.core.storage import get_storage
from app.services.demo import analysis as demo_analysis
from app.services.library import gallery
from app.settings import get_settings
from app.state.base import run_service, user_message
from app.state.pricing import PricingState
from app.state.prompt_view import cards, pretty

DEMO_UPLOAD_ID = "landing-demo-upload"
FEATURED = 6
DEMO_LIMIT_MB = demo_analysis.demo_limit() // (1024 * 1024)
# The API is served beside the app (settings.api_url), not by the client router.
API_DOCS_URL = f"{get_settings().api_url}{routes.API_DOCS}"
OPENAPI_URL = f"{get_settings().api_url}{routes.OPENAPI}"


def _featured() -> list[dict[str, Any]]:
    """The newest public prompts (the seeded demo gallery on a fresh install)."""
    with session_scope() as session:
        page = gallery.list_prompts(
            session,
            storage=get_storage(),
            viewer=None,
            query=gallery.GalleryQuery(owner="public"),
            limit=FEATURED,
        )
    return [
        {"id": c.id, "title": c.title, "image": c.thumbnail_url, "tags": c.tags[:3]}
        for c in page.items
    ]


class LandingState(rx.State):
    # False until the page knows nobody is signed in: a signed-in person never sees it flash.
    visitor: bool = False
    featured: list[dict[str, Any]] = []
    demo_name: str = ""
    demo_cards: list[dict[str, Any]] = []
    demo_json: str = ""
    demo_error: str = ""
    demo_running: bool = False

    @rx.event
    async def load_landing(self):  # type: ignore[no-untyped-def]
        self.visitor = True
        self.featured = await run_service(_featured)
        return PricingState.load_prices

    @rx.event
    async def handle_demo_upload(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        if self.demo_running:
            return
        if len(files) != 1:
            self.demo_error = "Drop one image at a time."
            return
        file = files[0]
        name = (file.filename or "image")[:120]
        self.demo_name, self.demo_error, self.demo_running = name, "", True
        self.demo_cards, self.demo_json = [], ""
        yield
        try:
            await rate_limits.acheck("demo", ip=self.router.session.client_ip)
            data = await run_service(demo_analysis.describe_upload, file.file, filename=name)
        except Exception as e:  # bad files and the rate limit get their own clear message
            self.demo_error = f"{name}: {user_message(e)}"
        else:
            self.demo_cards, self.demo_json = cards(data), pretty(data)
        finally:
            self.demo_running = False

    @rx.event
    def clear_demo(self) -> None:
        self.demo_name, self.demo_cards, self.demo_json, self.demo_error = "", [], "", ""
