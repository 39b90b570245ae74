"""Small owner decisions about a prompt: favourite, rating, visibility, title."""

from __future__ import annotations

from sqlmodel import Session

from app.services.core.errors import InvalidInputError
from app.services.core.models import (
    Prompt,
    User,
)
from app.services.library import search
from app.services.library.access import (
    VISIBILITIES,
    load_prompt,
)
from app.services.library.prompt_ops.common import touch


def set_favorite(session: Session, *, prompt_id: int, viewer: User, favorite: bool) -> Prompt:
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    prompt.is_favorite = favorite
    return touch(session, prompt)


def set_rating(session: Session, *, prompt_id: int, viewer: User, rating: int | None) -> Prompt:
    """1 to 5 stars, or None to clear."""
    if rating is not None and (isinstance(rating, bool) or rating not in range(1, 6)):
        raise InvalidInputError("A rating is a whole number of stars from 1 to 5.")
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    prompt.rating = rating
    return touch(session, prompt)


def set_visibility(session: Session, *, prompt_id: int, viewer: User, visibility: str) -> Prompt:
    if visibility not in VISIBILITIES:
        raise InvalidInputError('Visibility is "private" or "public".')
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="manage")
    prompt.visibility = visibility
    return touch(session, prompt)


def rename(session: Session, *, prompt_id: int, viewer: User, title: str) -> Prompt:
    title = " ".join(title.split())[:200]
    if not title:
        raise InvalidInputError("A prompt needs a title.")
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer, need="edit")
    prompt.title = title
    touch(session, prompt)
    search.index_for_search(session, prompt_id=prompt_id)
    return prompt
