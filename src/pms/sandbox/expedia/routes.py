"""EQC's paths (``/expedia/eqc/{ar,br,bc,parr}``): HTTP 200 with ``Error`` for refusals, as EQC."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

from pms.sandbox import xmlsafe
from pms.sandbox.control import ControlError
from pms.sandbox.days import nights, stay_nights
from pms.sandbox.expedia import eqc
from pms.sandbox.expedia.eqc import EqcError, EqcRefused
from pms.sandbox.expedia.simulator import Account, ExpediaSimulator, Message
from pms.sandbox.faults import FaultInjection

MEDIA = "text/xml; charset=UTF-8"


def xml(element: ET.Element, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(xmlsafe.to_bytes(element), status, headers, media_type=MEDIA)


def render_booking(
    parent: ET.Element, msg: Message, status: str, hotel_confirm: str | None
) -> None:
    stay = msg.stay
    attrs = {
        "id": msg.booking_id,
        "type": msg.type,
        "createDateTime": msg.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": "Expedia",
        "status": status,
    }
    if msg.type != "Book" and hotel_confirm:
        attrs["confirmNumber"] = hotel_confirm
    booking = ET.SubElement(parent, "Booking", attrs)
    ET.SubElement(booking, "Hotel", {"id": stay.hotel_id})
    cancel = msg.type == "Cancel"
    room = ET.SubElement(
        booking,
        "RoomStay",
        {
            "roomTypeID": "0" if cancel else stay.room_id,
            "ratePlanID": "0" if cancel else stay.rate_id,
        },
    )
    ET.SubElement(
        room,
        "StayDate",
        {"arrival": stay.arrival.isoformat(), "departure": stay.departure.isoformat()},
    )
    ET.SubElement(room, "GuestCount", {"adult": str(stay.adults), "child": str(stay.children)})
    if not cancel:
        rates = ET.SubElement(room, "PerDayRates", {"currency": stay.currency})
        for night in stay_nights(stay.arrival, stay.departure):
            ET.SubElement(
                rates,
                "PerDayRate",
                {"stayDate": night.isoformat(), "baseRate": f"{stay.nightly:.2f}"},
            )
        total = stay.nightly * len(stay_nights(stay.arrival, stay.departure))
        ET.SubElement(
            room,
            "Total",
            {
                "amountAfterTaxes": f"{total:.2f}",
                "amountOfTaxes": "0.00",
                "currency": stay.currency,
            },
        )
    guest = ET.SubElement(booking, "PrimaryGuest")
    ET.SubElement(guest, "Name", {"givenName": stay.given_name, "surname": stay.surname})
    ET.SubElement(guest, "Phone", {"countryCode": "", "cityAreaCode": "", "number": stay.phone})


class NewHotels(BaseModel):
    count: int = Field(ge=1, le=5000)
    username: str = Field(default="EQCsandbox", min_length=1, max_length=64)
    password: str | None = Field(default=None, min_length=1, max_length=64)


class Processing(BaseModel):
    delay_s: float = Field(ge=0, le=30)


class RefuseConfirmations(BaseModel):
    times: int = Field(default=1, ge=0, le=100)


def create_expedia_app(sim: ExpediaSimulator) -> Any:
    app = FastAPI(title="Expedia QuickConnect (sandbox)", redirect_slashes=False, openapi_url=None)

    async def serve(
        request: Request,
        rq_name: str,
        namespaces: tuple[str, ...],
        rs_name: str,
        rs_ns: str,
        handle: Callable[[ET.Element, str, Account], Any],
        limit_bytes: int | None = None,
    ) -> Response:
        body = await request.body()
        try:
            if limit_bytes is not None and len(body) > limit_bytes:
                raise EqcRefused(
                    eqc.TOO_LARGE, f"Message exceeds the maximum size of {limit_bytes // 1024} KB"
                )
            eqc.check_encoding(body)
            try:
                root = xmlsafe.parse(body)
            except xmlsafe.MalformedXml as exc:
                raise EqcRefused(eqc.PARSE_ERROR, str(exc)) from exc
            ns = xmlsafe.namespace(root.tag)
            if xmlsafe.local(root.tag) != rq_name or ns not in namespaces:
                raise EqcRefused(
                    eqc.PARSE_ERROR, f"Expected {rq_name} in namespace {' or '.join(namespaces)}"
                )
            account = sim.authenticate(root)
            injected = await sim.overrides.fault(account.username, "POST", request.url.path)
            if injected is not None and injected.status == 401:
                raise EqcRefused(eqc.AUTH_FAILED, "Authentication error: credentials expired")
            if injected is not None:
                code = eqc.RATE_LIMITED if injected.status == 429 else eqc.SYSTEM_ERROR
                refusal = eqc.error_rs(rs_name, rs_ns, EqcError(code, injected.message))
                headers = {"Retry-After": str(injected.retry_after_s)}
                return xml(refusal, injected.status, headers if injected.status == 429 else None)
            if (wait := sim.overrides.hit(account.username, sim.limiter)) is not None:
                refusal = eqc.error_rs(
                    rs_name,
                    rs_ns,
                    EqcError(eqc.RATE_LIMITED, f"Too many requests; retry in {wait}s"),
                )
                return xml(refusal, 429, {"Retry-After": str(wait)})
            result: Response = await handle(root, ns, account)
            return result
        except EqcRefused as exc:
            return xml(eqc.error_rs(rs_name, rs_ns, exc.error))

    @app.post("/eqc/ar")
    async def avail_rate(request: Request) -> Response:
        async def handle(root: ET.Element, ns: str, account: Account) -> Response:
            hotel_id = sim.hotel_of(root, ns, account) or ""
            async with sim.connection("ar", hotel_id):
                sim.apply_ar(root, ns, account, hotel_id)
            out = eqc.rs("AvailRateUpdateRS", eqc.AR_RS)
            ET.SubElement(out, "Success")
            return xml(out)

        return await serve(
            request,
            "AvailRateUpdateRQ",
            eqc.AR_RQ,
            "AvailRateUpdateRS",
            eqc.AR_RS,
            handle,
            limit_bytes=eqc.MAX_AR_BYTES,
        )

    @app.post("/eqc/br")
    async def booking_retrieval(request: Request) -> Response:
        async def handle(root: ET.Element, ns: str, account: Account) -> Response:
            hotel_id = sim.hotel_of(root, ns, account, required=False)
            params = root.find(f"{{{ns}}}ParamSet")
            booking_id = days = None
            statuses = {"pending", "retrieved"}
            if params is not None:
                if (b := params.find(f"{{{ns}}}Booking")) is not None:
                    booking_id = b.get("id")
                if (d := params.findtext(f"{{{ns}}}NbDaysInPast")) is not None:
                    if not d.strip().isdigit() or not 1 <= int(d) <= 30:
                        raise EqcRefused(eqc.MISSING_OR_INVALID, "NbDaysInPast: 1..30")
                    days = int(d)
                wanted = {s.get("value", "") for s in params.findall(f"{{{ns}}}Status")}
                if wanted - {"pending", "retrieved", "confirmed"}:
                    raise EqcRefused(
                        eqc.MISSING_OR_INVALID, "Status value: pending|retrieved|confirmed"
                    )
                statuses = wanted or statuses
            async with sim.connection("br", account.username):
                found = sim.retrieve(account, hotel_id, booking_id, days, statuses)
            out = eqc.rs("BookingRetrievalRS", eqc.BR)
            holder = ET.SubElement(out, "Bookings")
            for msg, status in found:
                render_booking(
                    holder, msg, status, sim.bookings[msg.booking_id].hotel_confirm_number
                )
            return xml(out)

        return await serve(
            request, "BookingRetrievalRQ", (eqc.BR,), "BookingRetrievalRS", eqc.BR, handle
        )

    @app.post("/eqc/bc")
    async def booking_confirm(request: Request) -> Response:
        async def handle(root: ET.Element, ns: str, account: Account) -> Response:
            hotel_id = sim.hotel_of(root, ns, account) or ""
            numbers = root.findall(f"{{{ns}}}BookingConfirmNumbers/{{{ns}}}BookingConfirmNumber")
            if not numbers:
                raise EqcRefused(eqc.MISSING_OR_INVALID, "BookingConfirmNumbers is required")
            async with sim.connection("bc", hotel_id):
                refused = sim.confirm(account, hotel_id, numbers)
            out = eqc.rs("BookingConfirmRS", eqc.BC_RS)
            success = ET.SubElement(out, "Success")
            for booking_id, reason in refused[: eqc.MAX_WARNINGS_PER_CODE]:
                ET.SubElement(
                    success,
                    "Warning",
                    {"code": str(eqc.BC_UPDATE_REFUSED), "bookingID": booking_id},
                ).text = reason
            return xml(out)

        return await serve(
            request, "BookingConfirmRQ", (eqc.BC_RQ,), "BookingConfirmRS", eqc.BC_RS, handle
        )

    @app.post("/eqc/parr")
    async def product_avail_rate(request: Request) -> Response:
        async def handle(root: ET.Element, ns: str, account: Account) -> Response:
            hotel_id = sim.hotel_of(root, ns, account) or ""
            out = eqc.rs("ProductAvailRateRetrievalRS", eqc.PARR)
            span = root.find(f"{{{ns}}}ParamSet/{{{ns}}}AvailRateRetrieval")
            async with sim.connection("parr", hotel_id):
                if span is None:
                    products = ET.SubElement(out, "ProductList")
                    ET.SubElement(products, "Hotel", {"id": hotel_id})
                    for room_id, rates in sorted(account.hotels[hotel_id].items()):
                        room = ET.SubElement(products, "RoomType", {"id": room_id})
                        for rate_id in sorted(rates):
                            ET.SubElement(room, "RatePlan", {"id": rate_id})
                else:
                    render_avail(out, sim, account, hotel_id, span)
            return xml(out)

        return await serve(
            request,
            "ProductAvailRateRetrievalRQ",
            (eqc.PARR,),
            "ProductAvailRateRetrievalRS",
            eqc.PARR,
            handle,
        )

    def render_fault(status: int, message: str) -> tuple[bytes, str]:
        # An injected rate limit answers like the simulator's own (4201), other faults 4000.
        code = eqc.RATE_LIMITED if status == 429 else eqc.SYSTEM_ERROR
        return xmlsafe.to_bytes(eqc.error_rs("Response", eqc.BASE, EqcError(code, message))), MEDIA

    return FaultInjection(app, sim.faults, render_fault)


def render_avail(
    out: ET.Element, sim: ExpediaSimulator, account: Account, hotel_id: str, span: ET.Element
) -> None:
    """[GUESS] PARR read-back shape: one AvailRate per date, rooms and rate plans inside."""
    try:
        start = xmlsafe.parse_date(span.get("from"))
        end = xmlsafe.parse_date(span.get("to"))
    except ValueError as exc:
        raise EqcRefused(eqc.INVALID_DATES, str(exc)) from exc
    if end < start or end - start > timedelta(days=366):
        raise EqcRefused(eqc.INVALID_DATES, "from..to must be ordered and at most a year")
    holder = ET.SubElement(out, "AvailRateList")
    for night in nights(start, end):
        avail = ET.SubElement(holder, "AvailRate", {"date": night.isoformat()})
        for room_id, rates in sorted(account.hotels[hotel_id].items()):
            room_day = sim.calendar.get((hotel_id, room_id, ""), night)
            room = ET.SubElement(
                avail,
                "RoomType",
                {"id": room_id, "closed": "true" if room_day and room_day.closed else "false"},
            )
            units = room_day.units if room_day and room_day.units is not None else 0
            ET.SubElement(room, "Inventory", {"totalInventoryAvailable": str(units)})
            for rate_id in sorted(rates):
                day = sim.calendar.get((hotel_id, room_id, rate_id), night)
                rate = ET.SubElement(
                    room,
                    "RatePlan",
                    {"id": rate_id, "closed": "true" if day and day.closed else "false"},
                )
                if day is None:
                    continue
                if day.price is not None:
                    amount = ET.SubElement(rate, "Rate", {"currency": day.currency or ""})
                    ET.SubElement(amount, "PerDay", {"rate": f"{day.price:.2f}"})
                restrictions = {
                    "closedToArrival": "true" if day.closed_to_arrival else "false",
                    "closedToDeparture": "true" if day.closed_to_departure else "false",
                }
                if day.min_stay:
                    restrictions["minLOS"] = str(day.min_stay)
                if day.max_stay:
                    restrictions["maxLOS"] = str(day.max_stay)
                ET.SubElement(rate, "Restrictions", restrictions)


def expedia_control_router(sim: ExpediaSimulator) -> APIRouter:
    router = APIRouter(prefix="/control/expedia", tags=["control: expedia"])

    @router.get("/bookings", summary="Every booking with its messages and confirm numbers")
    async def bookings() -> list[dict[str, Any]]:
        return [sim.summary(b) for b in sim.bookings.values()]

    @router.post(
        "/hotels",
        status_code=201,
        summary="Create hotels of one room type and one rate plan each (and their account)",
    )
    async def create_hotels(body: NewHotels) -> dict[str, Any]:
        try:
            credentials, hotels = sim.create_hotels(body.count, body.username, body.password)
        except ControlError as exc:
            raise HTTPException(exc.status, exc.detail) from None
        return {"credentials": credentials, "hotels": hotels}

    @router.get("/price-log", summary="Prices as they changed, with wall-clock times")
    async def price_log(since: int = 0) -> list[dict[str, Any]]:
        return sim.calendar.prices_since(since)

    @router.put(
        "/bookings/{booking_id}/refuse-confirmations",
        summary="Answer the next BC confirmations of a booking with warning 10081",
    )
    async def refuse_confirmations(booking_id: str, body: RefuseConfirmations) -> dict[str, Any]:
        if booking_id not in sim.bookings:
            raise HTTPException(404, f"no booking {booking_id}")
        sim.refuse_confirmations[booking_id] = body.times
        return {"booking_id": booking_id, "times": body.times}

    @router.put("/processing", summary="How long EQC takes per request (holding its connection)")
    async def processing(body: Processing) -> Processing:
        sim.processing_delay_s = body.delay_s
        return body

    return router
