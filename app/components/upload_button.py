"""`<jsoncraft-upload>` (assets/embed/upload.js) as a Reflex component, for our own pages.

The same element developers embed on their sites, so the dashboard's test uploader exercises
exactly what their users get. It needs a client token (minted by state with the project's key),
never a secret key.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.components.el.elements.base import BaseHTML
from reflex.constants import MemoizationDisposition, MemoizationMode

EMBED_SCRIPT = "/embed/upload.js"


class JsoncraftUpload(BaseHTML):
    """The custom element. React 19 sets these as the element's properties."""

    tag = "jsoncraft-upload"
    # Reflex names a memo wrapper after the tag, and "-" is not allowed in a JS name: the
    # build fails. Unmemoized, the element renders inside its parent's wrapper instead.
    _memoization_mode = MemoizationMode(disposition=MemoizationDisposition.NEVER)

    api: rx.Var[str]  # the API's base URL
    token: rx.Var[str]  # a client token ("jct_...")
    accept: rx.Var[str]
    multiple: rx.Var[bool]
    label: rx.Var[str]

    def get_event_triggers(self) -> dict[str, Any]:
        # React 19 listens for a custom element's events by the prop's name after "on", case
        # kept: "oncomplete" hears the element's "complete" event.
        return {
            **super().get_event_triggers(),
            "oncomplete": lambda e: [e.detail.uploads],
            "onerror": lambda e: [e.detail.message],
        }


def upload_button(**props: Any) -> rx.Component:
    """The element with the script that defines it (browsers load the script once)."""
    return rx.fragment(rx.script(src=EMBED_SCRIPT), JsoncraftUpload.create(**props))
