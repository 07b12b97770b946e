"""Booking.com's paths (``/booking/...``) and the simulator's extra control routes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from pms.sandbox import ota, xmlsafe
from pms.sandbox.booking.accounts import Account
from pms.sandbox.booking.ari import Outcome, Refused, apply_avail, apply_rates, expect_root
from pms.sandbox.booking.reservations import Queue, render_into
from pms.sandbox.booking.simulator import AuthFailed, BookingSimulator
from pms.sandbox.control import ControlError
from pms.sandbox.days import nights
from pms.sandbox.faults import FaultInjection
from pms.sandbox.ota import OtaError, q

XML = "application/xml"
Handler = Callable[[Account, bytes], Awaitable[Response]]


def xml_response(
    element: ET.Element, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(ota.render(element, ruid=True), status, headers, media_type=XML)


def error_response(
    sim: BookingSimulator,
    rs_name: str,
    status: int,
    errors: list[OtaError],
    headers: dict[str, str] | None = None,
) -> Response:
    rs = ota.root(rs_name, sim.clock.now(), Target="Test", Version="1.0")
    ota.add_errors(rs, errors)
    return xml_response(rs, status, headers)


def outcome_response(sim: BookingSimulator, rs_name: str, outcome: Outcome) -> Response:
    """Success or Errors, never both; 200 if at least one message was applied, else 400."""
    if not outcome.errors:
        rs = ota.root(rs_name, sim.clock.now(), Target="Test", Version="1.0")
        ET.SubElement(rs, "Success")
        return xml_response(rs)
    return error_response(sim, rs_name, 200 if outcome.applied else 400, outcome.errors)


class TokenRequest(BaseModel):
    client_id: str
    client_secret: str


def create_booking_app(sim: BookingSimulator) -> Any:
    app = FastAPI(title="Booking.com (sandbox)", redirect_slashes=False, openapi_url=None)

    async def guarded(request: Request, rs_name: str, handler: Handler) -> Response:
        try:
            account = sim.authenticate(request.headers.get("authorization"))
        except AuthFailed:
            return error_response(
                sim,
                rs_name,
                401,
                [
                    OtaError(
                        4,
                        497,
                        "Authentication failed",
                        "Authentication failed. Please check your credentials.",
                    )
                ],
                {"WWW-Authenticate": 'Bearer realm="supply-xml"'},
            )
        injected = await sim.overrides.fault(account.username, request.method, request.url.path)
        if injected is not None:
            failure = (
                OtaError(4, 497, "Authentication failed", injected.message)
                if injected.status == 401
                else OtaError(12, 448, "System error", injected.message)
            )
            headers = (
                {"Retry-After": str(injected.retry_after_s)} if injected.status == 429 else None
            )
            return error_response(sim, rs_name, injected.status, [failure], headers)
        if (wait := sim.overrides.hit(account.username, sim.limiter)) is not None:
            return error_response(
                sim,
                rs_name,
                429,
                [OtaError(12, 450, "Too many requests", f"Rate limit exceeded; retry in {wait}s")],
                {"Retry-After": str(wait)},
            )
        try:
            return await handler(account, await request.body())
        except xmlsafe.MalformedXml as exc:
            return error_response(sim, rs_name, 400, [OtaError(7, 450, "MALFORMED_XML", str(exc))])
        except Refused as exc:
            return error_response(sim, rs_name, exc.status, exc.errors)

    @app.post("/token-based-authentication/exchange")
    async def exchange(request: Request) -> Response:
        try:
            body = TokenRequest.model_validate_json(await request.body())
        except ValidationError:
            return JSONResponse(
                {"errors": [{"message": "client_id and client_secret required"}]}, 400
            )
        if (wait := sim.token_limiter.hit(body.client_id)) is not None:
            return JSONResponse(
                {"errors": [{"message": "At most 30 tokens per hour"}]},
                429,
                {"Retry-After": str(wait)},
            )
        try:
            token = sim.exchange(body.client_id, body.client_secret)
        except AuthFailed:
            return JSONResponse({"errors": [{"message": "Invalid client credentials"}]}, 401)
        return JSONResponse({"jwt": token, "expires_in": 3600})

    @app.post("/hotels/ota/OTA_HotelAvailNotif")
    async def avail_notif(request: Request) -> Response:
        async def handle(account: Account, body: bytes) -> Response:
            outcome = apply_avail(
                xmlsafe.parse(body), account, sim.hotels, sim.calendar, sim.today_cet()
            )
            return outcome_response(sim, "OTA_HotelAvailNotifRS", outcome)

        return await guarded(request, "OTA_HotelAvailNotifRS", handle)

    @app.post("/hotels/ota/OTA_HotelRateAmountNotif")
    async def rate_amount_notif(request: Request) -> Response:
        async def handle(account: Account, body: bytes) -> Response:
            outcome = apply_rates(
                xmlsafe.parse(body), account, sim.hotels, sim.calendar, sim.today_cet()
            )
            return outcome_response(sim, "OTA_HotelRateAmountNotifRS", outcome)

        return await guarded(request, "OTA_HotelRateAmountNotifRS", handle)

    def pull_route(queue: Queue, rq_name: str, rs_name: str, container: str, element: str) -> None:
        path = f"/hotels/ota/{rq_name.removesuffix('RQ')}"

        @app.get(path, name=f"pull_{queue}")
        async def pull(request: Request) -> Response:
            async def handle(account: Account, _: bytes) -> Response:
                params = request.query_params
                hotel_ids = (
                    {h for h in params["hotel_ids"].split(",") if h}
                    if "hotel_ids" in params
                    else None
                )
                if "id" in params and "hotel_ids" not in params:
                    # Documented: a single reservation is asked for together with its hotel.
                    raise Refused(
                        400, [OtaError(3, 321, "HOTEL_IDS_MISSING", "id needs hotel_ids")]
                    )
                limit = params.get("limit")
                if limit is not None and not limit.isdigit():
                    raise Refused(400, [OtaError(3, 320, "INVALID_LIMIT", "limit: a number")])
                found = sim.pull(
                    account, queue, hotel_ids, params.get("id"), int(limit) if limit else None
                )
                rq = ota.root(rq_name, sim.clock.now(), Target="Test", Version="2.001")
                holder = ET.SubElement(rq, container)
                for res in found:
                    render_into(holder, res, element)
                return xml_response(rq)

            return await guarded(request, rs_name, handle)

        @app.post(path, name=f"ack_{queue}")
        async def ack(request: Request) -> Response:
            async def handle(account: Account, body: bytes) -> Response:
                root = xmlsafe.parse(body)
                expect_root(root, rs_name)
                ids = [el.get("ResID_Value", "") for el in root.iter(q("HotelReservationID"))]
                if not ids or not all(ids):
                    raise Refused(
                        400,
                        [
                            OtaError(
                                10,
                                321,
                                "RESID_VALUE_MISSING",
                                "No HotelReservationID@ResID_Value to ack",
                            )
                        ],
                    )
                # [GUESS] an RS carrying Errors is a negative ack: the messages stay queued.
                if root.find(q("Errors")) is None:
                    if root.find(q("Success")) is None:
                        raise Refused(
                            400,
                            [
                                OtaError(
                                    10, 321, "SUCCESS_MISSING", "An ack needs Success (or Errors)"
                                )
                            ],
                        )
                    sim.ack(account, queue, ids)
                rs = ota.root(rs_name, sim.clock.now(), Target="Test", Version="2.001")
                ET.SubElement(rs, "Success")
                return xml_response(rs)

            return await guarded(request, rs_name, handle)

    pull_route(
        "new", "OTA_HotelResNotifRQ", "OTA_HotelResNotifRS", "HotelReservations", "HotelReservation"
    )
    pull_route(
        "modify",
        "OTA_HotelResModifyNotifRQ",
        "OTA_HotelResModifyNotifRS",
        "HotelResModifies",
        "HotelResModify",
    )

    @app.post("/hotels/xml/roomrateavailability")
    async def room_rate_availability(request: Request) -> Response:
        async def handle(account: Account, body: bytes) -> Response:
            root = xmlsafe.parse(body)
            hotel_id = (root.findtext("hotel_id") or "").strip()
            days_text = (root.findtext("number_of_days") or "").strip()
            if root.tag != "request" or not hotel_id or not days_text.isdigit():
                raise Refused(
                    400,
                    [
                        OtaError(
                            10,
                            321,
                            "INVALID_REQUEST",
                            "<request> needs hotel_id and number_of_days",
                        )
                    ],
                )
            if hotel_id not in account.hotel_ids:
                raise Refused(403, [OtaError(6, 497, "Access denied for hotel", hotel_id)])
            number = min(int(days_text), 366)
            start_text = root.findtext("start_date")
            try:
                start = xmlsafe.parse_date(start_text) if start_text else sim.today_cet()
            except ValueError as exc:
                raise Refused(400, [OtaError(3, 15, "NOT_A_VALID_DATE", str(exc))]) from exc
            return Response(render_availability(sim, hotel_id, start, number), 200, media_type=XML)

        return await guarded(request, "response", handle)

    def render_fault(status: int, message: str, path: str) -> tuple[bytes, str]:
        """The fault answers in the shape of the endpoint asked: its own ``...RS`` root."""
        rs = ota.root(fault_root(path), sim.clock.now(), Target="Test", Version="1.0")
        ota.add_errors(rs, [OtaError(12, 448, "System error", message)])
        return ota.render(rs, ruid=True), XML

    return FaultInjection(app, sim.faults, render_at=render_fault)


def fault_root(path: str) -> str:
    """``/booking/hotels/ota/OTA_HotelResNotif`` → ``OTA_HotelResNotifRS``; B.XML paths answer
    ``response``; the token exchange, which is JSON elsewhere, an OTA ``Errors`` in ``errors``."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if last.startswith("OTA_"):
        return f"{last}RS"
    if "/hotels/xml/" in path:
        return "response"
    return "errors"


