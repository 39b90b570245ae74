"""Alembic environment: the URL comes from app.settings (DATABASE_URL / DATA_DIR)."""

from logging.config import fileConfig

from sqlmodel import SQLModel

import app.services.core.models  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import context
from app.services.core.db import engine_for
from app.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    # The search index is created by hand in 0004 and has no model: SQLite's FTS5 table (and its
    # shadow tables) and PostgreSQL's prompts.search_vector. Autogenerate must not drop them.
    if type_ == "table" and name is not None and name.startswith("prompt_fts"):
        return False
    return name not in {"search_vector", "ix_prompts_search_vector"}


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().resolved_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=_include_name,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = engine_for(_url())
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's batch mode copies and drops tables to alter them; with foreign keys on,
            # dropping `prompts` would cascade-delete every prompt version. The pragma only
            # takes effect outside a transaction, so it is set before the migration starts.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        mysql = connection.dialect.name == "mysql"
        if mysql:
            # Downgrades drop an index before its table; MySQL refuses while a foreign key
            # uses it, unless checks are off (the table and its key go next). Checks off for
            # the migration, as on SQLite.
            connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
            connection.commit()  # a session setting; leaves no transaction open for alembic
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
            include_name=_include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        if mysql:
            connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
