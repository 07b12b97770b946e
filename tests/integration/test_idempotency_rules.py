"""The Idempotency-Key rules of ``pms.api.idempotency``, one by one, on routes of the route class
every router uses, mounted on the real app (its database session per request, its problem
bodies) and counting how often their endpoint runs: a replay answers as the first request did
without running it again; the key is scoped to the caller, to the path, query and body; a 5xx, a
refusal or an expired key leaves the key free. (test_idempotency.py shows the same through the
API's own routes.)"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select, update

from pms import db
from pms.api.deps import DB
from pms.api.idempotency import TTL, IdempotentRoute
from pms.core.errors import Unprocessable
from pms.models.idempotency import IdempotencyRecord
from tests.factories import signup

runs: list[str] = []


async def make_thing(session: DB, body: dict[str, Any]) -> dict[str, Any]:
    runs.append("things")
    return {"run": len(runs), "got": body}


async def make_text(session: DB) -> PlainTextResponse:
    runs.append("text")
    return PlainTextResponse(f"run {len(runs)}", status_code=202)


async def make_nothing(session: DB) -> Response:
    runs.append("nothing")
    return Response(status_code=204)


async def fail(session: DB, status: int) -> JSONResponse:
    runs.append("fails")
    return JSONResponse({"error": "upstream"}, status_code=status)


async def refuse(session: DB, ok: bool = False) -> dict[str, int]:
    runs.append("refuses")
    if not ok:
        raise Unprocessable("not yet")
    return {"run": len(runs)}


async def upload(
    session: DB, note: Annotated[str, Form()], file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    runs.append("uploads")
    return {"run": len(runs), "note": note, "size": len(await file.read())}


async def read_things(session: DB) -> dict[str, int]:
    runs.append("get")
    return {"run": len(runs)}


async def guard(request: Request) -> None:
    """A route's own dependency (as a permission check is): it must still run on a POST."""
    runs.append("guard")
    if request.headers.get("X-Guard") != "open":
        raise Unprocessable("guarded")


def idempotent_router() -> APIRouter:
    """Built in the test (not at import), so that the route class itself is what is tested."""
    router = APIRouter(prefix="/test-idempotency", route_class=IdempotentRoute)
    router.add_api_route("/things", make_thing, methods=["POST"], status_code=201)
    router.add_api_route("/text", make_text, methods=["POST"])
    router.add_api_route("/fails", fail, methods=["POST"])
    router.add_api_route("/nothing", make_nothing, methods=["POST"], status_code=204)
    router.add_api_route("/refuses", refuse, methods=["POST"])
    router.add_api_route("/uploads", upload, methods=["POST"], status_code=201)
    router.add_api_route("/things", read_things, methods=["GET"])
    router.add_api_route("/guarded", make_text, methods=["POST"], dependencies=[Depends(guard)])
    return router


