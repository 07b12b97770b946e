"""Database engine and sessions: one connection setup for API, worker, scheduler and CLI."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util.concurrency import greenlet_spawn

from pms.logs import get_logger
from pms.settings import Settings, get_settings

_log = get_logger("pms.db")


def async_url(url: str) -> str:
    """``postgresql://`` (what psql and Supabase print) → the asyncpg dialect URL."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


# Built once: ``json.dumps`` with arguments builds an encoder on every call.
_JSON_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))


def _json_dumps(value: Any) -> str:
    return _JSON_ENCODER.encode(value)


_SCOPE_SQL = text(
    "SELECT set_config('app.user_id', :uid, true), set_config('app.agency_id', :aid, true)"
)
_SYSTEM_SQL = text("SELECT set_config('app.system', :on, true)")


async def scope_now(
    session: AsyncSession, user_id: uuid.UUID | None, agency_id: uuid.UUID | None
) -> None:
    """Set the RLS context for the rest of this transaction (``SET LOCAL`` semantics)."""
    await session.execute(
        _SCOPE_SQL,
        {"uid": str(user_id) if user_id else "", "aid": str(agency_id) if agency_id else ""},
    )


# A connection that went back to the pool less than this long ago is handed out again without
# a ping: it was working a moment ago, and a busy API would otherwise spend a round trip per
# request on it. One idle for longer is pinged first (``pool_pre_ping``'s check) and replaced
# if the server does not answer. After a database restart, a request may still meet a
# connection used just before it: that request fails, and SQLAlchemy then invalidates every
# connection of the pool, so the next ones reconnect.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "pms_idle_since"


def _idle_from_now(_: Any, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


# The driver must know a type of ours (the enums: a booking's status, its source, ...) to send
# or read a value of it, and learns each the first time a statement of the connection uses
# it: a catalog query per type, 3-9 ms of the database's time, and ~20 ms while it is busy
# (measured with pg_stat_statements: it is planned afresh on each new connection). A new
# connection learns them all at once instead: one statement whose columns are one of each
# (built by PostgreSQL from its catalog, names quoted), prepared, so the driver asks about them
# in one query.
_ONE_OF_EACH_ENUM = """
SELECT 'SELECT ' || string_agg(format('NULL::%I.%I', n.nspname, t.typname), ', ' ORDER BY t.oid)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype = 'e' AND n.nspname = current_schema()
"""


async def _learn_enums(driver: asyncpg.Connection) -> None:
    statement = await driver.fetchval(_ONE_OF_EACH_ENUM)
    if statement is not None:  # none before the migrations have created them
        await driver.prepare(statement)


def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    _idle_from_now(dbapi_connection, record)
    dbapi_connection.run_async(_learn_enums)


def _ping_if_idle(engine: AsyncEngine) -> Callable[[Any, ConnectionPoolEntry, Any], None]:
    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("no answer to the ping") from exc

    return checkout


def server_settings(application_name: str, app_role: str | None) -> dict[str, str]:
    """The session settings of a connection the application opens: its name, UTC, and the
    application role (no BYPASSRLS, not the owner), so row-level security applies to it."""
    settings = {"application_name": application_name, "timezone": "UTC"}
    if app_role:
        settings["role"] = app_role
    return settings


def create_engine(
    url: str, *, app_role: str | None, pool_size: int = 20, max_overflow: int = 10
) -> AsyncEngine:
    """An engine whose every connection runs as ``app_role`` (no BYPASSRLS, not the owner),
    so row-level security applies to everything the application does."""
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # The connection used last is handed out first (asyncpg's own pool does the same): at
        # a few requests at a time, those few connections stay warm (their statements prepared,
        # PostgreSQL's plans for them settled after five executions) and recently used (no
        # ping), where a FIFO pool rotated every request through all twenty, so each first
        # execution on each of them happened under live traffic.
        pool_use_lifo=True,
        json_serializer=_json_dumps,
        connect_args={"server_settings": server_settings("pms", app_role)},
    )
    event.listen(engine.sync_engine.pool, "connect", _on_connect)
    event.listen(engine.sync_engine.pool, "checkin", _idle_from_now)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle(engine))
    return engine


