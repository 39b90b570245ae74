"""`/generate`: where the prompt comes from, the choices, and what a run will send and cost.

The prompt comes from a saved prompt (`?prompt=ID&version=N`), an analyzer answer
(`?answer=TURN_ID`, the analyzer's "Generate" button) or the picker of the person's own
prompts; the address always names it, so a reload shows the same thing. Every change of a
choice recomputes the preview ("What the model receives", the pixel size) and the price,
with each service message kept beside the control it is about. The choices' handlers are in
generate_choices.py, the runs in generate_runs.py.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app import routes
from app.services.billing import credits
from app.services.core.errors import UserFacingError
from app.services.core.storage import get_storage
from app.services.generation import lora_training, runs
from app.services.generation.model_choices import image_model_choices
from app.services.generation.presets import STYLE_PRESETS, slug
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.sources import answer_prompt, latest_answer_id
from app.services.library.access import load_prompt
from app.services.library.gallery import GalleryQuery, list_prompts
from app.services.library.prompt_ops import get_version, list_versions
from app.state.base import as_signed_in, run_service, user_message
from app.state.generate_inputs import Choices, lora_request, missing_triggers, plan
from app.state.session import SessionState

MY_PROMPTS = 50  # the picker's newest prompts; the gallery has the rest
PRESETS = [{"id": slug(p), "label": f"{p.category}: {p.name}"} for p in STYLE_PRESETS]


def _models() -> list[dict[str, Any]]:
    return [
        {
            "id": c.model_id,
            "label": c.label,
            "display": c.label if c.available else f"{c.label} (unavailable)",
            "provider": c.provider,
            "available": c.available,
            "reason": c.unavailable_reason or "",
            "steps": c.takes_steps,
            "guidance": c.takes_guidance,
            "note": c.price_note,
        }
        for c in image_model_choices()
    ]


def _saved(token: str, prompt_id: int, version: int | None) -> dict[str, Any]:
    def load(session: Any, user: Any) -> dict[str, Any]:
        versions = list_versions(session, prompt_id=prompt_id, viewer=user)
        current = next((v.number for v in versions if v.is_current), versions[0].number)
        chosen = get_version(session, prompt_id=prompt_id, viewer=user, number=version or current)
        title = load_prompt(session, prompt_id=prompt_id, viewer=user).title
        return {
            "title": title,
            "data": chosen.data,
            "version": chosen.number,
            "versions": [
                {
                    "number": str(v.number),
                    "label": f"v{v.number}" + (" (current)" if v.is_current else ""),
                }
                for v in versions
            ],
        }

    return as_signed_in(token, load)


def _answer(token: str, turn_id: int) -> tuple[dict[str, Any], str]:
    return as_signed_in(token, lambda s, u: answer_prompt(s, user_id=int(u.id), turn_id=turn_id))


def _my_prompts(token: str) -> list[dict[str, str]]:
    def load(session: Any, user: Any) -> list[dict[str, str]]:
        page = list_prompts(session, storage=get_storage(), viewer=user,
                            query=GalleryQuery(owner="me"), limit=MY_PROMPTS)  # fmt: skip
        return [{"id": str(c.id), "title": f"{c.title} (#{c.id})"} for c in page.items]

    return as_signed_in(token, load)


def _price(
    token: str, model_id: str, n: int, loras: list[dict[str, Any]]
) -> tuple[int, int, int, str]:
    """(total, per image, balance, why the model or the LoRAs can't be used or "")."""

    def price(session: Any, user: Any) -> tuple[int, int, int, str]:
        balance = credits.balance(session, user_id=user.id)
        try:  # deleted or not theirs since the page loaded: said beside the picker
            if loras:
                lora_training.lora_weights(session, user=user, loras=loras)
        except UserFacingError as e:
            return 0, 0, balance, e.message
        try:
            quote = runs.quote(session, model=model_id, n=n)
        except UserFacingError as e:  # a missing key, an unknown model
            return 0, 0, balance, e.message
        return quote.total, quote.credits_per_image, balance, ""

    return as_signed_in(token, price)


def _lora_row(view: Any) -> dict[str, str]:
    return {"id": str(view.id), "name": view.name, "trigger_word": view.trigger_word,
            "label": f"{view.name} ({view.trigger_word})", "scale": "1"}  # fmt: skip


def _my_loras(token: str) -> list[dict[str, str]]:
    return as_signed_in(
        token,
        lambda s, u: [_lora_row(v) for v in lora_training.list_loras(s, user=u, done_only=True)],
    )


def _lora_for(token: str, lora_id: int) -> dict[str, str]:
    """One of the person's LoRAs (`?lora=ID`), if it is trained; else the service's message."""

    def find(session: Any, user: Any) -> dict[str, str]:
        view = lora_training.get_lora(session, user=user, lora_id=lora_id)
        lora_training.lora_weights(session, user=user, loras=[{"id": view.id}])  # trained?
        return _lora_row(view)

    return as_signed_in(token, find)


def _answer_for(token: str, conversation_id: int) -> int:
    return as_signed_in(
        token,
        lambda s, u: latest_answer_id(s, user_id=int(u.id), conversation_id=conversation_id),
    )


class GenerateState(SessionState):
    source_title: str = ""
    prompt_id: int = 0
    version: str = ""
    versions: list[dict[str, str]] = []
    answer_id: int = 0
    my_prompts: list[dict[str, str]] = []
    loaded: bool = False
    models: list[dict[str, Any]] = []
    model_id: str = OFFLINE_MODEL_ID
    aspect: str = "1:1"
    custom_aspect: str = ""
    preset: str = ""
    n: str = "1"
    seed_mode: str = "random"
    seed: str = ""
    steps: str = ""
    guidance: str = ""
    errors: dict[str, str] = {}
    size_label: str = ""
    sent: str = ""
    sent_format: str = ""
    negative: str = ""
    cost: int = 0
    per_image: int = 0
    my_loras: list[dict[str, str]] = []  # their trained LoRAs: id, name, trigger_word, label
    picked_loras: list[dict[str, str]] = []  # the same, with the scale as typed
    _data: dict[str, Any] | None = None

    @rx.var
    def run_model_id(self) -> str:
        """LoRAs run on the one model that applies them, whatever model is picked."""
        return runs.LORA_MODEL if self.picked_loras else self.model_id

    @rx.var
    def model(self) -> dict[str, Any]:
        return next((m for m in self.models if m["id"] == self.run_model_id), {})

    @rx.var
    def lora_choices(self) -> list[dict[str, str]]:
        picked = {p["id"] for p in self.picked_loras}
        return [lora for lora in self.my_loras if lora["id"] not in picked]

    @rx.var
    def missing_triggers(self) -> list[str]:
        """Picked LoRAs' trigger words the prompt sent lacks (the LoRA barely shows without)."""
        if not self.sent:
            return []
        return missing_triggers(self.sent, [p["trigger_word"] for p in self.picked_loras])

    @rx.var
    def unavailable(self) -> list[str]:
        """One line per reason a model can't be picked ("Set FAL_KEY ..."), each said once."""
        return list(dict.fromkeys(m["reason"] for m in self.models if m["reason"]))

    @rx.var
    def picked_prompt(self) -> str:
        return str(self.prompt_id) if self.prompt_id else ""

    @rx.var
    def has_source(self) -> bool:
        return bool(self.prompt_id or self.answer_id)

    def _choices(self) -> Choices:
        return Choices(
            model_id=self.run_model_id,
            aspect=self.aspect,
            custom_aspect=self.custom_aspect,
            preset=self.preset,
            n=self.n,
            seed_mode=self.seed_mode,
            seed=self.seed,
            steps=self.steps,
            guidance=self.guidance,
            takes_steps=bool(self.model.get("steps")),
            takes_guidance=bool(self.model.get("guidance")),
        )

    async def _update_preview(self) -> None:
        """Recompute what is sent and what it costs; each problem stays beside its control."""
        # Schema checks and rendering are quick but CPU work: off the event loop too.
        planned = await run_service(plan, self._data if self.has_source else None, self._choices())
        errors = dict(planned.errors)
        try:
            loras = lora_request(self.picked_loras)
        except ValueError as e:
            loras, errors["loras"] = [], str(e)
        total, per_image, balance, reason = await run_service(
            _price, self.token, self.run_model_id, planned.n, loras
        )
        if reason:
            errors["loras" if self.picked_loras else "model"] = reason
        if not self.has_source:
            errors.pop("source", None)  # nothing picked yet is not a mistake: the picker says it
        self.errors, self.credits = errors, balance
        self.cost, self.per_image = total, per_image
        self.size_label = f"{planned.width} × {planned.height} px" if planned.width else ""
        self.sent, self.sent_format, self.negative = (
            planned.sent,
            planned.prompt_format,
            planned.negative,
        )

    @rx.event
    async def load_generate(self):  # type: ignore[no-untyped-def]
        await self._refresh()
        if not self.user_id:
            return rx.redirect(routes.login_url(self.router.url.path or routes.GENERATE))
        query = self.router.url.query_parameters
        self.models = await run_service(_models)
        self.prompt_id, self.answer_id, self.versions, self._data = 0, 0, [], None
        self.source_title, self.version = "", ""
        self.my_loras, self.picked_loras = await run_service(_my_loras, self.token), []
        lora, lora_error = str(query.get("lora", "")), {}
        if lora.isdigit():  # "Generate with this LoRA" on /loras
            try:
                self.picked_loras = [await run_service(_lora_for, self.token, int(lora))]
            except Exception as e:  # not theirs, deleted, not trained: said by the picker
                lora_error = {"loras": user_message(e)}
        try:
            self.my_prompts = await run_service(_my_prompts, self.token)
            if str(query.get("prompt", "")).isdigit():
                version = str(query.get("version", ""))
                await self._open_saved(
                    int(query["prompt"]), int(version) if version.isdigit() else None
                )
            elif str(query.get("answer", "")).isdigit():
                data, title = await run_service(_answer, self.token, int(query["answer"]))
                self.answer_id, self._data, self.source_title = int(query["answer"]), data, title
        except Exception as e:  # not found, not shared, in the trash: said by the picker
            await self._update_preview()
            self.errors = {**self.errors, **lora_error, "source": user_message(e)}
            self.loaded = True
            return None
        await self._update_preview()
        self.errors = {**self.errors, **lora_error}
        self.loaded = True
        return None

    async def _open_saved(self, prompt_id: int, version: int | None) -> None:
        loaded = await run_service(_saved, self.token, prompt_id, version)
        self.prompt_id, self.answer_id = prompt_id, 0
        self.source_title, self._data = loaded["title"], loaded["data"]
        self.version, self.versions = str(loaded["version"]), loaded["versions"]

    async def _open_and_show(self, prompt_id: int, version: int | None):  # type: ignore[no-untyped-def]
        try:
            await self._open_saved(prompt_id, version)
        except Exception as e:  # deleted meanwhile, or no longer shared: say so by the picker
            self.errors = {**self.errors, "source": user_message(e)}
            return None
        await self._update_preview()
        url = routes.generate_url(self.prompt_id, int(self.version))
        # The address names the prompt and version, so a reload shows them again.
        return rx.call_script(f"window.history.replaceState(window.history.state, '', '{url}')")

    @rx.event
    async def choose_prompt(self, prompt_id: str):  # type: ignore[no-untyped-def]
        if not prompt_id.isdigit():
            return None
        return await self._open_and_show(int(prompt_id), None)

    @rx.event
    async def choose_version(self, number: str):  # type: ignore[no-untyped-def]
        if not number.isdigit() or not self.prompt_id:
            return None
        return await self._open_and_show(self.prompt_id, int(number))

    @rx.event
    async def open_from_conversation(self, conversation_id: int):  # type: ignore[no-untyped-def]
        """The analyzer's "Generate": /generate on that conversation's newest answer."""
        try:
            turn_id = await run_service(_answer_for, self.token, int(conversation_id))
        except Exception as e:  # nothing analyzed yet, or not theirs
            return rx.toast.error(user_message(e))
        return rx.redirect(routes.generate_answer_url(turn_id))
