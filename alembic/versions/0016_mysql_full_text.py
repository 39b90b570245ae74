"""full-text search on MariaDB/MySQL: a `prompt_fts` table with FULLTEXT indexes

MySQL only (SQLite and PostgreSQL got theirs in 0004; nothing changes for them). Like SQLite's
FTS5 table, `prompt_fts` holds one search document per prompt (`rowid` = the prompt id) and is
kept in sync by app/services/library/search.py. One FULLTEXT index per column ranks a title
match above a tag above prose; the three-column one serves the filter. Filled here from
existing prompts.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "mysql":
        return
    # No InnoDB stop word list: search.terms() drops its own stop words, and a word such as
    # "about" or "where" must match as it does on the other databases.
    op.execute("SET SESSION innodb_ft_enable_stopword = OFF")
    # MEDIUMTEXT: the body is up to 100,000 characters, 4 bytes each in utf8mb4. The rows go
    # with their prompt (ON DELETE CASCADE), as PostgreSQL's search_vector does.
    op.execute(
        "CREATE TABLE prompt_fts ("
        " `rowid` INTEGER NOT NULL PRIMARY KEY,"
        " title TEXT NOT NULL, tags TEXT NOT NULL, body MEDIUMTEXT NOT NULL,"
        " CONSTRAINT fk_prompt_fts_prompt FOREIGN KEY (`rowid`)"
        " REFERENCES prompts (id) ON DELETE CASCADE,"
        " FULLTEXT INDEX ft_prompt_fts_all (title, tags, body),"
        " FULLTEXT INDEX ft_prompt_fts_title (title),"
        " FULLTEXT INDEX ft_prompt_fts_tags (tags),"
        " FULLTEXT INDEX ft_prompt_fts_body (body)"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
    )
    from app.services.library.search import rebuild_index

    rebuild_index(bind)


def downgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.execute("DROP TABLE IF EXISTS prompt_fts")
