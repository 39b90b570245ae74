"""What a studio job costs, from the admin-editable prices ("op:studio_*", see pricing.py).

Every input image costs the same: the local operations' price (free by default) plus the price
of each AI operation in the spec. "Batch" mode costs half of "now", rounded up, because it waits
behind every "now" job in the queue.

"Describe as JSON prompts" is priced apart: one analyzer call per image at the model's own price
(the analyzer's quote, 0 for the offline model), the same in both modes, and reserved image by
image by the worker (describe_step.py) instead of up front with the job.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.services.analyzer.providers import Model, get_registry
from app.services.billing import pricing
from app.services.core.errors import InternalError, InvalidInputError
from app.services.studio.imageops.spec import OpsSpec

MAX_COUNT = 100_000  # far above any plan's batch size; only catches nonsense
LOCAL_OPERATION = "studio_local"
LABELS: dict[str, str] = {
    LOCAL_OPERATION: "Local operations (resize, convert, compress, filters, thumbnails)",
    "studio_remove_background_local": "Background removal (offline, GrabCut)",
    "studio_remove_background_fal": "Background removal (Fal.ai)",
    "studio_ocr": "Text recognition (OCR)",
}


@dataclass(frozen=True)
class CostPreview:
    per_image: int  # credits per image in "now" mode, reserved with the job (describe apart)
    now_total: int  # everything, describe included
    batch_total: int
    lines: list[tuple[str, int]]  # (label, credits per image)
    free: bool  # nothing to pay in either mode
    describe_per_image: int = 0  # the analyzer's price per image, reserved image by image


def job_cost(*, per_image: int, count: int, mode: str) -> int:
    """Credits for `count` images at `per_image` each; batch mode pays half, rounded up."""
    total = per_image * count
    return total if mode == "now" else (total + 1) // 2


def estimate_cost(session: Session, *, spec: OpsSpec, count: int) -> CostPreview:
    """The price of running `spec` on `count` images, per operation, in both modes."""
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
        raise InvalidInputError(f"The image count must be a whole number from 0 to {MAX_COUNT}.")
    lines = [
        (LABELS[op], pricing.price_for_operation(session, operation=op)) for op in _operations(spec)
    ]
    per_image = sum(credits for _label, credits in lines)
    describe = 0
    if spec.describe is not None:
        model = describe_model(spec.describe.model)
        describe = describe_price(session, model)
        lines.append((f"Describe as JSON prompts ({model.info.display_name})", describe))
    return CostPreview(
        per_image=per_image,
        now_total=job_cost(per_image=per_image, count=count, mode="now") + describe * count,
        batch_total=job_cost(per_image=per_image, count=count, mode="batch") + describe * count,
        lines=lines,
        free=per_image == 0 and describe == 0,
        describe_per_image=describe,
    )


def describe_model(model_id: str) -> Model:
    """The analyzer model a describe step names, if it can run now: UnknownModelError (a
    UserFacingError) for a name nobody offers, InvalidInputError when it needs a key or can't
    see images."""
    model = get_registry().get_model(model_id)
    if not model.info.vision:
        raise InvalidInputError(
            f"{model.info.display_name} cannot see images. Pick a model with vision."
        )
    reason = model.unavailable_reason()
    if reason:
        raise InvalidInputError(reason)
    return model


def describe_price(session: Session, model: Model) -> int:
    """Credits for one description with `model`: the price the analyzer itself would reserve."""
    return pricing.quote_model(
        session,
        model_id=model.info.model_id,
        default=model.info.credits_per_call,
        usd_per_call=model.info.usd_per_call,
    ).credits


def _operations(spec: OpsSpec) -> list[str]:
    ops = [LOCAL_OPERATION] if spec.image_ops or spec.thumbnails else []
    ops.extend(f"studio_{name}" for name in spec.ai_operations)
    unknown = [op for op in ops if op not in LABELS]
    if unknown:  # an AI operation added to the spec without a price here: never give it away
        raise InternalError(f"No studio price for {', '.join(unknown)}")
    return ops
