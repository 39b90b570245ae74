"""The webhook event types, at the bottom of the webhooks package so every module can name them."""

from __future__ import annotations

EVENTS = (
    "upload.completed",
    "upload.rejected",
    "upload.infected",
    "upload.expired",
    "upload.deleted",
)
