"""`/studio`'s operations checklist: what is ticked, each operation's settings, now or batch."""

from __future__ import annotations

import reflex as rx

from app.state.studio import StudioState
from app.state.studio_form import DEFAULT_OPTIONS, FILTERS, OPERATIONS, THUMBNAIL_SIZES


class StudioChecklistState(StudioState):
    @rx.event
    async def toggle_operation(self, name: str, on: bool) -> None:
        if name in OPERATIONS:
            self.enabled = {**self.enabled, name: bool(on)}
            await self._reprice()

    @rx.event
    async def set_option(self, key: str, value: str) -> None:
        if key in DEFAULT_OPTIONS:
            self.options = {**self.options, key: str(value)[:100]}
            await self._reprice()

    @rx.event
    async def set_amount(self, key: str, value: list[float]) -> None:
        if key in DEFAULT_OPTIONS and value:
            self.options = {**self.options, key: f"{float(value[0]):g}"}
            await self._reprice()

    @rx.event
    async def toggle_filter(self, name: str, on: bool) -> None:
        if name in FILTERS:
            rest = [f for f in self.filters if f != name]
            self.filters = [*rest, name] if on else rest
            await self._reprice()

    @rx.event
    async def toggle_thumbnail(self, size: int, on: bool) -> None:
        if size in THUMBNAIL_SIZES:
            rest = [s for s in self.thumbnails if s != size]
            self.thumbnails = sorted([*rest, size]) if on else rest
            await self._reprice()

    @rx.event
    def set_mode(self, value: str | list[str]) -> None:
        value = value[0] if isinstance(value, list) and value else value
        if value in ("now", "batch"):
            self.mode = str(value)
