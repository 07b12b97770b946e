"""What FeWo-direkt/Vrbo calls on us, per connection and behind the connection's Basic
credentials: the feeds it pulls (advertisers index, the four content indexes, the content
documents, the booking-update feed), with ETag/Last-Modified and 304s; and the real-time quote,
booking and booking-update requests, answered at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from pms.api.deps import DB, AppSettings
from pms.api.responses import Responses
from pms.channel import vrbo_booking, vrbo_feeds
from pms.channel.adapters import vrbo
from pms.channel.ical.render import not_modified
from pms.core.errors import Unprocessable

router = APIRouter(prefix="/channels/fewo_direkt/{connection_id}", tags=["channels: vrbo"])
_basic = HTTPBasic(auto_error=False)
Basic = Annotated[HTTPBasicCredentials | None, Depends(_basic)]
XML = "application/xml"
_AUTH: Responses = {
    401: {"description": "Missing or wrong feed credentials (or not this connection's)"}
}
_FEED: Responses = {
    200: {"content": {XML: {}}, "description": "The XML document"},
    304: {"description": "Unchanged since the ETag or date you sent"},
    404: {"description": "No such feed or listing"},
    **_AUTH,
}


class BadXml(Unprocessable):
    status = 400
    code = "bad-request"
    title = "Bad request"


class _Conditional:
    """A document as ``not_modified`` reads it."""

    def __init__(self, doc: vrbo_feeds.Document) -> None:
        self.etag = f'"{doc.etag}"'
        self.last_modified: datetime | None = doc.updated_at


def _answer(
    doc: vrbo_feeds.Document, if_none_match: str | None, if_modified_since: str | None
) -> tuple[dict[str, str], bool]:
    """The validators to send for ``doc``, and whether the caller's copy is current."""
    cond = _Conditional(doc)
    headers = {"ETag": cond.etag, "Cache-Control": "private, max-age=0, must-revalidate"}
    now = datetime.now(UTC)
    # Whole-second HTTP dates: only sent once their second is over (see the iCal feed).
    if doc.updated_at < now.replace(microsecond=0):
        headers["Last-Modified"] = format_datetime(doc.updated_at.astimezone(UTC), usegmt=True)
    elif if_none_match is None:
        if_modified_since = None
    current = not_modified(cond, if_none_match=if_none_match, if_modified_since=if_modified_since)  # type: ignore[arg-type]
    return headers, current


def _xml(
    doc: vrbo_feeds.Document, if_none_match: str | None, if_modified_since: str | None
) -> Response:
    headers, current = _answer(doc, if_none_match, if_modified_since)
    if current:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    assert doc.body is not None, "documents without a body are only answered with a 304"
    return Response(doc.body, media_type=XML, headers=headers)


def _base(request: Request, connection_id: uuid.UUID) -> str:
    """Links follow the address Vrbo called us at (so one deployment serves any host name)."""
    root = str(request.base_url).rstrip("/")
    return f"{root}/api/v1/channels/fewo_direkt/{connection_id}/feeds"


async def _caller(
    session: DB, settings: AppSettings, connection_id: uuid.UUID, basic: Basic
) -> vrbo_feeds.Caller:
    if basic is None:
        raise vrbo_feeds.refused()
    return await vrbo_feeds.authorize(
        session, settings, connection_id, basic.username, basic.password
    )


@dataclass(frozen=True)
class FeedCall:
    """A feed request Vrbo made with this connection's credentials: who called, where the
    feed's links point, and the validators of the copy Vrbo holds."""

    caller: vrbo_feeds.Caller
    base: str
    if_none_match: str | None
    if_modified_since: str | None

    def current(self, doc: vrbo_feeds.Document) -> bool:
        """Vrbo's copy is ``doc`` as it is."""
        return _answer(doc, self.if_none_match, self.if_modified_since)[1]

    def answer(self, doc: vrbo_feeds.Document) -> Response:
        """The document, or a 304 where Vrbo's copy is current."""
        return _xml(doc, self.if_none_match, self.if_modified_since)


