"""The round trip on the prompt page: for a generated entry, what made it and how faithful it
is; for a source prompt, the images made from each version with each version's average."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.accounts.auth import user_for_token
from app.services.core.db import session_scope
from app.services.core.storage import get_storage
from app.services.generation import round_trip
from app.services.generation.fidelity import FidelityScore
from app.services.library.access import load_prompt
from app.state.base import run_service, user_message
from app.state.editor import EditorState
from app.state.session import SessionState


def _parts(score: FidelityScore) -> list[dict[str, str]]:
    return [
        {
            "label": p.label,
            "score": str(p.score),
            "weight": f"{p.weight * 100:.0f}%",
            "explanation": p.explanation,
        }
        for p in score.parts
    ]


def _param_rows(made: round_trip.MadeFrom) -> list[dict[str, str]]:
    """Everything needed to reproduce the image, as label/value rows (empty ones left out)."""
    rows = [
        ("Provider", made.provider),
        ("Model", f"{made.model_label} ({made.model})"),
        ("Seed", "" if made.seed is None else str(made.seed)),
        ("Size", f"{made.width} × {made.height} ({made.aspect})"),
        ("Steps", "" if made.steps is None else str(made.steps)),
        ("Guidance", "" if made.guidance is None else f"{made.guidance:g}"),
        ("Style preset", made.preset or "none"),
        ("Cost", f"{made.cost_credits} credit{'s' if made.cost_credits != 1 else ''}"),
        ("Duration", "" if made.duration_ms is None else f"{made.duration_ms / 1000:.2f} s"),
        ("Request id", made.request_id or ""),
        ("Image", f"{made.position + 1} of {made.count} (run {made.generation_id})"),
    ]
    return [{"label": label, "value": value} for label, value in rows if value]


def _load(token: str, prompt_id: int) -> dict[str, Any]:
    with session_scope() as session:
        viewer = user_for_token(session, token)
        load_prompt(session, prompt_id=prompt_id, viewer=viewer)  # the same check as the page
        made = round_trip.made_from(session, prompt_id=prompt_id, viewer=viewer)
        versions = round_trip.fidelity_by_version(
            session, prompt_id=prompt_id, viewer=viewer, storage=get_storage()
        )
    out: dict[str, Any] = {"made": {}, "params": [], "score": -1, "parts": [], "versions": []}
    if made is not None:
        out["made"] = {
            "model_label": made.model_label,
            "source_title": made.source_title,
            "source_url": routes.prompt_url(made.source_prompt_id) if made.source_prompt_id else "",
            "source_version": str(made.source_version or ""),
            "prompt_format": "JSON" if made.prompt_format == "json" else "text",
            "prompt_sent": made.prompt_sent,
            "negative": made.negative or "",
        }
        out["params"] = _param_rows(made)
        if made.fidelity is not None and made.fidelity.score is not None:
            out["score"], out["parts"] = made.fidelity.score, _parts(made.fidelity)
    out["versions"] = [
        {
            "version": str(v.version),
            "average": "—" if v.average.score is None else f"{v.average.score:.1f}",
            "scored": v.average.images,
            "images": [
                {
                    "url": routes.prompt_url(i.prompt_id),
                    "title": i.title,
                    "thumbnail_url": i.thumbnail_url,
                    "label": i.model_label,
                    "score": "—" if i.fidelity_score is None else str(i.fidelity_score),
                }
                for i in v.images
            ],
        }
        for v in versions
    ]
    return out


class PromptRoundTripState(SessionState):
    made: dict[str, str] = {}
    params: list[dict[str, str]] = []
    fidelity_score: int = -1  # -1: not scored (or not a generated image)
    fidelity_parts: list[dict[str, str]] = []
    versions: list[dict[str, Any]] = []
    round_trip_error: str = ""
    fidelity_help: str = round_trip.FIDELITY_SUMMARY

    @rx.var
    def is_generated(self) -> bool:
        return bool(self.made)

    @rx.event
    async def load_round_trip(self) -> None:
        """Runs after EditorState.load_prompt; a prompt that failed to load shows nothing."""
        self.made, self.params, self.fidelity_score, self.fidelity_parts = {}, [], -1, []
        self.versions, self.round_trip_error = [], ""
        doc = await self.get_state(EditorState)
        if not doc._showing_route():
            return
        try:
            loaded = await run_service(_load, self.token, doc.pid)
        except Exception as e:  # the rest of the page stays usable
            self.round_trip_error = user_message(e)
            return
        self.made, self.params = loaded["made"], loaded["params"]
        self.fidelity_score, self.fidelity_parts = loaded["score"], loaded["parts"]
        self.versions = loaded["versions"]
