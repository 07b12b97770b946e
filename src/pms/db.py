"""Database engine and sessions: one connection setup for API, worker, scheduler and CLI."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import ConnectionPoolEntry

from pms.core import generations
from pms.settings import Settings, get_settings


def async_url(url: str) -> str:
    """``postgresql://`` (what psql and Supabase print) → the asyncpg dialect URL."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


def _json_dumps(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"))


# --- Which generations a transaction invalidates --------------------------------------------
#
# Every statement that changes rows is noticed here (whatever built it: ORM flush, Core, text),
# attributed to the agency the transaction is scoped to, and the matching generations are bumped
# after the commit (``publish_writes``). Tables that no cached read shows are left out.

_INFO_AGENCY = "pms.agency_id"  # session.info: the agency the transaction is scoped to
_INFO_SYSTEM = "pms.system"  # session.info: app.system is on (writes may touch any agency)
_INFO_WRITES = "pms.writes"  # session.info: the generation scopes written so far
_INFO_COMMITTED = "pms.committed"  # session.info: scopes written by committed transactions
_INFO_PUBLISHER = "pms.publisher"  # session.info: the owner awaits publish_writes after commit
_INFO_CONNS = "pms.conns"
_CONN_TRACK = "pms.track"  # connection.info while a session transaction uses it

_DML = re.compile(
    r"^\s*(?:insert\s+into|update|delete\s+from)\s+\"?(\w+)|"
    r"\b(?:insert\s+into|delete\s+from)\s+\"?(\w+)|\(\s*update\s+\"?(\w+)",
    re.IGNORECASE,
)
# Logs and queues: writing them changes nothing a calendar, a search or a sign-in shows.
_UNCACHED_TABLES = frozenset(
    {
        "outbox_events",
        "audit_log",
        "idempotency_keys",
        "email_outbox",
        "stripe_events",
        "alerts",
        "ical_conflicts",
        # The Channel Manager's own bookkeeping: no cached read shows it.
        "channel_inbox",
        "channel_dirty",
        "channel_nights",
        "channel_sync_log",
        "channel_dead_letters",
    }
)
_AUTH_TABLES = frozenset({"users", "memberships", "auth_sessions"})


def written_tables(statement: str) -> set[str]:
    """The tables a data-changing statement writes (a data-modifying CTE can write several);
    empty for a SELECT."""
    head = statement.lstrip()[:6].lower()
    if not head.startswith(("insert", "update", "delete", "with")):
        return set()
    return {(a or b or c).lower() for a, b, c in _DML.findall(statement)}


def _scopes(info: dict[str, Any], tables: set[str]) -> set[str]:
    scopes: set[str] = set()
    if tables & _AUTH_TABLES:
        scopes.add(generations.AUTH)
    if "agencies" in tables:
        scopes.add(generations.AGENCIES)
    if tables - _AUTH_TABLES - _UNCACHED_TABLES:
        agency_id = info.get(_INFO_AGENCY)
        if agency_id is not None and not info.get(_INFO_SYSTEM):
            scopes.add(generations.agency(agency_id))
        else:
            scopes.add(generations.GLOBAL)
    return scopes


_INFO_PENDING_SCOPE = "pms.pending_scope"  # session.info: RLS scope to set on first use

_SCOPE_SQL = text(
    "SELECT set_config('app.user_id', :uid, true), set_config('app.agency_id', :aid, true)"
)


def _scope_params(user_id: uuid.UUID | None, agency_id: uuid.UUID | None) -> dict[str, str]:
    return {"uid": str(user_id) if user_id else "", "aid": str(agency_id) if agency_id else ""}


@event.listens_for(Session, "after_begin")
def _track_connection(session: Session, _: SessionTransaction, connection: Connection) -> None:
    connection.info[_CONN_TRACK] = session.info
    # The connection's info dict, not the connection: it is closed by the time the
    # transaction's end is announced.
    session.info.setdefault(_INFO_CONNS, []).append(connection.info)
    pending = session.info.pop(_INFO_PENDING_SCOPE, None)
    if pending is not None:
        # Runs inside the session's greenlet, like any other statement of the transaction.
        user_id, agency_id = pending
        connection.execute(_SCOPE_SQL, _scope_params(user_id, agency_id))


async def scope_on_first_use(
    session: AsyncSession, user_id: uuid.UUID | None, agency_id: uuid.UUID | None
) -> None:
    """Scope the transaction for RLS like ``tenancy.scope_transaction``, but if the session has
    not touched the database yet, only when it first does: a request answered from a cache
    then costs no round trip at all."""
    if session.info.get(_INFO_CONNS):
        await scope_now(session, user_id, agency_id)
    else:
        note_scope(session, agency_id)
        session.info[_INFO_PENDING_SCOPE] = (user_id, agency_id)


async def scope_now(
    session: AsyncSession, user_id: uuid.UUID | None, agency_id: uuid.UUID | None
) -> None:
    """Set the RLS context for the rest of this transaction (``SET LOCAL`` semantics)."""
    note_scope(session, agency_id)
    await session.execute(_SCOPE_SQL, _scope_params(user_id, agency_id))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(_INFO_WRITES, None)
    if pending:
        session.info.setdefault(_INFO_COMMITTED, set()).update(pending)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_INFO_WRITES, None)


