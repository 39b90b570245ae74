"""The studio's operations checklist: one row per operation, its options shown once ticked."""

from __future__ import annotations

import reflex as rx

from app.state.studio import StudioState as S
from app.state.studio_checklist import StudioChecklistState as C
from app.state.studio_form import ASPECT_PRESETS, FILTER_RANGES, FILTERS, THUMBNAIL_SIZES

BG_LIMITS = (
    "Runs offline (OpenCV GrabCut seeded by saliency). Works best on one clear subject against "
    "a plain background; weak on hair, fur, glass and busy scenes. Output keeps transparency, "
    "so pick PNG, WebP or AVIF."
)
FAL_MISSING = "Fal.ai needs FAL_KEY on the server; ask an admin to set it."
DESCRIBE_NOTE = (
    "The offline analyzer reads colours, light, composition and text itself; subject, style and "
    "mood come from rules. Vision models (OpenRouter, Fal.ai) appear here once their key is set."
)


def field_label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(rx.text(text, size="1", weight="medium"), html_for=html_for)


def number_field(
    label: str, key: str, *, min_: int, max_: int, width: str = "110px"
) -> rx.Component:
    field_id = f"studio-{key.replace('_', '-')}"
    return rx.vstack(
        field_label(label, field_id),
        rx.input(
            id=field_id,
            type="number",
            min=min_,
            max=max_,
            value=S.options[key],
            on_change=lambda v: C.set_option(key, v),
            width=width,
            size="2",
        ),
        spacing="1",
    )


def choice(label: str, key: str, items: list[tuple[str, str]]) -> rx.Component:
    """A segmented control: a few mutually exclusive choices, all visible."""
    return rx.vstack(
        rx.text(label, size="1", weight="medium"),
        rx.segmented_control.root(
            *[rx.segmented_control.item(text, value=value) for value, text in items],
            value=S.options[key],
            on_change=lambda v: C.set_option(key, v),
            size="1",
            aria_label=label,
        ),
        spacing="1",
    )


def slider(label: str, key: str, lo: float, hi: float, step: float) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(label, size="1", weight="medium"),
            rx.code(S.options[key], size="1", variant="ghost"),
            spacing="2",
            align="center",
        ),
        rx.slider(
            value=[S.options[key].to(float)],
            min=lo,
            max=hi,
            step=step,
            on_change=lambda v: C.set_amount(key, v),
            size="1",
            width="100%",
            max_width="240px",
            aria_label=label,
        ),
        spacing="1",
        width="100%",
    )


def hint(text: str | rx.Var[str]) -> rx.Component:
    return rx.text(text, size="1", color_scheme="gray")


def operation(
    name: str, title: str, blurb: str, *options: rx.Component, ai: bool = False
) -> rx.Component:
    on = S.enabled[name]
    return rx.box(
        rx.hstack(
            rx.checkbox(
                rx.text(title, weight="medium"),
                checked=on,
                on_change=lambda v: C.toggle_operation(name, v),
                size="2",
            ),
            rx.spacer(),
            rx.badge(
                rx.icon("sparkles" if ai else "zap", size=12),
                "AI · priced" if ai else "Fast · local",
                color_scheme="violet" if ai else "gray",
                variant="soft",
                size="1",
            ),
            align="center",
            width="100%",
        ),
        hint(blurb),
        rx.cond(
            on,
            rx.flex(
                *options,
                spacing="3",
                wrap="wrap",
                align="end",
                padding="0.6em 0 0.2em 1.6em",
                width="100%",
            )
            if options
            else rx.fragment(),
        ),
        padding="0.7em 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        class_name="studio-op",
        data_op=name,
    )


