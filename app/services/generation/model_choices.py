"""The image models a person can pick on /generate, the CLI or the API, with why one can't be.

The offline layout preview comes first and is always available; it is not a generative model,
and its label says so wherever it is listed. The registered image models follow in the order
their providers list them; a model without its provider's key stays listed, unavailable, with
the reason ("set TOGETHER_API_KEY ..."), so a person learns what to set instead of wondering
where it went.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.services.analyzer.providers.setup import ensure_models
from app.services.generation.providers.base import ImageModel
from app.services.generation.render import OFFLINE_MODEL_ID
from app.services.generation.run_worker import OFFLINE_PROVIDER

OFFLINE_LABEL = "Layout preview (not a generative model)"


@dataclass(frozen=True)
class ImageModelChoice:
    model_id: str
    label: str
    provider: str
    unavailable_reason: str | None  # None when it can be picked
    takes_steps: bool
    takes_guidance: bool
    takes_negative: bool
    price_note: str = ""

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    @property
    def offline(self) -> bool:
        return self.model_id == OFFLINE_MODEL_ID


OFFLINE_CHOICE = ImageModelChoice(
    model_id=OFFLINE_MODEL_ID,
    label=OFFLINE_LABEL,
    provider=OFFLINE_PROVIDER,
    unavailable_reason=None,
    takes_steps=False,
    takes_guidance=False,
    takes_negative=False,
    price_note="free, drawn here from the JSON: palette, placement, text and aspect ratio",
)


def image_model_choices() -> list[ImageModelChoice]:
    """Every image model, the offline layout preview first."""
    registered = ensure_models().models(ImageModel)  # type: ignore[type-abstract]
    return [
        OFFLINE_CHOICE,
        *(_choice(m) for m in registered if m.info.model_id != OFFLINE_MODEL_ID),
    ]


def _choice(model: ImageModel) -> ImageModelChoice:
    info = model.info
    return ImageModelChoice(
        model_id=info.model_id,
        label=info.display_name or info.model_id,
        provider=info.provider,
        unavailable_reason=model.unavailable_reason(),
        takes_steps=model.takes_steps,
        takes_guidance=model.takes_guidance,
        takes_negative=model.takes_negative,
        price_note=info.price_note,
    )
