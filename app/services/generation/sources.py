"""Where a run's prompt comes from, besides a saved prompt: an analyzer answer.

The analyzer's "Generate" button opens /generate on one answer (a conversation turn) by its
id, so a reload shows the same JSON even after later refinements. Only the conversation's
owner can open it; anyone else's id reads as not found.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from app.services.analyzer.conversations import owned
from app.services.core.errors import NotFoundError
from app.services.core.models import Conversation, ConversationTurn

ANSWER_GONE = "That analyzer answer doesn't exist, or it isn't yours."


def latest_answer_id(session: Session, *, user_id: int, conversation_id: int) -> int:
    """The id of the conversation's newest answer that holds a prompt."""
    conversation = owned(session, user_id=user_id, conversation_id=conversation_id)
    # A JSON column stores a missing prompt as JSON null, not SQL NULL: test the value here.
    rows = session.exec(
        select(ConversationTurn.id, ConversationTurn.data)
        .where(col(ConversationTurn.conversation_id) == conversation.id)
        .order_by(col(ConversationTurn.id).desc())
    ).all()
    turn_id = next((turn_id for turn_id, data in rows if data and turn_id is not None), None)
    if turn_id is None:
        raise NotFoundError("There is no prompt in this conversation yet: analyze an image first.")
    return int(turn_id)


def answer_prompt(session: Session, *, user_id: int, turn_id: int) -> tuple[dict[str, Any], str]:
    """The JSON prompt of one analyzer answer, and its conversation's title."""
    row = session.exec(
        select(ConversationTurn, Conversation)
        .join(Conversation, col(Conversation.id) == col(ConversationTurn.conversation_id))
        .where(col(ConversationTurn.id) == turn_id)
    ).first()
    if row is None or row[1].user_id != user_id or not row[0].data:
        raise NotFoundError(ANSWER_GONE)
    turn, conversation = row
    return dict(turn.data or {}), conversation.title or "Analyzer answer"