def resize_options() -> list[rx.Component]:
    long_edge = S.options["resize_mode"] == "long_edge"
    return [
        rx.vstack(
            rx.text("Mode", size="1", weight="medium"),
            rx.select.root(
                rx.select.trigger(aria_label="Resize mode", min_width="150px"),
                rx.select.content(
                    rx.select.item("Long edge", value="long_edge"),
                    rx.select.item("Exact size (stretch)", value="exact"),
                    rx.select.item("Fit inside", value="fit"),
                    rx.select.item("Fill and crop", value="fill"),
                ),
                value=S.options["resize_mode"],
                on_change=lambda v: C.set_option("resize_mode", v),
                size="2",
            ),
            spacing="1",
        ),
        rx.cond(
            long_edge,
            number_field("Long edge (px)", "long_edge", min_=1, max_=16384),
            rx.hstack(
                number_field("Width (px)", "width", min_=1, max_=16384),
                number_field("Height (px)", "height", min_=1, max_=16384),
                spacing="3",
            ),
        ),
    ]


def crop_options() -> list[rx.Component]:
    return [
        choice("Aspect ratio", "crop_aspect", [(a, a.capitalize()) for a in ASPECT_PRESETS]),
        rx.cond(
            S.options["crop_aspect"] == "custom",
            rx.vstack(
                field_label("Custom ratio", "studio-crop-custom"),
                rx.input(
                    id="studio-crop-custom",
                    placeholder="5:7",
                    value=S.options["crop_custom"],
                    on_change=lambda v: C.set_option("crop_custom", v),
                    width="110px",
                ),
                spacing="1",
            ),
        ),
    ]


def compress_options() -> list[rx.Component]:
    return [
        choice("Compress by", "compress_mode", [("quality", "Quality"), ("target", "Target size")]),
        rx.cond(
            S.options["compress_mode"] == "quality",
            rx.box(slider("Quality", "quality", 1, 100, 1), width="240px"),
            number_field("Target size (KB)", "target_kb", min_=1, max_=100000),
        ),
    ]


def filter_options() -> list[rx.Component]:
    rows = []
    for name in FILTERS:
        on = S.filters.contains(name)
        box = rx.checkbox(
            name.capitalize(),
            checked=on,
            on_change=lambda v, n=name: C.toggle_filter(n, v),
            size="1",
        )
        if name in FILTER_RANGES:
            lo, hi, step = FILTER_RANGES[name]
            label = "Radius (px)" if name == "blur" else "Amount"
            rows.append(
                rx.vstack(
                    box,
                    rx.cond(
                        on,
                        slider(
                            f"{name.capitalize()} {label.lower()}", f"amount_{name}", lo, hi, step
                        ),
                    ),
                    spacing="1",
                    min_width="200px",
                )
            )
        else:
            rows.append(rx.box(box, min_width="120px"))
    return [
        rx.flex(*rows, spacing="3", wrap="wrap", width="100%"),
        hint("Brightness, contrast and saturation: 1 leaves the image as it is."),
    ]


def watermark_options() -> list[rx.Component]:
    return [
        rx.vstack(
            field_label("Watermark text", "studio-watermark-text"),
            rx.input(
                id="studio-watermark-text",
                placeholder="© Your name",
                value=S.options["watermark_text"],
                on_change=lambda v: C.set_option("watermark_text", v),
                max_length=100,
                width="200px",
            ),
            spacing="1",
        ),
        rx.vstack(
            rx.text("Position", size="1", weight="medium"),
            rx.select.root(
                rx.select.trigger(aria_label="Watermark position", min_width="140px"),
                rx.select.content(
                    *[
                        rx.select.item(p.replace("-", " ").capitalize(), value=p)
                        for p in ("top-left", "top-right", "bottom-left", "bottom-right", "center")
                    ]
                ),
                value=S.options["watermark_position"],
                on_change=lambda v: C.set_option("watermark_position", v),
            ),
            spacing="1",
        ),
        rx.box(slider("Opacity", "watermark_opacity", 0.05, 1.0, 0.05), width="200px"),
    ]


