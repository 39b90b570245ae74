"""The offline MiniLM embeddings reproduce the reference model, and style memory uses them."""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session, select

from app.services.accounts import auth
from app.services.analyzer.embeddings import DIMENSIONS, cosine, embed
from app.services.analyzer.style_memory import index_prompt, similar_prompts
from app.services.core.models import PromptEmbedding
from app.services.demo.images import demo_catalog, describe_demo
from app.services.library.writes import create_prompt


def test_vectors_match_the_published_all_minilm_l6_v2_similarity() -> None:
    a, b, c = embed(
        ["The new movie is awesome", "The new movie is so great", "The cat sits outside"]
    )
    assert a.shape == (DIMENSIONS,)
    assert abs(float((a * a).sum()) - 1.0) < 1e-4
    # sentence-transformers' documented score for this pair with all-MiniLM-L6-v2 is 0.8939.
    assert abs(cosine(a, b) - 0.8939) < 0.002
    assert cosine(a, c) < 0.2


def test_style_memory_finds_the_closest_prompts_visible_to_the_viewer(session: Session) -> None:
    me = auth.create_user(session, email="me@example.com", password="a long passphrase here")
    other = auth.create_user(session, email="other@example.com", password="a long passphrase here")
    assert me.id is not None and other.id is not None
    scenes = {s.slug: s for s in demo_catalog()}
    ids = {}
    for owner, slug, visibility in [
        (me.id, next(k for k in scenes if "sunset" in k), "private"),
        (me.id, next(k for k in scenes if "city" in k), "private"),
        (other.id, next(k for k in scenes if "forest" in k), "private"),
        (other.id, next(k for k in scenes if "mountain" in k), "public"),
    ]:
        data = describe_demo(scenes[slug], scenes[slug].draw())
        prompt = create_prompt(
            session, owner_id=owner, title=slug, data=data, visibility=visibility
        )
        assert prompt.id is not None
        index_prompt(session, prompt_id=prompt.id, data=data)
        ids[slug] = prompt.id
    session.commit()
    found = similar_prompts(
        session, query="the sun going down over the ocean, a boat", viewer_id=me.id
    )
    titles = [e.title for e in found]
    assert "sunset" in titles[0]
    assert not any("forest" in t for t in titles)  # someone else's private prompt never leaks
    assert any("mountain" in t for t in titles)  # public prompts are fair game
    assert similar_prompts(session, query="", viewer_id=me.id) == []


def test_a_second_lookup_racing_to_embed_a_new_prompt_does_not_fail(session: Session) -> None:
    """Two "similar prompts" lookups of a new copy both find no embedding and both insert one:
    the one that loses the race to UNIQUE keeps the winner's row instead of failing."""
    me = auth.create_user(session, email="me@example.com", password="a long passphrase here")
    scene = demo_catalog()[0]
    data = describe_demo(scene, scene.draw())
    prompt = create_prompt(session, owner_id=me.id or 0, title="copy", data=data)
    assert prompt.id is not None
    prompt_id = prompt.id
    session.commit()
    bind = session.get_bind()

    raced: list[bool] = []

    def the_other_lookup_wins(flushing: Session, _context: object, _instances: object) -> None:
        if raced:
            return
        raced.append(True)
        with Session(bind) as other:
            index_prompt(other, prompt_id=prompt_id, data=data)
            other.commit()

    event.listen(session, "before_flush", the_other_lookup_wins)
    index_prompt(session, prompt_id=prompt_id, data=data)
    session.commit()
    event.remove(session, "before_flush", the_other_lookup_wins)
    assert raced  # the other lookup did insert first
    rows = session.exec(select(PromptEmbedding).where(PromptEmbedding.prompt_id == prompt_id))
    assert len(rows.all()) == 1
