"""Gallery speed at 100,000 prompts: keyset pages, tag and text filters, through the service layer.

    .venv/bin/python -m benchmarks.gallery_speed [--prompts 100000] [--runs 200]

Seeds a throwaway SQLite file (migrated with Alembic, filled with bulk Core inserts: users,
prompts, one version each with varied JSON, tags, the FTS index), then times `list_prompts`
for a signed-in viewer (public + own). Prints p50/p95 per case, and, as a same-run baseline,
the deep page fetched with OFFSET instead of a cursor. Target: p95 under 50 ms for every case.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, col, select

from app.services.core.db import engine_for
from app.services.core.migrations import upgrade_to_head
from app.services.core.models import Prompt, PromptTag, PromptVersion, Tag, User
from app.services.core.storage import LocalStorage
from app.services.library import gallery
from app.services.library.access import visibility_clause
from app.services.library.search import build_document

SUBJECTS = [
    "a lighthouse", "a red fox", "an old fisherman", "a glass teapot", "a neon diner",
    "a mountain cabin", "a koi pond", "a vintage motorcycle", "a ballet dancer", "a desert camel",
    "a cathedral window", "a street musician", "a bonsai tree", "a sailing boat", "a snow owl",
    "a robot barista", "a night market", "a waterfall", "a chess player", "a sunflower field",
]  # fmt: skip
PLACES = [
    "on a rocky coast", "in a misty forest", "on a rainy city street", "in a sunlit kitchen",
    "under the northern lights", "in a quiet library", "at a crowded harbour", "in a greenhouse",
    "on a rooftop in Tokyo", "in a Paris café", "beside a frozen lake", "in a jungle clearing",
]  # fmt: skip
TIMES = ["at dawn", "at golden hour", "at dusk", "at midnight", "at noon", "in a snowstorm"]
MEDIA = ["photograph", "oil painting", "watercolor", "3D render", "digital illustration",
         "vector art", "charcoal sketch", "film still"]  # fmt: skip
MOODS = ["serene", "melancholic", "joyful", "tense", "dreamy", "nostalgic", "eerie", "playful"]
LIGHT = ["soft window light", "hard rim light", "overcast", "neon glow", "candlelight",
         "backlit haze"]  # fmt: skip
MODELS = ["openrouter/gpt-4o", "openrouter/claude-3.5", "local/offline", "together/flux-dev",
          "openrouter/gemini-flash", "local/demo"]  # fmt: skip
TAG_WORDS = [
    "portrait", "landscape", "night", "sunset", "urban", "nature", "vintage", "minimal",
    "cinematic", "pastel", "moody", "bright", "animals", "food", "architecture", "abstract",
    "fantasy", "scifi", "street", "macro", "aerial", "noir", "cozy", "winter", "summer",
]  # fmt: skip
POSITIONS = ["center", "left third", "right third"]
COLOURS = ["teal", "amber", "ivory", "crimson"]
GENRES = ["landscape", "portrait", "still life"]
DIRECTIONS = ["left", "back", "top"]
FRAMINGS = ["wide shot", "close-up", "medium shot"]
N_USERS = 60
PUBLIC_SHARE = 0.7
BATCH = 5_000


def _tag_vocabulary() -> list[str]:
    # 25 common words plus 475 long-tail tags, so tag frequency is Zipf-like like real use.
    return TAG_WORDS + [f"{w}-{n}" for n in range(19) for w in TAG_WORDS][:475]


def _prompt_data(rng: random.Random, tags: list[str]) -> dict[str, Any]:
    subject, place, when = rng.choice(SUBJECTS), rng.choice(PLACES), rng.choice(TIMES)
    medium = rng.choice(MEDIA)
    subjects = [{"type": "object", "description": subject, "position": rng.choice(POSITIONS)}]
    palette = [
        {"hex": f"#{rng.randrange(0x1000000):06x}", "name": rng.choice(COLOURS)}
        for _ in range(rng.randint(2, 5))
    ]
    return {
        "schema_version": "1.0",
        "scene": f"{subject.capitalize()} {place} {when}",
        "subjects": subjects,
        "style": {"medium": medium, "genre": rng.choice(GENRES)},
        "color_palette": palette,
        "lighting": {"conditions": rng.choice(LIGHT), "direction": rng.choice(DIRECTIONS)},
        "mood": rng.choice(MOODS),
        "composition": {"framing": rng.choice(FRAMINGS)},
        "tags": tags,
    }


def seed(url: str, n: int) -> dict[str, Any]:
    """Bulk-insert n prompts; returns facts the cases need (a viewer id, tag names)."""
    rng = random.Random(42)
    engine = engine_for(url)
    vocab = _tag_vocabulary()
    weights = [1 / (i + 1) ** 0.9 for i in range(len(vocab))]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        now = datetime.now(UTC)
        conn.execute(
            insert(User),
            [
                {"id": u, "email": f"user{u}@example.com", "display_name": f"User {u}",
                 "role": "user", "plan": "free", "is_active": True, "created_at": now}
                for u in range(1, N_USERS + 1)
            ],
        )  # fmt: skip
        conn.execute(insert(Tag), [{"id": i + 1, "name": t} for i, t in enumerate(vocab)])
        tag_id = {t: i + 1 for i, t in enumerate(vocab)}
        counts: Counter[str] = Counter()
        for lo in range(1, n + 1, BATCH):
            prompts, versions, links, fts = [], [], [], []
            for pid in range(lo, min(lo + BATCH, n + 1)):
                tags = sorted(set(rng.choices(vocab, weights, k=rng.randint(2, 6))))
                counts.update(tags)
                data = _prompt_data(rng, tags)
                # Seconds apart with some exact ties, so the keyset's id tiebreak is exercised.
                created = start + timedelta(seconds=pid * 300 - (pid % 7 == 0))
                title = data["scene"][:60]
                model = rng.choice(MODELS)
                prompts.append({
                    "id": pid, "owner_id": rng.randint(1, N_USERS), "title": title,
                    "model": model, "style": data["style"]["medium"],
                    # A generating model's prompts are gallery entries of generated images.
                    "origin": "generated" if model.startswith("together/") else "analyzed",
                    "visibility": "public" if rng.random() < PUBLIC_SHARE else "private",
                    "current_version_id": pid, "is_favorite": rng.random() < 0.05,
                    "rating": rng.choice([None, None, 3, 4, 5]), "created_at": created,
                    "updated_at": created, "deleted_at": None,
                })  # fmt: skip
                versions.append({
                    "id": pid, "prompt_id": pid, "number": 1, "data": data,
                    "schema_version": "1.0", "author_id": prompts[-1]["owner_id"],
                    "message": "Created", "created_at": created,
                })  # fmt: skip
                links += [{"prompt_id": pid, "tag_id": tag_id[t]} for t in tags]
                doc = build_document(title, tags, data)
                fts.append({"id": pid, "t": doc.title, "g": doc.tags, "b": doc.body})
            conn.execute(insert(Prompt), prompts)
            conn.execute(insert(PromptVersion), versions)
            conn.execute(insert(PromptTag), links)
            conn.execute(
                text("INSERT INTO prompt_fts(rowid, title, tags, body) VALUES (:id, :t, :g, :b)"),
                fts,
            )
        # A trashed slice, so the live-rows filter has something to skip.
        conn.execute(text("UPDATE prompts SET deleted_at = created_at WHERE id % 97 = 0"))
    ranked = [t for t, _ in counts.most_common()]
    return {
        "viewer_id": 7,
        "common_tag": ranked[0],
        "mid_tag": ranked[len(ranked) // 10],
        "rare_tag": ranked[-20],
        "tag_counts": counts,
    }


def _timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    fn()  # warm the page cache and statement cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    out = sys.stdout.write

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        upgrade_to_head(url)
        facts = seed(url, args.prompts)
        out(f"seeded {args.prompts:,} prompts in {time.perf_counter() - started:.1f} s\n")
        storage = LocalStorage(Path(tmp) / "storage", "x" * 40, "http://localhost/api")

        with Session(engine_for(url)) as session:
            viewer = session.get(User, facts["viewer_id"])
            assert viewer is not None

            def page(query: gallery.GalleryQuery | None = None, cursor: str | None = None) -> Any:
                result = gallery.list_prompts(
                    session, storage=storage, viewer=viewer, query=query, cursor=cursor
                )
                assert result.items, "a benchmark case returned nothing"
                return result

            # The cursor of the row halfway down the visible list: a "deep page".
            deep_rank = args.prompts // 3
            deep = session.exec(
                select(Prompt.created_at, Prompt.id)
                .where(visibility_clause(viewer), col(Prompt.deleted_at).is_(None))
                .order_by(col(Prompt.created_at).desc(), col(Prompt.id).desc())
                .offset(deep_rank)
                .limit(1)
            ).one()
            deep_cursor = gallery.encode_cursor(deep[0], deep[1])

            def offset_page() -> None:
                ids = session.exec(
                    select(Prompt.id)
                    .where(visibility_clause(viewer), col(Prompt.deleted_at).is_(None))
                    .order_by(col(Prompt.created_at).desc(), col(Prompt.id).desc())
                    .offset(deep_rank + 1)
                    .limit(25)
                ).all()
                gallery.cards_for(session, storage=storage, prompt_ids=[i for i in ids if i])

            counts = facts["tag_counts"]
            q = gallery.GalleryQuery
            common, mid, rare = facts["common_tag"], facts["mid_tag"], facts["rare_tag"]
            cases: list[tuple[str, Callable[[], Any]]] = [
                ("first page", lambda: page()),
                (f"tag, common ({counts[common]:,} prompts)", lambda: page(q(tags=(common,)))),
                (f"tag, mid ({counts[mid]:,})", lambda: page(q(tags=(mid,)))),
                (f"tag, rare ({counts[rare]:,})", lambda: page(q(tags=(rare,)))),
                ("two tags (all must match)", lambda: page(q(tags=(common, mid)))),
                ("text, common word 'lighthouse'", lambda: page(q(text="lighthouse"))),
                ("text, two words 'fox misty'", lambda: page(q(text="fox misty"))),
                ("text, prefix 'waterf'", lambda: page(q(text="waterf"))),
                ("model + style", lambda: page(q(model="local/demo", style="watercolor"))),
                ("origin: generated", lambda: page(q(origin="generated"))),
                ("origin: analyzed + tag", lambda: page(q(origin="analyzed", tags=(mid,)))),
                (f"deep page via cursor (row {deep_rank:,})", lambda: page(cursor=deep_cursor)),
                (f"baseline: same page via OFFSET {deep_rank:,}", offset_page),
            ]

            out(f"\n{'case':<48} {'p50 ms':>8} {'p95 ms':>8}\n{'-' * 66}\n")
            results = {}
            for name, fn in cases:
                p50, p95 = _timed(fn, args.runs)
                results[name] = (p50, p95)
                flag = "" if name.startswith("baseline") or p95 < 50 else "  over target"
                out(f"{name:<48} {p50:>8.2f} {p95:>8.2f}{flag}\n")
            deep_p50 = next(v[0] for k, v in results.items() if k.startswith("deep page"))
            base_p50 = next(v[0] for k, v in results.items() if k.startswith("baseline"))
            out(f"\nOFFSET / keyset at the same depth (p50): {base_p50 / deep_p50:.1f}x\n")


if __name__ == "__main__":
    main()