def checklist() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Operations", size="4", as_="h2"),
            hint(
                "They run in a fixed order (orient, crop, resize, filters, background, "
                "watermark), whatever order you tick them in."
            ),
            operation("resize", "Resize", "Scale to a long edge or to a box.", *resize_options()),
            operation("crop", "Crop", "Centre crop to an aspect ratio.", *crop_options()),
            operation(
                "convert",
                "Convert",
                "Change the file format.",
                choice(
                    "Format",
                    "format",
                    [("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WebP"), ("avif", "AVIF")],
                ),
            ),
            operation("compress", "Compress", "Smaller files.", *compress_options()),
            operation(
                "metadata",
                "Metadata",
                "Processed images drop EXIF and GPS by default; tick to choose.",
                choice("Metadata", "metadata", [("strip", "Strip"), ("keep", "Keep")]),
            ),
            operation(
                "auto_orient",
                "Auto-orient",
                "Turns photos upright from their EXIF rotation. Always applied to processed "
                "images; tick it to do only this.",
            ),
            operation(
                "filters", "Filters", "Grayscale, sepia, sharpen, blur, tone.", *filter_options()
            ),
            operation("watermark", "Watermark", "Stamp text on every image.", *watermark_options()),
            operation(
                "remove_background",
                "Remove background",
                "Cut the subject out onto transparency.",
                *background_engine(),
                ai=True,
            ),
            operation(
                "ocr",
                "OCR (read text)",
                "The text in each image as .txt, plus .json with boxes and confidence.",
                ai=True,
            ),
            operation(
                "thumbnails",
                "Thumbnails",
                "Small JPEG previews (PNG/WebP when the image has transparency).",
                *[
                    rx.checkbox(
                        f"{size} px",
                        checked=S.thumbnails.contains(size),
                        on_change=lambda v, s=size: C.toggle_thumbnail(s, v),
                        size="1",
                    )
                    for size in THUMBNAIL_SIZES
                ],
            ),
            operation(
                "describe",
                "Describe as JSON prompts",
                "Runs the analyzer on each image (the processed one when the job makes one) and "
                "saves its JSON prompt to your gallery, tagged with the job.",
                *describe_options(),
                ai=True,
            ),
            rx.cond(
                S.spec_error != "",
                rx.callout(
                    S.spec_error,
                    icon="triangle-alert",
                    color_scheme="amber",
                    width="100%",
                    aria_label="Operation settings problem",
                ),
            ),
            spacing="1",
            width="100%",
        ),
        width="100%",
    )


def background_engine() -> list[rx.Component]:
    return [
        rx.radio_group.root(
            rx.vstack(
                rx.text("Engine", size="1", weight="medium"),
                rx.el.label(
                    rx.flex(
                        rx.radio_group.item(value="local"),
                        rx.text("Offline (GrabCut), included", size="2"),
                        spacing="2",
                        align="center",
                    ),
                ),
                rx.el.label(
                    rx.flex(
                        rx.radio_group.item(value="fal", disabled=~S.fal_ready),
                        rx.text("Fal.ai (remote, better on hair and busy scenes)", size="2"),
                        spacing="2",
                        align="center",
                    ),
                ),
                rx.cond(~S.fal_ready, hint(FAL_MISSING)),
                spacing="1",
            ),
            value=S.options["bg_provider"],
            on_change=lambda v: C.set_option("bg_provider", v),
            aria_label="Background removal engine",
        ),
        rx.callout(BG_LIMITS, icon="info", size="1", color_scheme="gray", width="100%"),
    ]


def describe_options() -> list[rx.Component]:
    return [
        rx.vstack(
            field_label("Analyzer model", "studio-describe-model"),
            rx.select.root(
                rx.select.trigger(id="studio-describe-model", aria_label="Analyzer model"),
                rx.select.content(
                    rx.foreach(
                        S.describe_models,
                        lambda m: rx.select.item(m["label"], value=m["id"]),
                    )
                ),
                value=S.options["describe_model"],
                on_change=lambda v: C.set_option("describe_model", v),
                size="2",
            ),
            spacing="1",
            max_width="100%",
        ),
        rx.callout(DESCRIBE_NOTE, icon="info", size="1", color_scheme="gray", width="100%"),
    ]