_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def engine_from_settings(settings: Settings) -> AsyncEngine:
    return create_engine(
        settings.require_database_url(),
        app_role=settings.db_app_role,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


def get_engine() -> AsyncEngine:
    global _engine, _sessionmaker
    if _engine is None:
        _engine = engine_from_settings(get_settings())
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False)
    return _engine


async def open_pool() -> None:
    """Open the connections the pool keeps (``DB_POOL_SIZE``) now, as a process that is about
    to serve requests starts: the first requests then find them ready, instead of each paying
    for a new connection (the server's process, the login, the driver's set-up: 20-30 ms of
    the database's time, more when it is busy). A database that cannot be reached now is not
    an error here: requests will try again, and /health/ready says so meanwhile."""
    engine = get_engine()
    opened = await asyncio.gather(
        *(engine.connect() for _ in range(engine.pool.size())),  # type: ignore[attr-defined]
        return_exceptions=True,
    )
    failed = [type(error).__name__ for error in opened if isinstance(error, BaseException)]
    if failed:
        # The error's type only: a driver's message may quote the connection string.
        _log.warning("pool_not_opened", failed=len(failed), of=len(opened), error=failed[0])
    for connection in opened:
        if isinstance(connection, AsyncConnection):
            await connection.close()


def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


async def dispose_engine() -> None:
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine = None
    _sessionmaker = None


@asynccontextmanager
async def driver_connection() -> AsyncIterator[asyncpg.Connection]:
    """The driver's own connection from the engine's pool (checked out and back in with the
    pool's events: the ping after idling, the reset), for statements outside any explicit
    transaction that need no SQLAlchemy: no Connection objects are built around it."""
    pooled = await get_engine().raw_connection()
    try:
        connection: asyncpg.Connection = pooled.driver_connection
        yield connection
    finally:
        await greenlet_spawn(pooled.close)


async def set_tenant(session: AsyncSession, agency_id: uuid.UUID | None) -> None:
    """Scope the current transaction to one agency for row-level security."""
    await session.execute(
        text("SELECT set_config('app.agency_id', :aid, true)"),
        {"aid": str(agency_id) if agency_id else ""},
    )


@asynccontextmanager
async def transaction(agency_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
    """A session in one transaction, committed on success, scoped to ``agency_id``."""
    async with get_sessionmaker()() as session, session.begin():
        await set_tenant(session, agency_id)
        yield session


async def system_access(session: AsyncSession, on: bool = True) -> None:
    """Declare this transaction a system job (outbox relay, scheduler sweeps, feed polling): the
    tables whose policies allow it (``rls.tenant_table(system_access=True)``) show every
    agency's rows. The one place that sets ``app.system``."""
    await session.execute(_SYSTEM_SQL, {"on": "on" if on else "off"})


def plain_dsn(url: str) -> str:
    """The libpq-style URL asyncpg connects with, whatever driver name the setting carries."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(
    settings: Settings, channel: str, on_notify: Callable[[str], None]
) -> asyncpg.Connection:
    """A dedicated connection (as the application role) that calls ``on_notify(payload)`` for
    every NOTIFY on ``channel``. LISTEN needs a session of its own, so it is not pooled."""
    conn: asyncpg.Connection = await asyncpg.connect(
        plain_dsn(settings.require_database_url()),
        server_settings=server_settings(f"pms-listen-{channel}", settings.db_app_role),
        timeout=10,
    )

    def callback(_: object, __: int, ___: str, payload: str) -> None:
        on_notify(payload)

    try:
        await conn.add_listener(channel, callback)
    except BaseException:
        await conn.close()
        raise
    return conn


# PostgreSQL's answers that roll a transaction back because of another one, where the same
# work succeeds when done again: serialization failure, deadlock, lock not available.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def rolled_back_by_another(exc: BaseException) -> bool:
    """The transaction was rolled back because of a concurrent one: doing it again can work."""
    return isinstance(exc, DBAPIError) and (
        getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )
