"""Statements of the busiest requests, compiled once and sent straight to the driver.

``AsyncSession.execute`` costs about 130 µs of Python per statement on top of the driver's
60-70 µs (measured on the membership lookup: 195 µs against 68 µs), for work these statements
do not need: a cache lookup for their compiled form, the ORM's execution hooks, a result object
built for every execution. Every authenticated request runs two such statements and a booking
create five, so a `Prepared` statement is a Core statement (no ORM entity, see
`pms.models.plain`) compiled once per dialect, whose values go through the same conversions
SQLAlchemy would apply (each bind parameter's and result column's type processors) and which
runs on the session's own connection, in its transaction:

- the transaction is begun first if the session has not begun it on the database yet (the
  asyncpg adapter begins it with the first statement);
- a database error is raised as SQLAlchemy raises it (``IntegrityError``, ``DBAPIError`` with
  the driver's error as ``orig``), and a lost connection is invalidated as SQLAlchemy would;
- ORM changes pending in the session are flushed first, as autoflush would flush them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_Processor = Callable[[Any], Any] | None


class _Compiled:
    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a Prepared statement takes no values rendered at execution")
        self.sql = str(compiled)
        names = compiled.positiontup or []
        binds = compiled.binds
        if any(binds[name].callable is not None for name in names):
            raise ValueError("a Prepared statement takes no values computed at execution")
        self.defaults = {name: binds[name].value for name in names if not binds[name].required}
        self.names = tuple(names)
        self.binds = tuple(
            binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        )
        self.dialect = dialect
        self.result_types = tuple(
            column.type.dialect_impl(dialect) for column in compiled._result_columns
        )
        # Some processors depend on the type the server sends (a numeric's): known once the
        # statement has been prepared (`results_for`).
        self.results: tuple[_Processor, ...] | None = None if self.result_types else ()

    async def results_for(self, driver: Any) -> tuple[_Processor, ...]:
        if self.results is None:
            statement = await driver.prepare(self.sql)
            oids = [a.type.oid for a in statement.get_attributes()]
            self.results = tuple(
                t.result_processor(self.dialect, oid)
                for t, oid in zip(self.result_types, oids, strict=True)
            )
        return self.results


class Prepared:
    """A Core statement run on the session's driver connection (see the module's text)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = _Compiled(self.statement, dialect)
        return compiled

    async def execute(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """The statement's rows (none for one that returns nothing), its values converted as
        SQLAlchemy converts them."""
        if session.new or session.dirty or session.deleted:
            await session.flush()
        connection, adapter = await _connection_of(session)
        dialect = connection.dialect
        compiled = self._for(dialect)
        values = compiled.defaults | dict(params or {})
        args = [
            value if process is None else process(value)
            for value, process in zip(
                (values.get(name) for name in compiled.names), compiled.binds, strict=True
            )
        ]
        driver = adapter.driver_connection
        async with adapter._execute_mutex:
            try:
                if adapter._transaction is None:
                    await adapter._start_transaction()
                results = compiled.results
                if results is None:
                    results = await compiled.results_for(driver)
                records = await driver.fetch(compiled.sql, *args)
            except Exception as error:  # noqa: BLE001 - each is raised again, as SQLAlchemy's
                await _raise_as_sqlalchemy(connection, adapter, compiled.sql, args, error)
        if not any(results):
            return [tuple(r) for r in records]
        return [
            tuple(v if p is None else p(v) for v, p in zip(r, results, strict=True))
            for r in records
        ]


_CONNECTION = "pms.prepared.connection"  # session.info: (transaction, connection, adapter)


def _innermost(session: AsyncSession) -> Any:
    sync = session.sync_session
    return sync.get_nested_transaction() or sync.get_transaction()


async def _connection_of(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection and its DB-API adapter, looked up once per transaction. (Per
    innermost transaction: asking for the connection is what makes SQLAlchemy emit a pending
    savepoint's SAVEPOINT, so a statement in ``begin_nested`` must ask again.)"""
    known = session.info.get(_CONNECTION)
    if known is not None and known[0] is _innermost(session):
        return known[1], known[2]
    connection = await session.connection()
    adapter = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    session.info[_CONNECTION] = (_innermost(session), connection, adapter)
    return connection, adapter


async def _raise_as_sqlalchemy(
    connection: Any, adapter: Any, sql: str, args: Sequence[Any], error: Exception
) -> NoReturn:
    """Raise ``error`` as SQLAlchemy's execution raises it: the adapter's DB-API error wrapped
    in SQLAlchemy's class for it, the connection invalidated when it was lost."""
    dialect: Dialect = connection.dialect
    try:
        adapter._handle_exception(error)
    except Exception as dbapi_error:  # noqa: BLE001 - the adapter's translation, raised again
        lost = isinstance(dbapi_error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
            dbapi_error, adapter, None
        )
        if lost:
            await connection.invalidate(dbapi_error)
        raise sa_exc.DBAPIError.instance(
            sql,
            list(args),
            dbapi_error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error
    raise AssertionError("unreachable: the adapter raises every error it handles")
