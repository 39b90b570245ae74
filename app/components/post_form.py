"""A form the browser posts itself: a real HTTP POST, answered with a redirect and a page load.

Reflex's own form always calls preventDefault and hands the fields to a state event over the
websocket; the sign-in forms need the browser to post to the API instead, so that the response
can set an HttpOnly cookie.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_components_core.el.elements.forms import Form

from app.settings import get_settings


class PostForm(Form):
    @classmethod
    def create(cls, *children: Any, **props: Any) -> rx.Component:
        # Skip Form.create, which adds a preventDefault submit handler when none is given.
        props.setdefault("method", "post")
        return super(Form, cls).create(*children, **props)


def post_form(path: str, *children: rx.Component, **props: Any) -> rx.Component:
    """A form posting to the API route `path` (the backend's own URL: in dev mode the pages
    come from another port)."""
    return PostForm.create(*children, action=f"{get_settings().api_url}{path}", **props)


def query_field(name: str, value: Any) -> rx.Component:
    """A hidden field that posts the address's own `?name=` when the form is sent.

    `value` comes from the state, which arrives over the websocket after the page shows: a form
    filled and sent quickly (a password manager, a test) would post the default instead, and a
    sign-in would forget where it was going on to. QUERY_FIELDS_SCRIPT reads the address at the
    moment of sending, so what is posted never depends on that timing.
    """
    return rx.el.input(
        type="hidden", name=name, value=value, custom_attrs={"data-from-query": name}
    )


# Runs in the capture phase of every submit, before the browser collects the form's fields.
QUERY_FIELDS_SCRIPT = """
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const query = new URLSearchParams(window.location.search);
  for (const input of form.querySelectorAll("input[data-from-query]")) {
    const value = query.get(input.dataset.fromQuery);
    if (value !== null) input.value = value;
  }
}, true);
"""
