"""Idempotency-Key on every POST, stored in the transaction of the change it answers.

The key's row is inserted at the start of the request's own transaction and its response is
written into it just before that transaction commits. So a committed change always has its
stored response, and a request that did not commit (an error, a lost connection, a killed
process) leaves no key behind: the client's retry simply runs again. A retry that arrives
while the first request is still running waits on the first's uncommitted row (PostgreSQL's
unique index), then replays its answer, or runs itself if the first rolled back.

Keys are scoped to the caller (the user behind the bearer token, as ``deps.caller`` resolved
it; a replay therefore needs a session that is still valid), so nobody replays another
caller's response. The same key with another request is a 422.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pms.api.deps import DB, caller
from pms.core.errors import Unprocessable
from pms.models.idempotency import IdempotencyRecord

TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"
_MAX_KEY = 200
_T: Table = IdempotencyRecord.__table__  # type: ignore[assignment]
_PENDING = "idempotency"  # request.state: (scope, key) whose response is to be stored


class KeyReused(Unprocessable):
    code = "idempotency-key-reused"
    title = "Idempotency-Key reused"


class Replay(Exception):
    """The stored response of an earlier request with the same key (answered as it was)."""

    def __init__(self, status_code: int, content_type: str, body: bytes) -> None:
        super().__init__(status_code)
        self.response = Response(
            body,
            status_code=status_code,
            media_type=content_type or None,
            headers={"Idempotent-Replayed": "true"},
        )


def _valid_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > _MAX_KEY or not key.isprintable():
        raise Unprocessable(
            f"Idempotency-Key must be 1-{_MAX_KEY} printable characters.",
            errors=[{"field": HEADER, "in": "header", "message": "invalid"}],
        )
    return key


async def _claim(request: Request, session: DB) -> None:
    """Claim the request's Idempotency-Key (if it sent one) in the request's transaction, or
    replay the response stored under it."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return
    key = _valid_key(raw)
    who = await caller(request, session)
    scope = f"user:{who.user.id}" if who is not None else "anonymous"
    body = await _body_of(request)
    digest = hashlib.sha256(
        b"\0".join([request.url.path.encode(), request.url.query.encode(), body])
    ).hexdigest()
    now = datetime.now(UTC)
    where = (_T.c.scope == scope, _T.c.key == key)
    await session.execute(delete(_T).where(*where, _T.c.expires_at <= now))
    claimed = await _insert(session, scope, key, digest, now)
    if not claimed:
        existing = (await session.execute(select(_T).where(*where))).first()
        if existing is None or existing.status_code is None:
            # Expired meanwhile, or a row without an answer (written before responses were
            # stored with their change): not an answer, so this request runs.
            await session.execute(delete(_T).where(*where))
            claimed = await _insert(session, scope, key, digest, now)
        elif existing.request_hash != digest:
            raise KeyReused("This Idempotency-Key was already used with a different request.")
        else:
            raise Replay(existing.status_code, existing.content_type or "", existing.body or b"")
    if claimed:
        request.state.__setattr__(_PENDING, (scope, key))


async def _body_of(request: Request) -> bytes:
    """The request's body as sent; for a form FastAPI has already parsed (an upload), its
    fields and files in order, since the raw stream is consumed by then."""
    try:
        return await request.body()
    except RuntimeError:
        pass
    parts: list[bytes] = []
    for name, value in (await request.form()).multi_items():
        parts.append(name.encode())
        if isinstance(value, str):
            parts.append(value.encode())
        else:
            parts += [(value.filename or "").encode(), (value.content_type or "").encode()]
            parts.append(await value.read())
            await value.seek(0)
    return b"\0".join(parts)


async def _insert(session: AsyncSession, scope: str, key: str, digest: str, now: datetime) -> bool:
    inserted = await session.execute(
        insert(_T)
        .values(scope=scope, key=key, request_hash=digest, expires_at=now + TTL)
        .on_conflict_do_nothing()
        .returning(_T.c.key)
    )
    return inserted.first() is not None


async def _store(request: Request, response: Response) -> None:
    """Write the response into the claimed key's row, in the transaction about to commit."""
    pending: tuple[str, str] | None = getattr(request.state, _PENDING, None)
    if pending is None:
        return
    scope, key = pending
    session: AsyncSession = request.state.db
    where = (_T.c.scope == scope, _T.c.key == key)
    if response.status_code >= 500:
        # A failure is not an answer: the client may retry with the same key.
        await session.execute(delete(_T).where(*where))
        return
    await session.execute(
        update(_T)
        .where(*where)
        .values(
            status_code=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=bytes(response.body),
        )
    )


class IdempotentRoute(APIRoute):
    """The route class of every router: a POST claims its Idempotency-Key before the endpoint
    runs and stores its response before the request's transaction commits."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods: Sequence[str] = kwargs.get("methods") or ()
        if "POST" in {m.upper() for m in methods}:
            kwargs["dependencies"] = [Depends(_claim), *(kwargs.get("dependencies") or [])]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        if "POST" not in (self.methods or ()):
            return handle

        async def handle_and_store(request: Request) -> Response:
            response = await handle(request)
            await _store(request, response)
            return response

        return handle_and_store


async def _replay(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    return exc.response


def install(app: FastAPI) -> None:
    app.add_exception_handler(Replay, _replay)