def render_availability(sim: BookingSimulator, hotel_id: str, start: Any, number: int) -> bytes:
    """[GUESS] B.XML-style read-back: rooms, then dates, then rates with their restrictions."""
    end = start + timedelta(days=max(number, 1) - 1)
    response = ET.Element("response")
    info = sim.hotels[hotel_id]
    hotel = ET.SubElement(response, "hotel", {"id": hotel_id, "currency": info.currency})
    for room_id, rate_ids in sorted(info.rooms.items()):
        room_el = ET.SubElement(hotel, "room", {"id": room_id, "name": info.room_name(room_id)})
        for night in nights(start, end):
            date_el = ET.SubElement(room_el, "date", {"value": night.isoformat()})
            room = sim.calendar.get((hotel_id, room_id, ""), night)
            ET.SubElement(date_el, "roomstosell").text = str(
                room.units if room and room.units is not None else 0
            )
            for rate_id in sorted(rate_ids):
                rate = sim.calendar.get((hotel_id, room_id, rate_id), night)
                rate_el = ET.SubElement(date_el, "rate", {"id": rate_id})
                if rate is None:
                    continue
                if rate.price is not None:
                    ET.SubElement(rate_el, "price").text = f"{rate.price:.2f}"
                for guests, price in sorted(rate.prices_by_occupancy.items()):
                    ET.SubElement(
                        rate_el, "price", {"occupancy": str(guests)}
                    ).text = f"{price:.2f}"
                ET.SubElement(rate_el, "closed").text = "1" if rate.closed else "0"
                if rate.min_stay is not None:
                    ET.SubElement(rate_el, "minimumstay").text = str(rate.min_stay)
                if rate.max_stay is not None:
                    ET.SubElement(rate_el, "maximumstay").text = str(rate.max_stay)
                ET.SubElement(rate_el, "closedonarrival").text = (
                    "1" if rate.closed_to_arrival else "0"
                )
                ET.SubElement(rate_el, "closedondeparture").text = (
                    "1" if rate.closed_to_departure else "0"
                )
    return xmlsafe.to_bytes(response, ota.ruid_comment())


class NewHotels(BaseModel):
    count: int = Field(ge=1, le=5000)
    currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    # The machine account that manages them (the one the PMS's client id belongs to).
    account: str = "sandbox-pms"


def booking_control_router(sim: BookingSimulator) -> APIRouter:
    router = APIRouter(prefix="/control/booking", tags=["control: booking"])

    @router.get("/reservations", summary="Every reservation with the queues it waits in")
    async def reservations() -> list[dict[str, Any]]:
        return sim.summaries()

    @router.post(
        "/hotels", status_code=201, summary="Create hotels of one room and one rate plan each"
    )
    async def create_hotels(body: NewHotels) -> list[dict[str, str]]:
        try:
            return sim.create_hotels(body.count, body.currency, body.account)
        except ControlError as exc:
            raise HTTPException(exc.status, exc.detail) from None

    @router.get("/price-log", summary="Prices as they changed, with wall-clock times")
    async def price_log(since: int = 0) -> list[dict[str, Any]]:
        return sim.calendar.prices_since(since)

    return router
