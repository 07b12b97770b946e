"""`pms.prepared`: a statement sent straight to the driver behaves as ``session.execute`` would:
in the session's transaction, with the same conversions both ways, the same errors."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pms import db
from pms.core.booking_status import BookingStatus
from pms.models.agency import Agency
from pms.models.booking import Booking
from pms.models.property import Property
from pms.prepared import Prepared
from pms.settings import Settings

_PROBE = Table(
    "prepared_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("status", Booking.__table__.c.status.type),
    Column("doc", Booking.__table__.c.quote.type),
    Column("amount", Property.__table__.c.latitude.type),
)
_CREATE_PROBE = text(
    "CREATE TEMPORARY TABLE prepared_probe "
    "(id int PRIMARY KEY, status booking_status, doc jsonb, amount numeric(9, 6))"
)
_WRITE = Prepared(
    insert(_PROBE)
    .values(
        id=bindparam("id", type_=Integer),
        status=bindparam("status", type_=_PROBE.c.status.type),
        doc=bindparam("doc", type_=_PROBE.c.doc.type),
        amount=bindparam("amount", type_=_PROBE.c.amount.type),
    )
    .returning(_PROBE.c.id, _PROBE.c.status, _PROBE.c.doc, _PROBE.c.amount)
)
_READ = select(_PROBE.c.id, _PROBE.c.status, _PROBE.c.doc, _PROBE.c.amount).order_by(_PROBE.c.id)
_SETTING = Prepared(select(func.set_config("app.prepared_probe", bindparam("value"), True)))


async def _session_with_probe(session: AsyncSession) -> None:
    await session.execute(_CREATE_PROBE)


async def test_the_first_statement_of_a_transaction_runs_inside_it(settings: Settings) -> None:
    # The asyncpg adapter begins the transaction with its first statement; a Prepared one that
    # comes first must begin it too, or a setting made "for the transaction" would be gone.
    async with db.get_sessionmaker()() as session, session.begin():
        assert await _SETTING.execute(session, {"value": "inside"}) == [("inside",)]
        seen = await session.scalar(text("SELECT current_setting('app.prepared_probe', true)"))
        assert seen == "inside"
    async with db.get_sessionmaker()() as session, session.begin():
        gone = await session.scalar(text("SELECT current_setting('app.prepared_probe', true)"))
        assert gone in (None, "")


async def test_values_are_converted_both_ways_as_sqlalchemy_converts_them(
    settings: Settings,
) -> None:
    doc: dict[str, Any] = {"total": {"amount_minor": 24000, "currency": "EUR"}, "lines": []}
    async with db.get_sessionmaker()() as session, session.begin():
        await _session_with_probe(session)
        written = await _WRITE.execute(
            session,
            {"id": 1, "status": BookingStatus.HOLD, "doc": doc, "amount": Decimal("52.520008")},
        )
        assert written == [(1, BookingStatus.HOLD, doc, Decimal("52.520008"))]
        assert isinstance(written[0][1], BookingStatus)
        # What the ORM's own execution reads back is the same, value for value.
        assert [tuple(r) for r in (await session.execute(_READ)).all()] == written


async def test_database_errors_are_raised_as_sqlalchemy_raises_them(settings: Settings) -> None:
    values = {"id": 1, "status": BookingStatus.HOLD, "doc": None, "amount": None}
    async with db.get_sessionmaker()() as session:
        async with session.begin():
            await _session_with_probe(session)
            await _WRITE.execute(session, values)
        with pytest.raises(IntegrityError) as clash:
            async with session.begin():
                await _WRITE.execute(session, values)
        assert getattr(clash.value.orig, "sqlstate", None) == "23505"
        assert "prepared_probe_pkey" in str(clash.value.orig)
        # The transaction was rolled back; the session goes on with a new one.
        async with session.begin():
            assert (await session.execute(text("SELECT 1"))).scalar() == 1
    # Any other error: the class SQLAlchemy's own execution raises, the same SQLSTATE.
    division = select(bindparam("n", type_=Integer) / bindparam("d", type_=Integer))
    async with db.get_sessionmaker()() as session, session.begin():
        with pytest.raises(DBAPIError) as by_sqlalchemy:
            await session.execute(division, {"n": 1, "d": 0})
    async with db.get_sessionmaker()() as session, session.begin():
        with pytest.raises(DBAPIError) as by_prepared:
            await Prepared(division).execute(session, {"n": 1, "d": 0})
    assert type(by_prepared.value) is type(by_sqlalchemy.value)
    assert type(by_prepared.value.orig) is type(by_sqlalchemy.value.orig)
    assert getattr(by_prepared.value.orig, "sqlstate", None) == "22012"


async def test_pending_orm_changes_are_written_first(settings: Settings) -> None:
    agency_id = uuid.uuid4()
    count = Prepared(select(func.count()).where(Agency.__table__.c.id == bindparam("agency")))
    async with db.get_sessionmaker()() as session, session.begin():
        await db.system_access(session)
        session.add(Agency(id=agency_id, name="Prepared Holidays", slug=f"p-{agency_id.hex[:8]}"))
        assert await count.execute(session, {"agency": agency_id}) == [(1,)]
        await session.rollback()


async def test_a_lost_connection_is_invalidated_as_sqlalchemy_invalidates_it(
    settings: Settings, admin: asyncpg.Connection
) -> None:
    # The API answers 503 "database unavailable" to such an error (`connection_invalidated`),
    # and the pool must not hand the dead connection out again.
    backend = Prepared(select(func.pg_backend_pid()))
    async with db.get_sessionmaker()() as session:
        await session.begin()
        ((pid,),) = await backend.execute(session)
        assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)  # gone when true
        with pytest.raises(DBAPIError) as lost:
            await backend.execute(session)
        assert lost.value.connection_invalidated
        await session.rollback()
    async with db.get_sessionmaker()() as session, session.begin():
        assert (await session.execute(text("SELECT 1"))).scalar() == 1


async def test_each_transaction_of_a_session_runs_its_own_statements(settings: Settings) -> None:
    # The connection is looked up once per transaction: the next transaction of the same
    # session must begin again (on whichever connection the pool hands out).
    read = Prepared(select(func.current_setting("app.prepared_probe", True)))
    async with db.get_sessionmaker()() as session:
        async with session.begin():
            await _SETTING.execute(session, {"value": "first"})
            assert await read.execute(session) == [("first",)]
        async with session.begin():
            assert await read.execute(session) in ([(None,)], [("",)])
            await _SETTING.execute(session, {"value": "second"})
            seen = await session.scalar(text("SELECT current_setting('app.prepared_probe', true)"))
            assert seen == "second"


async def test_an_error_inside_a_savepoint_undoes_only_the_savepoint(settings: Settings) -> None:
    # The inventory guard runs the create in a savepoint and answers the clash from the same
    # transaction; the statement must run inside that savepoint, not beside it.
    values = {"id": 1, "status": BookingStatus.HOLD, "doc": None, "amount": None}
    async with db.get_sessionmaker()() as session, session.begin():
        await _session_with_probe(session)
        await _WRITE.execute(session, values)
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await _WRITE.execute(session, values)
        assert (await session.execute(text("SELECT count(*) FROM prepared_probe"))).scalar() == 1
        await _WRITE.execute(session, values | {"id": 2})
        assert (await session.execute(text("SELECT count(*) FROM prepared_probe"))).scalar() == 2
