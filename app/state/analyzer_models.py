"""The analyzer's model picker: a small page of matching models, the one chosen, style memory."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.services.analyzer.catalogue.offers import picker_page
from app.services.analyzer.providers.local import LOCAL_MODEL_ID
from app.services.core.db import session_scope
from app.settings import get_settings
from app.state.base import run_service
from app.state.session import SessionState


def _model_options(query: str = "", keep: str = "") -> dict[str, Any]:
    """One small page of the picker: the models matching `query` (server-side search, so
    hundreds of catalogue models never travel to the browser), plus the selected one."""
    with session_scope() as session:
        page = picker_page(session, settings=get_settings(), query=query, keep=keep)
    out = []
    for option in page.models:
        info, price = option.info, option.credits
        out.append(
            {
                "id": info.model_id,
                "name": info.display_name,
                "credits": price,
                "cost": "Free" if price == 0 else f"{price} credit{'s' if price != 1 else ''}",
                "note": info.price_note,
                "description": info.description,
                "available": not option.unavailable,
                "reason": option.unavailable,
                "vision": info.vision,
                "reasoning": info.reasoning,
                "caps": " · ".join(
                    c for c, on in (("vision", info.vision), ("reasoning", info.reasoning)) if on
                ),
            }
        )
    return {"models": out, "more": page.more}


class AnalyzerModelsState(SessionState):
    models: list[dict[str, Any]] = []
    model_id: str = LOCAL_MODEL_ID
    model_query: str = ""
    models_more: bool = False
    use_memory: bool = True

    @rx.var
    def selected_model(self) -> dict[str, Any]:
        return next((m for m in self.models if m["id"] == self.model_id), {})

    async def _load_models(self) -> None:
        """Called by the page load (AnalyzerState.load_analyzer): the chosen model falls back
        to the offline one when it is no longer offered."""
        await self._search()
        if not any(m["id"] == self.model_id for m in self.models):
            self.model_id = LOCAL_MODEL_ID

    async def _search(self) -> None:
        picker = await run_service(_model_options, self.model_query, self.model_id)
        self.models, self.models_more = picker["models"], picker["more"]

    @rx.event
    def set_model(self, model_id: str) -> None:
        if any(m["id"] == model_id for m in self.models):
            self.model_id = model_id

    @rx.event
    async def search_models(self, query: str) -> None:
        self.model_query = str(query)[:100]
        await self._search()

    @rx.event
    def set_use_memory(self, value: bool) -> None:
        self.use_memory = bool(value)
