"""Full-text search over a prompt's title, tags and prose.

The indexed text is the title, the tags, and every text value of the current version's JSON
(what render_prose says, minus its labels). Two engines, one behaviour:

- SQLite: an FTS5 table `prompt_fts(title, tags, body)` whose rowid is the prompt id, with the
  porter stemmer and diacritics folded (so "mountains" finds "mountain", "cafe" finds "café").
- PostgreSQL: a `prompts.search_vector` tsvector (GIN-indexed), weighted A/B/C for
  title/tags/body, with the `english` configuration.
- MariaDB/MySQL: a `prompt_fts(rowid, title, tags, body)` InnoDB table (migration 0016) with a
  FULLTEXT index per column and one over all three, queried with MATCH ... AGAINST in boolean
  mode. No stemmer there: every word is a prefix of its crudely stemmed form ("mountains" →
  `mountain*`), and the utf8mb4_unicode_ci collation folds accents.
- Anything else: a case-insensitive LIKE on the title, so the filter still works.

They are created by migrations 0004 and 0016 and kept in sync from the service layer, not by
database triggers: the document is built from the current version's JSON, which only Python
knows how to walk. Call `index_for_search` after anything that changes a prompt's title, tags or
current version (library.create_prompt / add_version and prompt_ops already do).

User text never reaches either query language as syntax. It is cut into words (`\\w+`, after NFKC
normalisation), every word is quoted, words are ANDed and the last one is a prefix (search as you
type). Quotes, `*`, `OR`, `-`, `NEAR(`, column filters and the like simply disappear; text with no
words means "no text filter".
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    func,
    literal,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.mysql import match as mysql_match
from sqlalchemy.sql.expression import literal_column
from sqlmodel import Session, col, select

from app.services.core.models import Prompt, PromptTag, PromptVersion, Tag, User
from app.services.library.access import visibility_clause

# Bounds that keep a pasted novel from becoming a pathological query.
MAX_TERMS = 16
MAX_TERM_LENGTH = 64
# tsvector values are capped at 1 MB; prose is far shorter, but a hostile prompt might not be.
MAX_BODY_CHARS = 100_000
TS_CONFIG = "english"
MIN_PREFIX = 2
# The commonest English function words (a subset of PostgreSQL's english stop list).
STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "in",
     "into", "is", "it", "its", "of", "on", "or", "that", "the", "their", "then", "there",
     "these", "they", "this", "to", "was", "were", "will", "with"}
)  # fmt: skip
# JSON keys whose values are not words worth finding: bookkeeping, hex codes, enum labels that
# nearly every prompt shares ("object"), and the JSON's own tags (the library's tags are indexed).
_SKIP_KEYS = frozenset({"schema_version", "meta", "hex", "type", "tags", "proportion"})

# A private MetaData: the FTS table must stay invisible to SQLModel.metadata (and Alembic
# autogenerate), since it only exists on SQLite and MySQL and is created by hand in migrations
# 0004 and 0016.
_fts_metadata = MetaData()
prompt_fts = Table(
    "prompt_fts",
    _fts_metadata,
    Column("rowid", Integer, primary_key=True),
    Column("title", Text),
    Column("tags", Text),
    Column("body", Text),
)

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SearchHit:
    prompt_id: int
    title: str
    score: float  # higher is better; only comparable within one result list


@dataclass(frozen=True)
class SearchDocument:
    title: str
    tags: str
    body: str


# --- query parsing ----------------------------------------------------------------------------


def terms(text: str | None) -> list[str]:
    """The words of a search box, lowercased; punctuation, operators and stop words dropped.

    Stop words go because they match nearly every prompt: they would cost a scan of the whole
    index and filter nothing (PostgreSQL's english configuration drops them as well).
    """
    if not text:
        return []
    normalized = unicodedata.normalize("NFKC", text[: MAX_TERMS * (MAX_TERM_LENGTH + 8)])
    words = [w.lower()[:MAX_TERM_LENGTH] for w in _WORD.findall(normalized)]
    # `_` counts as a word character for Python but not for either tokenizer; drop pure runs.
    words = [w for w in words if w.strip("_") and w not in STOP_WORDS]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def _prefix_ok(word: str) -> bool:
    # A one-letter prefix matches most of the vocabulary and isn't in the prefix index.
    return len(word) >= MIN_PREFIX


def fts5_query(text: str | None) -> str | None:
    """An FTS5 MATCH expression: every word a quoted phrase, the last one a prefix."""
    words = terms(text)
    if not words:
        return None
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    if _prefix_ok(words[-1]):
        quoted[-1] += "*"
    return " ".join(quoted)


_SUFFIXES = ("ing", "es", "ed", "s")


def _crude_stem(word: str) -> str:
    """The word without one common English suffix, kept when at least 4 letters remain."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def mysql_boolean_query(text: str | None, *, min_token_size: int = MIN_PREFIX) -> str | None:
    """A MATCH ... AGAINST boolean-mode string: every word required (`+`) and a prefix of its
    crude stem, standing in for the stemmers SQLite and PostgreSQL have. Words are `\\w+`
    runs, so no operator (`"`, `-`, `*`, `@`, parentheses) survives into the query.

    InnoDB doesn't index words shorter than the server's innodb_ft_min_token_size (3 unless
    set; set it to 2): requiring one would match nothing, so such words are left out."""
    words = [w for w in terms(text) if len(w) >= min_token_size]
    if not words:
        return None
    return " ".join(f"+{_crude_stem(w)}*" if _prefix_ok(_crude_stem(w)) else f"+{w}" for w in words)


def tsquery(text: str | None) -> str | None:
    """A `to_tsquery` string: quoted lexemes joined by &, the last one a prefix."""
    words = terms(text)
    if not words:
        return None
    quoted = ["'" + w.replace("'", "''").replace("\\", "") + "'" for w in words]
    if _prefix_ok(words[-1]):
        quoted[-1] += ":*"
    return " & ".join(quoted)


# --- keeping the index in sync ----------------------------------------------------------------


def build_document(
    title: str, tag_names: Iterable[str], data: dict[str, Any] | None
) -> SearchDocument:
    """The text indexed for one prompt.

    The body is every text value of the JSON prompt: the words render_prose would say, without
    its labels ("Lighting:", "Mood:"), which every prompt shares and so would make those words
    match everything.
    """
    body = " ".join(_text_values(data or {}))[:MAX_BODY_CHARS]
    return SearchDocument(title=title, tags=" ".join(sorted(tag_names)), body=body)


def _text_values(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _SKIP_KEYS:
                yield from _text_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _text_values(item)


def _dialect(bind: Session | Connection) -> str:
    return bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name


def _write(conn: Connection, prompt_id: int, doc: SearchDocument) -> None:
    dialect = conn.dialect.name
    if dialect in ("sqlite", "mysql"):
        conn.execute(prompt_fts.delete().where(prompt_fts.c.rowid == prompt_id))
        conn.execute(
            prompt_fts.insert().values(
                rowid=prompt_id, title=doc.title, tags=doc.tags, body=doc.body
            )
        )
    elif dialect == "postgresql":
        conn.execute(
            sql(
                "UPDATE prompts SET search_vector ="
                " setweight(to_tsvector(CAST(:cfg AS regconfig), :t), 'A')"
                " || setweight(to_tsvector(CAST(:cfg AS regconfig), :g), 'B')"
                " || setweight(to_tsvector(CAST(:cfg AS regconfig), :b), 'C')"
                " WHERE id = :id"
            ),
            {"id": prompt_id, "cfg": TS_CONFIG, "t": doc.title, "g": doc.tags, "b": doc.body},
        )
    # Other databases fall back to LIKE on the title: nothing to maintain.


def index_for_search(session: Session, *, prompt_id: int) -> None:
    """Rebuild one prompt's search document from its title, tags and current version."""
    prompt = session.get(Prompt, prompt_id)
    if prompt is None:
        remove_from_search(session, prompt_ids=[prompt_id])
        return
    version = (
        session.get(PromptVersion, prompt.current_version_id) if prompt.current_version_id else None
    )
    tag_names = session.exec(
        select(Tag.name)
        .join(PromptTag, col(PromptTag.tag_id) == col(Tag.id))
        .where(PromptTag.prompt_id == prompt_id)
    ).all()
    session.flush()  # the raw statements below must see pending ORM changes
    doc = build_document(prompt.title, tag_names, dict(version.data) if version else None)
    _write(session.connection(), prompt_id, doc)


def remove_from_search(session: Session, *, prompt_ids: list[int]) -> None:
    """Forget purged prompts. (On PostgreSQL the vector goes with the row.)"""
    if prompt_ids and _dialect(session) in ("sqlite", "mysql"):
        session.connection().execute(prompt_fts.delete().where(prompt_fts.c.rowid.in_(prompt_ids)))


def rebuild_index(conn: Connection) -> int:
    """Re-index every prompt (migration backfill, or repair after a restore). Returns the count."""
    if conn.dialect.name in ("sqlite", "mysql"):
        conn.execute(prompt_fts.delete())
    rows = conn.execute(
        sql(
            "SELECT p.id, p.title, v.data FROM prompts p"
            " LEFT JOIN prompt_versions v ON v.id = p.current_version_id"
        )
    ).all()
    tag_rows = conn.execute(
        sql("SELECT pt.prompt_id, t.name FROM prompt_tags pt JOIN tags t ON t.id = pt.tag_id")
    ).all()
    tags: dict[int, list[str]] = {}
    for prompt_id, name in tag_rows:
        tags.setdefault(prompt_id, []).append(name)
    for prompt_id, title, data in rows:
        if isinstance(data, str):  # raw SQL returns JSON as text on SQLite
            data = json.loads(data)
        _write(conn, prompt_id, build_document(title, tags.get(prompt_id, []), data))
    return len(rows)


# --- querying ---------------------------------------------------------------------------------


def _pg_vector() -> ColumnElement[Any]:
    return literal_column("prompts.search_vector")


def _pg_query(query: str) -> ColumnElement[Any]:
    return func.to_tsquery(literal_column(f"'{TS_CONFIG}'"), query)


def _mysql_query(session: Session, text: str | None) -> str | None:
    conn = session.connection()
    size = conn.info.get("innodb_ft_min_token_size")
    if size is None:  # a server setting: read once per connection
        size = int(conn.execute(sql("SELECT @@innodb_ft_min_token_size")).scalar_one())
        conn.info["innodb_ft_min_token_size"] = size
    return mysql_boolean_query(text, min_token_size=size)


def _mysql_match(query: str, *columns: Column[Any]) -> ColumnElement[Any]:
    return mysql_match(*columns, against=query).in_boolean_mode()


def match_clause(session: Session, text: str | None) -> ColumnElement[bool] | None:
    """A WHERE clause on `prompts` for the search box, or None when the text has no words."""
    dialect = _dialect(session)
    if dialect == "sqlite":
        query = fts5_query(text)
        if query is None:
            return None
        ids = select(prompt_fts.c.rowid).where(literal_column("prompt_fts").op("MATCH")(query))
        return col(Prompt.id).in_(ids)
    if dialect == "postgresql":
        query = tsquery(text)
        if query is None:
            return None
        return _pg_vector().op("@@")(_pg_query(query))
    # On MySQL, words all too short for its index fall back to the title LIKE below.
    if dialect == "mysql" and (query := _mysql_query(session, text)) is not None:
        every = (prompt_fts.c.title, prompt_fts.c.tags, prompt_fts.c.body)
        ids = select(prompt_fts.c.rowid).where(_mysql_match(query, *every))
        return col(Prompt.id).in_(ids)
    words = terms(text)
    if not words:
        return None
    return and_(*(col(Prompt.title).icontains(w, autoescape=True) for w in words))


def search_prompts(
    session: Session, *, text: str, viewer: User | None, limit: int = 20
) -> list[SearchHit]:
    """The best matches first (title beats tags beats prose), among prompts the viewer may see.

    The gallery lists matches newest first so its keyset cursor stays stable; this ranked list
    is for quick search (a command palette, the "did you mean" of an empty gallery).
    """
    limit = max(1, min(limit, 100))
    visible = visibility_clause(viewer)
    live = col(Prompt.deleted_at).is_(None)
    dialect = _dialect(session)
    if dialect == "sqlite":
        query = fts5_query(text)
        if query is None:
            return []
        # bm25 weights per column (title, tags, body); lower bm25 is better, so negate it.
        rank: ColumnElement[Any] = -func.bm25(literal_column("prompt_fts"), 10.0, 4.0, 1.0)
        matches: ColumnElement[Any] = literal_column("prompt_fts").op("MATCH")(query)
        base = select(col(Prompt.id), col(Prompt.title), rank).select_from(prompt_fts)
        base = base.join(Prompt, col(Prompt.id) == prompt_fts.c.rowid)
    elif dialect == "postgresql":
        query = tsquery(text)
        if query is None:
            return []
        rank = func.ts_rank(_pg_vector(), _pg_query(query))
        matches = _pg_vector().op("@@")(_pg_query(query))
        base = select(col(Prompt.id), col(Prompt.title), rank)
    elif dialect == "mysql" and (query := _mysql_query(session, text)) is not None:
        # A title match beats a tag match beats prose. InnoDB's relevance (TF-IDF over the
        # whole table) swings too much on a small library to be weighted like bm25, so where
        # the words matched decides, and the relevance in [0, 1) only breaks ties.
        fts = prompt_fts.c
        matches = _mysql_match(query, fts.title, fts.tags, fts.body)
        rank = (
            100 * func.sign(_mysql_match(query, fts.title))
            + 10 * func.sign(_mysql_match(query, fts.tags))
            + func.sign(_mysql_match(query, fts.body))
            + matches / (matches + 1)
        )
        base = select(col(Prompt.id), col(Prompt.title), rank).select_from(prompt_fts)
        base = base.join(Prompt, col(Prompt.id) == prompt_fts.c.rowid)
    else:
        clause = match_clause(session, text)
        if clause is None:
            return []
        # No ranking without an index: the highest ids (roughly the newest) first.
        rank, matches = literal(0.0, Float), clause
        base = select(col(Prompt.id), col(Prompt.title), rank)
    rows = session.exec(
        base.where(matches, live, visible).order_by(rank.desc(), col(Prompt.id).desc()).limit(limit)
    ).all()
    return [SearchHit(int(pid or 0), title, float(score)) for pid, title, score in rows]
