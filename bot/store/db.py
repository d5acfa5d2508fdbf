"""Database engine for any SQLAlchemy URL, and the Alembic upgrade that brings its schema up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_POOL = 48  # AnyIO's 40 worker threads, the write spool and a few more


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its folder created, WAL and foreign keys."""
    parsed = make_url(url)
    # a server's network connections can go stale (a database restart, a proxy's idle timeout): check each
    # on checkout. A SQLite file cannot, and a ping per checkout was a tenth of a busy server's database time.
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg", "psycopg2"):
        # a database that stopped answering must be noticed in seconds, so customers' writes go to the journal
        kwargs["connect_args"] = {"connect_timeout": 5}
    if parsed.get_backend_name() == "sqlite":
        kwargs.update(pool_pre_ping=False, connect_args={"check_same_thread": False, "timeout": 30})
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # enough kept connections for every worker thread: an overflow connection is closed after use and
            # the next one reopened (with its pragmas), which under load cost more than the queries on it
            kwargs.update(pool_size=SQLITE_POOL, max_overflow=SQLITE_POOL)
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest schema (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
