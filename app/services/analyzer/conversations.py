"""Analyzer conversations: the image, each request and each resulting prompt, kept for replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.services.analyzer.style_memory import index_prompt
from app.services.core.errors import NotFoundError
from app.services.core.models import Analysis, Asset, Conversation, ConversationTurn, utcnow
from app.services.library.writes import add_version, create_prompt


@dataclass(frozen=True)
class TurnView:
    role: str
    text: str
    data: dict[str, Any] | None
    reasoning: str
    model: str
    status: str
    examples: list[int]


def start(session: Session, *, user_id: int, asset_id: int, model: str, title: str) -> Conversation:
    conversation = Conversation(user_id=user_id, asset_id=asset_id, model=model, title=title[:200])
    session.add(conversation)
    session.flush()
    return conversation


def owned(session: Session, *, user_id: int, conversation_id: int) -> Conversation:
    """Private data only for its owner: someone else's id is simply not found."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.user_id != user_id:
        raise NotFoundError("That conversation doesn't exist.")
    return conversation


def add_turn(
    session: Session,
    *,
    conversation: Conversation,
    role: str,
    text: str = "",
    analysis_id: int | None = None,
    data: dict[str, Any] | None = None,
    examples: list[int] | None = None,
) -> ConversationTurn:
    assert conversation.id is not None
    turn = ConversationTurn(
        conversation_id=conversation.id,
        role=role,
        text=text[:5000],
        analysis_id=analysis_id,
        data=data,
        examples=examples or [],
    )
    conversation.updated_at = utcnow()
    session.add(turn)
    session.add(conversation)
    session.flush()
    return turn


def recent(session: Session, *, user_id: int, limit: int = 30) -> list[Conversation]:
    return list(
        session.exec(
            select(Conversation)
            .where(Conversation.user_id == user_id)
            .order_by(col(Conversation.updated_at).desc(), col(Conversation.id).desc())
            .limit(limit)
        ).all()
    )


def turns(session: Session, *, conversation: Conversation) -> list[TurnView]:
    rows = session.exec(
        select(ConversationTurn, Analysis)
        .join(Analysis, col(Analysis.id) == col(ConversationTurn.analysis_id), isouter=True)
        .where(ConversationTurn.conversation_id == conversation.id)
        .order_by(col(ConversationTurn.id))
    ).all()
    return [
        TurnView(
            role=t.role,
            text=t.text,
            data=t.data,
            reasoning=a.reasoning if a else "",
            model=a.model if a else "",
            status=a.status if a else "",
            examples=list(t.examples or []),
        )
        for t, a in rows
    ]


def latest_prompt(session: Session, *, conversation: Conversation) -> dict[str, Any] | None:
    turn = session.exec(
        select(ConversationTurn)
        .where(
            ConversationTurn.conversation_id == conversation.id,
            col(ConversationTurn.data).is_not(None),
        )
        .order_by(col(ConversationTurn.id).desc())
    ).first()
    return dict(turn.data) if turn and turn.data else None


def save_to_gallery(
    session: Session, *, user_id: int, conversation_id: int, title: str = ""
) -> tuple[int, int]:
    """Save the latest prompt: a new gallery prompt the first time, a new version after."""
    conversation = owned(session, user_id=user_id, conversation_id=conversation_id)
    data = latest_prompt(session, conversation=conversation)
    if data is None:
        raise NotFoundError("There is no valid prompt to save yet.")
    if conversation.prompt_id is None:
        asset = session.get(Asset, conversation.asset_id) if conversation.asset_id else None
        prompt = create_prompt(
            session,
            owner_id=user_id,
            title=title or conversation.title or (asset.original_filename if asset else "Untitled"),
            data=data,
            asset_id=conversation.asset_id,
            model=conversation.model,
            style=str((data.get("style") or {}).get("medium", ""))[:120],
            message="Saved from the analyzer",
        )
        assert prompt.id is not None
        conversation.prompt_id = prompt.id
        session.add(conversation)
        version_number = 1
    else:
        version = add_version(
            session,
            prompt_id=conversation.prompt_id,
            data=data,
            author_id=user_id,
            message="Refined in the analyzer",
        )
        version_number = version.number
    index_prompt(session, prompt_id=conversation.prompt_id, data=data)
    _link_analyses(session, conversation_id=conversation_id, prompt_id=conversation.prompt_id)
    session.flush()
    return conversation.prompt_id, version_number


def _link_analyses(session: Session, *, conversation_id: int, prompt_id: int) -> None:
    """Stamp the chat's analyses with the prompt they produced, so the prompt's page can show
    which model made it and replay its reasoning (prompt_ops.get_prompt_detail)."""
    analysis_ids = select(ConversationTurn.analysis_id).where(
        ConversationTurn.conversation_id == conversation_id,
        col(ConversationTurn.analysis_id).is_not(None),
    )
    session.exec(
        update(Analysis)
        .where(col(Analysis.id).in_(analysis_ids), col(Analysis.prompt_id).is_(None))
        .values(prompt_id=prompt_id)
    )