@pytest.fixture
async def api(app: Any, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    app.include_router(idempotent_router())
    runs.clear()
    yield client
    runs.clear()


def key(k: str, token: str | None = None) -> dict[str, str]:
    h = {"Idempotency-Key": k}
    if token:
        h["Authorization"] = f"Bearer {token}"
    return h


async def test_a_replay_answers_as_the_first_request_did_without_running_it_again(
    api: httpx.AsyncClient,
) -> None:
    first = await api.post("/test-idempotency/things", json={"a": 1}, headers=key("k1"))
    again = await api.post("/test-idempotency/things", json={"a": 1}, headers=key("k1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"run": 1, "got": {"a": 1}}
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    await api.post("/test-idempotency/text", headers=key("k2"))
    text_again = await api.post("/test-idempotency/text", headers=key("k2"))
    assert (text_again.status_code, text_again.text) == (202, "run 2")
    assert text_again.headers["content-type"].startswith("text/plain")
    assert runs == ["things", "text"]


async def test_an_answer_without_a_body_is_replayed_without_one(api: httpx.AsyncClient) -> None:
    first = await api.post("/test-idempotency/nothing", headers=key("n"))
    again = await api.post("/test-idempotency/nothing", headers=key("n"))
    assert first.status_code == again.status_code == 204
    assert again.headers["idempotent-replayed"] == "true"
    assert "content-type" not in first.headers
    assert "content-type" not in again.headers
    assert again.content == b""
    assert runs == ["nothing"]


async def test_without_a_key_or_on_a_get_every_request_runs(api: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await api.post("/test-idempotency/things", json={})).status_code == 201
        assert (await api.get("/test-idempotency/things", headers=key("g"))).status_code == 200
    assert runs == ["things", "get", "things", "get"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/test-idempotency/things", {"a": 2}, id="another-body"),
        pytest.param("/test-idempotency/things?x=1", {"a": 1}, id="another-query"),
        pytest.param("/test-idempotency/text", None, id="another-path"),
    ],
)
async def test_the_same_key_with_another_request_is_a_422(
    api: httpx.AsyncClient, path: str, body: dict[str, int] | None
) -> None:
    await api.post("/test-idempotency/things", json={"a": 1}, headers=key("k"))
    r = await api.post(path, json=body, headers=key("k"))
    assert r.status_code == 422
    assert r.json()["type"] == "/problems/idempotency-key-reused"
    assert r.json()["detail"] == "This Idempotency-Key was already used with a different request."
    assert runs == ["things"]


async def test_a_key_is_scoped_to_its_caller(api: httpx.AsyncClient) -> None:
    _, alice, _ = await signup(api)
    _, bob, _ = await signup(api)
    answers = [
        await api.post("/test-idempotency/things", json={}, headers=key("shared", token))
        for token in (alice, bob, None, alice, None)
    ]
    assert [r.json()["run"] for r in answers] == [1, 2, 3, 1, 3]
    assert [r.headers.get("idempotent-replayed") for r in answers] == [None] * 3 + ["true"] * 2
    async with db.get_sessionmaker()() as session:
        scopes = (await session.execute(select(IdempotencyRecord.scope))).scalars().all()
    assert sorted(s.split(":")[0] for s in scopes) == ["anonymous", "user", "user"]


@pytest.mark.parametrize(
    "raw", ["", "   ", "x" * 201, "tab\there"], ids=["empty", "blank", "too-long", "control"]
)
async def test_a_key_must_be_1_to_200_printable_characters(
    api: httpx.AsyncClient, raw: str
) -> None:
    r = await api.post("/test-idempotency/things", json={}, headers=key(raw))
    assert r.status_code == 422
    problem = r.json()
    assert problem["detail"] == "Idempotency-Key must be 1-200 printable characters."
    assert problem["errors"] == [{"field": "Idempotency-Key", "in": "header", "message": "invalid"}]
    assert runs == []


async def test_a_key_of_200_characters_around_spaces_is_the_same_key(
    api: httpx.AsyncClient,
) -> None:
    long_key = "k" * 200
    first = await api.post("/test-idempotency/things", json={}, headers=key(long_key))
    again = await api.post("/test-idempotency/things", json={}, headers=key(f"  {long_key} "))
    assert first.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert runs == ["things"]


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_failure_is_not_an_answer_so_the_retry_runs(
    api: httpx.AsyncClient, status: int
) -> None:
    for _ in range(2):
        r = await api.post(f"/test-idempotency/fails?status={status}", headers=key("f"))
        assert r.status_code == status
        assert "idempotent-replayed" not in r.headers
    assert runs == ["fails", "fails"]
    async with db.get_sessionmaker()() as session:
        assert (await session.execute(select(IdempotencyRecord))).first() is None


async def test_a_post_route_keeps_its_own_dependencies_beside_the_key(
    api: httpx.AsyncClient,
) -> None:
    refused = await api.post("/test-idempotency/guarded", headers=key("g"))
    assert refused.status_code == 422
    assert runs == ["guard"]
    opened = await api.post("/test-idempotency/guarded", headers={**key("g"), "X-Guard": "open"})
    assert opened.status_code == 202
    assert runs == ["guard", "guard", "text"]


async def test_a_refused_request_keeps_no_key_so_its_corrected_retry_runs(
    api: httpx.AsyncClient,
) -> None:
    refused = await api.post("/test-idempotency/refuses", headers=key("r"))
    assert refused.status_code == 422
    ok = await api.post("/test-idempotency/refuses?ok=true", headers=key("r"))
    assert ok.status_code == 200
    assert ok.json() == {"run": 2}


async def test_a_key_lives_24_hours_then_the_request_runs_again(api: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    await api.post("/test-idempotency/things", json={}, headers=key("old"))
    async with db.get_sessionmaker()() as session, session.begin():
        expires = (await session.execute(select(IdempotencyRecord.expires_at))).scalar_one()
        assert before + TTL <= expires <= datetime.now(UTC) + TTL
        await session.execute(
            update(IdempotencyRecord).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    again = await api.post("/test-idempotency/things", json={}, headers=key("old"))
    assert again.json()["run"] == 2
    assert "idempotent-replayed" not in again.headers
    replay = await api.post("/test-idempotency/things", json={}, headers=key("old"))
    assert replay.json()["run"] == 2


async def test_a_key_lives_24_hours_whatever_the_servers_time_zone(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        await api.post("/test-idempotency/things", json={}, headers=key("tz"))
    finally:
        monkeypatch.undo()
        time.tzset()
    async with db.get_sessionmaker()() as session:
        expires = (await session.execute(select(IdempotencyRecord.expires_at))).scalar_one()
    assert abs(expires - (datetime.now(UTC) + TTL)) < timedelta(minutes=5)


async def test_a_stored_key_without_an_answer_does_not_block_the_request(
    api: httpx.AsyncClient,
) -> None:
    await api.post("/test-idempotency/things", json={"a": 1}, headers=key("half"))
    async with db.get_sessionmaker()() as session, session.begin():
        await session.execute(update(IdempotencyRecord).values(status_code=None, body=None))
    # Even with another body: a row without an answer is not an answer.
    again = await api.post("/test-idempotency/things", json={"a": 2}, headers=key("half"))
    assert again.status_code == 201
    assert again.json() == {"run": 2, "got": {"a": 2}}


async def test_an_upload_is_the_same_request_only_with_the_same_fields_and_file(
    api: httpx.AsyncClient,
) -> None:
    async def send(
        note: str, name: str, content: bytes, kind: str = "text/plain"
    ) -> httpx.Response:
        return await api.post(
            "/test-idempotency/uploads",
            data={"note": note},
            files={"file": (name, content, kind)},
            headers=key("up"),
        )

    first = await send("n", "a.txt", b"hello")
    assert first.json() == {"run": 1, "note": "n", "size": 5}
    assert (await send("n", "a.txt", b"hello")).headers["idempotent-replayed"] == "true"
    for other in (
        send("m", "a.txt", b"hello"),
        send("n", "b.txt", b"hello"),
        send("n", "a.txt", b"hellO"),
        send("n", "a.txt", b"hello", "application/octet-stream"),
    ):
        assert (await other).status_code == 422
    assert runs == ["uploads"]
