"""The prompt page: the prompt, its current version, analyses and tags in one read."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.services.core.models import (
    Analysis,
    Asset,
    Conversation,
    ConversationTurn,
    User,
)
from app.services.core.storage import Storage
from app.services.library.access import (
    can_edit,
    can_manage,
    load_prompt,
)
from app.services.library.prompt_ops.common import current_version, signed_url, tag_names
from app.services.library.prompt_ops.versions import list_versions
from app.services.library.prompt_ops.views import AnalysisView, PromptDetail


def get_prompt_detail(
    session: Session, *, prompt_id: int, viewer: User | None, storage: Storage | None = None
) -> PromptDetail:
    """Everything the prompt page shows. Pass `storage` to get image URLs."""
    prompt = load_prompt(session, prompt_id=prompt_id, viewer=viewer)
    assert prompt.id is not None
    version = current_version(session, prompt)
    asset = session.get(Asset, prompt.asset_id) if prompt.asset_id else None
    analyses = _analyses(session, prompt_id=prompt.id)
    origin = next((a for a in analyses if a.kind == "describe" and a.status == "done"), None)
    conversation_id = session.exec(
        select(Conversation.id).where(Conversation.prompt_id == prompt.id)
    ).first()
    return PromptDetail(
        prompt=prompt,
        data=dict(version.data),
        current_version=version.number,
        versions=list_versions(session, prompt_id=prompt.id, viewer=viewer),
        tags=tag_names(session, prompt.id),
        asset=asset,
        image_url=signed_url(storage, asset.storage_key if asset else None),
        thumbnail_url=signed_url(storage, asset.thumbnail_key if asset else None),
        analyses=analyses,
        origin=origin or (analyses[0] if analyses else None),
        conversation_id=conversation_id,
        can_edit=can_edit(viewer, prompt),
        can_manage=can_manage(viewer, prompt),
        download_url=storage.presigned_get_url(
            asset.storage_key, download_name=asset.original_filename or None
        )
        if storage is not None and asset is not None
        else "",
    )


def _analyses(session: Session, *, prompt_id: int) -> list[AnalysisView]:
    """Analyses stamped with this prompt, plus those of the chat that saved it (older rows were
    saved before conversations.save_to_gallery stamped them)."""
    via_chat = (
        select(ConversationTurn.analysis_id)
        .join(Conversation, col(Conversation.id) == col(ConversationTurn.conversation_id))
        .where(Conversation.prompt_id == prompt_id)
    )
    rows = session.exec(
        select(Analysis)
        .where(or_(col(Analysis.prompt_id) == prompt_id, col(Analysis.id).in_(via_chat)))
        .order_by(col(Analysis.created_at), col(Analysis.id))
    ).all()
    return [
        AnalysisView(
            id=a.id or 0,
            kind=a.kind,
            provider=a.provider,
            model=a.model,
            status=a.status,
            reasoning=a.reasoning,
            created_at=a.created_at,
            latency_ms=a.latency_ms,
            cost_credits=a.cost_credits,
        )
        for a in rows
    ]