_background: set[asyncio.Task[None]] = set()


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    for connection_info in session.info.pop(_INFO_CONNS, []):
        connection_info.pop(_CONN_TRACK, None)
    if session.info.get(_INFO_PUBLISHER) or not session.info.get(_INFO_COMMITTED):
        return
    # A session committed by code that does not await publish_writes (scripts, a mid-request
    # commit): bump in the background rather than not at all.
    scopes = session.info.pop(_INFO_COMMITTED)
    try:
        task = asyncio.get_running_loop().create_task(_bump(scopes))
    except RuntimeError:  # no event loop: nothing can have cached anything in this process
        return
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _bump(scopes: set[str]) -> None:
    from pms.redis_client import get_redis

    await generations.bump(get_redis(), scopes)


def _after_cursor_execute(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    info = conn.info.get(_CONN_TRACK)
    if info is None or cursor.rowcount == 0:
        return
    tables = written_tables(statement)
    if tables:
        info.setdefault(_INFO_WRITES, set()).update(_scopes(info, tables))


def note_scope(session: AsyncSession, agency_id: uuid.UUID | None, *, system: bool = False) -> None:
    """Record the RLS scope just set, so writes are attributed to the right generation."""
    session.info[_INFO_AGENCY] = agency_id
    if system:
        session.info[_INFO_SYSTEM] = True


def will_publish(session: AsyncSession) -> None:
    """The session's owner will await :func:`publish_writes` after each commit, so the reply
    that follows a write is never answered from a cache that predates it."""
    session.info[_INFO_PUBLISHER] = True


async def publish_writes(session: AsyncSession) -> None:
    """After a commit: bump the generations of what the committed transaction(s) wrote."""
    scopes = session.info.pop(_INFO_COMMITTED, None)
    if scopes:
        await _bump(scopes)


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


def create_engine(
    url: str, *, app_role: str | None, pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    """An engine whose every connection runs as ``app_role`` (no BYPASSRLS, not the owner),
    so row-level security applies to everything the application does."""
    server_settings = {"application_name": "pms", "timezone": "UTC"}
    if app_role:
        server_settings["role"] = app_role
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        json_serializer=_json_dumps,
        connect_args={"server_settings": server_settings},
    )
    event.listen(engine.sync_engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(engine.sync_engine.pool, "connect", _idle_from_now)
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


async def set_tenant(session: AsyncSession, agency_id: uuid.UUID | None) -> None:
    """Scope the current transaction to one agency for row-level security."""
    await session.execute(
        text("SELECT set_config('app.agency_id', :aid, true)"),
        {"aid": str(agency_id) if agency_id else ""},
    )
    note_scope(session, agency_id)


@asynccontextmanager
async def transaction(agency_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
    """A session in one transaction, committed on success, scoped to ``agency_id``; the
    generations of what it wrote are bumped after the commit."""
    async with get_sessionmaker()() as session:
        will_publish(session)
        async with session.begin():
            await set_tenant(session, agency_id)
            yield session
        await publish_writes(session)


async def enable_system_access(session: AsyncSession) -> None:
    """Declare this transaction a system job (outbox relay, scheduler sweeps): the tables whose
    policies allow it (``rls.tenant_table(system_access=True)``) show every agency's rows."""
    await session.execute(text("SELECT set_config('app.system', 'on', true)"))
    note_scope(session, None, system=True)


def plain_dsn(url: str) -> str:
    """The libpq-style URL asyncpg connects with, whatever driver name the setting carries."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(
    settings: Settings, channel: str, on_notify: Callable[[str], None]
) -> asyncpg.Connection:
    """A dedicated connection (as the application role) that calls ``on_notify(payload)`` for
    every NOTIFY on ``channel``. LISTEN needs a session of its own, so it is not pooled."""
    server_settings = {"application_name": f"pms-listen-{channel}", "timezone": "UTC"}
    if settings.db_app_role:
        server_settings["role"] = settings.db_app_role
    conn: asyncpg.Connection = await asyncpg.connect(
        plain_dsn(settings.require_database_url()), server_settings=server_settings, timeout=10
    )

    def callback(_: object, __: int, ___: str, payload: str) -> None:
        on_notify(payload)

    try:
        await conn.add_listener(channel, callback)
    except BaseException:
        await conn.close()
        raise
    return conn