async def _feed_call(
    connection_id: uuid.UUID,
    request: Request,
    session: DB,
    settings: AppSettings,
    basic: Basic,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> FeedCall:
    caller = await _caller(session, settings, connection_id, basic)
    return FeedCall(caller, _base(request, connection_id), if_none_match, if_modified_since)


Feed = Annotated[FeedCall, Depends(_feed_call)]


@router.get(
    "/feeds/advertisersContentIndex",
    summary="Vrbo feed: the advertisers content index (links to the four indexes)",
    response_class=Response,
    responses=_FEED,
)
async def advertisers_index(feed: Feed) -> Response:
    return feed.answer(vrbo_feeds.advertisers(feed.caller, feed.base))


@router.get(
    "/feeds/{index_name}",
    summary="Vrbo feed: a content index (each listing's document URL and lastUpdatedDate)",
    response_class=Response,
    responses=_FEED,
)
async def content_index(
    index_name: str, feed: Feed, session: DB, settings: AppSettings
) -> Response:
    return feed.answer(
        await vrbo_feeds.index(session, settings, feed.caller, index_name, feed.base)
    )


@router.get(
    "/feeds/{kind}/{listing_id}",
    summary="Vrbo feed: one listing's content, configuration, rates or availability",
    response_class=Response,
    responses=_FEED,
)
async def content(
    kind: str, listing_id: str, feed: Feed, session: DB, settings: AppSettings
) -> Response:
    connection = feed.caller.connection
    # Unchanged inputs: the stored ETag and date answer a conditional GET without building.
    [(_, doc)] = await vrbo_feeds.documents(session, settings, connection, kind, listing_id)
    if doc.body is None and not feed.current(doc):
        [(_, doc)] = await vrbo_feeds.documents(
            session, settings, connection, kind, listing_id, build=True
        )
    return feed.answer(doc)


@router.get(
    "/booking-updates",
    summary="Vrbo feed: our changes, confirmations and cancellations of Vrbo bookings",
    response_class=Response,
    responses={200: {"content": {XML: {}}}, **_AUTH},
)
async def booking_updates(
    connection_id: uuid.UUID,
    session: DB,
    settings: AppSettings,
    basic: Basic,
    since: Annotated[datetime | None, Query(description="Only changes after this time")] = None,
) -> Response:
    caller = await _caller(session, settings, connection_id, basic)
    if since is not None and since.tzinfo is None:
        raise Unprocessable(
            "since needs a time zone.",
            errors=[{"field": "since", "in": "query", "message": "e.g. 2026-12-01T10:00:00Z"}],
        )
    found = await vrbo_booking.updates(session, caller, since)
    return Response(vrbo.render(vrbo.booking_updates(found)), media_type=XML)


@router.post(
    "/booking",
    summary="Vrbo real-time quoteRequest, bookingRequest or bookingUpdateRequest",
    response_class=Response,
    responses={
        200: {
            "content": {XML: {}},
            "description": "The answer, or the documented failure (errorList) on a clash",
        },
        400: {"description": "Not a request we can read"},
        **_AUTH,
    },
)
async def booking_request(
    connection_id: uuid.UUID, request: Request, session: DB, settings: AppSettings, basic: Basic
) -> Response:
    caller = await _caller(session, settings, connection_id, basic)
    body = await request.body()
    try:
        req = vrbo.read_request(body)
    except vrbo.BadRequest as exc:
        raise BadXml(f"Vrbo request refused: {exc}.") from None
    try:
        if req.kind == "quoteRequest":
            answer = await vrbo_booking.quote(session, caller, req)
        elif req.kind == "bookingRequest":
            answer = await vrbo_booking.book(session, caller, req)
        else:
            answer = await vrbo_booking.update(session, caller, req)
    except vrbo_booking.Refusal as exc:
        answer = vrbo.failure(req, req.kind, caller.advertiser, exc.code, exc.message)
    return Response(answer, media_type=XML)
