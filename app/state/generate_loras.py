"""`/generate` LoRAs: add one of the person's trained LoRAs, set its scale, remove it.

Picking any LoRA moves the run to FLUX.1 [dev] with LoRAs (runs.LORA_MODEL); what was typed
stays as typed, and a wrong scale is said beside the picker (GenerateState.errors["loras"]).
"""

from __future__ import annotations

import reflex as rx

from app.services.generation.lora_training import MAX_LORAS
from app.state.generate import GenerateState
from app.state.generate_inputs import MAX_FIELD


class GenerateLorasState(GenerateState):
    @rx.event
    async def add_lora(self, lora_id: str) -> None:
        chosen = next((lora for lora in self.lora_choices if lora["id"] == lora_id), None)
        if chosen is None:
            return  # picked already, or not one of theirs: a forged event changes nothing
        if len(self.picked_loras) >= MAX_LORAS:
            self.errors = {**self.errors, "loras": f"Use at most {MAX_LORAS} LoRAs at a time."}
            return
        self.picked_loras = [*self.picked_loras, {**chosen, "scale": "1"}]
        await self._update_preview()

    @rx.event
    async def set_lora_scale(self, lora_id: str, text: str) -> None:
        self.picked_loras = [
            {**p, "scale": str(text)[:MAX_FIELD]} if p["id"] == lora_id else p
            for p in self.picked_loras
        ]
        await self._update_preview()

    @rx.event
    async def remove_lora(self, lora_id: str) -> None:
        self.picked_loras = [p for p in self.picked_loras if p["id"] != lora_id]
        await self._update_preview()
