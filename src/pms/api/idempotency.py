"""Idempotency-Key for every POST: the first response is stored for 24 hours and replayed; the
same key with another request is a 422; a retry while the first is still running is a 409."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pms.api.problems import problem
from pms.core.tokens import AUDIENCE, ISSUER
from pms.db import get_engine
from pms.models.idempotency import IdempotencyRecord
from pms.settings import get_settings

TTL = timedelta(hours=24)
_MAX_KEY = 200
_T: Table = IdempotencyRecord.__table__  # type: ignore[assignment]


def _principal(headers: dict[bytes, bytes]) -> str:
    """Keys are scoped to who sends them, so nobody can replay another caller's response."""
    raw = headers.get(b"authorization", b"").decode("latin-1")
    if not raw:
        return "anonymous"
    token = raw.partition(" ")[2]
    try:
        claims = jwt.decode(
            token,
            get_settings().secret_key.get_secret_value(),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
        )
        return f"user:{claims['sub']}"
    except (jwt.PyJWTError, KeyError):
        return "credential:" + hashlib.sha256(raw.encode()).hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key_raw = headers.get(b"idempotency-key")
        if key_raw is None:
            await self.app(scope, receive, send)
            return
        key = key_raw.decode("latin-1").strip()
        if not key or len(key) > _MAX_KEY or not key.isprintable():
            await problem(
                422,
                title="Invalid Idempotency-Key",
                detail=f"Idempotency-Key must be 1-{_MAX_KEY} printable characters.",
                type_="/problems/validation",
                errors=[{"field": "Idempotency-Key", "in": "header", "message": "invalid"}],
            )(scope, receive, send)
            return

        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        digest = hashlib.sha256(
            b"\0".join([scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        principal = _principal(headers)
        now = datetime.now(UTC)

        async with get_engine().begin() as conn:
            await conn.execute(
                delete(_T).where(_T.c.scope == principal, _T.c.key == key, _T.c.expires_at <= now)
            )
            inserted = (
                await conn.execute(
                    insert(_T)
                    .values(scope=principal, key=key, request_hash=digest, expires_at=now + TTL)
                    .on_conflict_do_nothing()
                    .returning(_T.c.key)
                )
            ).first()
            existing = None
            if inserted is None:
                existing = (
                    await conn.execute(select(_T).where(_T.c.scope == principal, _T.c.key == key))
                ).first()

        if existing is not None:
            if existing.request_hash != digest:
                await problem(
                    422,
                    title="Idempotency-Key reused",
                    detail="This Idempotency-Key was already used with a different request.",
                    type_="/problems/idempotency-key-reused",
                )(scope, receive, send)
            elif existing.status_code is None:
                await problem(
                    409,
                    title="Request in progress",
                    detail="A request with this Idempotency-Key is still being processed.",
                    type_="/problems/idempotency-in-progress",
                    headers={"Retry-After": "1"},
                )(scope, receive, send)
            else:
                await send(
                    {
                        "type": "http.response.start",
                        "status": existing.status_code,
                        "headers": [
                            (b"content-type", (existing.content_type or "").encode()),
                            (b"idempotent-replayed", b"true"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": existing.body or b""})
            return

        sent_body = False

        async def replay_body() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        content_type = ""
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for k, v in message.get("headers", []):
                    if k.lower() == b"content-type":
                        content_type = v.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            async with get_engine().begin() as conn:
                where = (_T.c.scope == principal, _T.c.key == key)
                if status >= 500:
                    # A failure is not an answer: let the client retry with the same key.
                    await conn.execute(delete(_T).where(*where))
                else:
                    await conn.execute(
                        update(_T)
                        .where(*where)
                        .values(
                            status_code=status, content_type=content_type, body=b"".join(chunks)
                        )
                    )
