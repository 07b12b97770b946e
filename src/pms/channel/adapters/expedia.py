"""Expedia QuickConnect (EQC, XML over HTTPS): AR for availability, rates and restrictions (each
message under EQC's 100 KB), PARR to read the platform's state back, BR to retrieve pending
bookings (Book, Modify, Cancel) and BC to confirm each with our confirmation number.

A connection is one hotel: ``credentials: {"username", "password", "hotel_id"}`` (EQC puts the
user and password in every request). A remote listing is one room type's rate plan,
``"<hotel>/<room type>/<rate plan>"``; a vacation rental has one unit, so inventory is 1 or 0.

What EQC cannot express: a minimum or maximum stay beyond 28 nights, and "no maximum" (a
maximum once set cannot be cleared): Expedia shows 28 instead (``fidelity``). Error codes as
EQC defines them: 1000-1003 authentication (the connection is revoked), 2000s/3000s a message
that will not pass as it is, 4000 and up worth trying again."""

from __future__ import annotations

import asyncio
import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from pms.channel.adapters import ota
from pms.channel.adapters.base import (
    AckRefusal,
    Batch,
    CredentialsRefused,
    Fidelity,
    Grant,
    InboundMessage,
    InboundReservation,
    NightValues,
    PlatformError,
    PulledInstantBookings,
    PulledMessage,
    RemoteListing,
    Run,
    count_request,
)
from pms.core.errors import Unprocessable
from pms.settings import Settings

BASE = "http://www.expediaconnect.com/EQC"
AR_RQ, AR_RS = f"{BASE}/AR/2011/06", f"{BASE}/AR/2007/02"
BR = f"{BASE}/BR/2014/01"
BC_RQ, BC_RS = f"{BASE}/BC/2007/09", f"{BASE}/BC/2007/08"
PARR = f"{BASE}/PAR/2013/07"
MAX_AR_BYTES = 100 * 1024
# One AvailRateUpdate is about 600 bytes: 120 of them stay well under 100 KB.
MAX_UPDATES = 120
MAX_LOS = 28
READ_DAYS = 366
AUTH_CODES = range(1000, 1004)
RETRY_FROM = 4000
_STATUS = {"Book": "confirmed", "Modify": "confirmed", "Cancel": "cancelled"}
_clients: dict[int, httpx.AsyncClient] = {}


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None or client.is_closed:
        for key in [k for k, c in _clients.items() if c.is_closed]:
            del _clients[key]
        # EQC: no keep-alive.
        client = _clients[id(loop)] = httpx.AsyncClient(
            limits=httpx.Limits(max_keepalive_connections=0),
            event_hooks={"request": [count_request]},
        )
    return client


def _parts(listing: str) -> tuple[str, str, str]:
    hotel, room, rate = listing.split("/", 2)
    return hotel, room, rate


def confirm_number(booking_id: str) -> str:
    """Our confirmation number for an Expedia booking (stable: confirming again is a no-op)."""
    return f"PMS-{booking_id}"[:32]


class ExpediaAdapter(PulledInstantBookings):
    display_name = "Expedia"
    platform = "expedia"
    window_days = 365
    fidelity = Fidelity(max_los=MAX_LOS, clears_max_stay=False)
    # The hotels of an EQC account (one user for many hotels): flushed together per agency.
    connections_share_account = True

    def __init__(self, settings: Settings) -> None:
        self.base = settings.expedia_api_base.rstrip("/")
        self.timeout = settings.channel_http_timeout_seconds
        self.poll_seconds = settings.expedia_poll_seconds
        self.ack_pause_seconds = 0.0

    # --- HTTP --------------------------------------------------------------------------------

    def _rq(self, name: str, ns: str, credentials: Mapping[str, Any]) -> ET.Element:
        rq = ET.Element(name, {"xmlns": ns})
        ET.SubElement(
            rq,
            "Authentication",
            {"username": str(credentials["username"]), "password": str(credentials["password"])},
        )
        ET.SubElement(rq, "Hotel", {"id": str(credentials["hotel_id"])})
        return rq

    async def _post(self, path: str, what: str, rq: ET.Element) -> ET.Element:
        body = ota.to_bytes(rq)
        if path == "/eqc/ar" and len(body) > MAX_AR_BYTES:
            raise PlatformError(f"Expedia {what}: {len(body)} bytes, over EQC's 100 KB")
        try:
            response = await _client().post(
                f"{self.base}{path}",
                content=body,
                headers={"Content-Type": "text/xml; charset=UTF-8"},
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            raise PlatformError(f"Expedia {what}: timed out", retryable=True) from None
        except httpx.TransportError as exc:
            raise PlatformError(f"Expedia {what}: {type(exc).__name__}", retryable=True) from None
        try:
            rs = ota.parse(response.content)
        except ota.NotOta:
            raise PlatformError(
                f"Expedia {what}: {response.status_code}, not XML",
                status=response.status_code,
                retryable=response.status_code >= 500 or response.status_code == 429,
            ) from None
        error = next((e for e in rs.iter() if e.tag.rsplit("}", 1)[-1] == "Error"), None)
        if error is not None or not response.is_success:
            code = int(error.get("code", "0")) if error is not None else 0
            text = (error.text or "").strip() if error is not None else response.reason_phrase
            message = f"Expedia {what}: error {code} {text}"[:500]
            if code in AUTH_CODES:
                raise CredentialsRefused(message, status=response.status_code)
            retry_after = response.headers.get("retry-after")
            raise PlatformError(
                message,
                status=response.status_code,
                retryable=code >= RETRY_FROM
                or response.status_code >= 500
                or response.status_code == 429,
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            )
        return rs

    # --- accounts ----------------------------------------------------------------------------

    async def exchange_code(self, code: str) -> Grant:
        raise Unprocessable(
            "Expedia connects with credentials {username, password, hotel_id}.",
            errors=[{"field": "authorization_code", "in": "body", "message": "not supported"}],
        )

    async def check_credentials(self, credentials: Mapping[str, Any]) -> Grant:
        given = {k: str(credentials.get(k) or "") for k in ("username", "password", "hotel_id")}
        missing = [k for k, v in given.items() if not v]
        if missing:
            raise Unprocessable(
                "Expedia credentials need username, password and hotel_id.",
                errors=[
                    {"field": f"credentials.{k}", "in": "body", "message": "required"}
                    for k in missing
                ],
            )
        await self.list_listings(given)
        return Grant(account_id=given["hotel_id"], credentials=given)

    async def refresh(self, credentials: Mapping[str, Any]) -> Grant:
        return Grant(account_id=str(credentials["hotel_id"]), credentials=dict(credentials))

    async def list_listings(self, credentials: Mapping[str, Any]) -> list[RemoteListing]:
        rs = await self._post(
            "/eqc/parr", "products", self._rq("ProductAvailRateRetrievalRQ", PARR, credentials)
        )
        hotel = str(credentials["hotel_id"])
        out = []
        for room in rs.iter(f"{{{PARR}}}RoomType"):
            for rate in room.iter(f"{{{PARR}}}RatePlan"):
                room_id, rate_id = room.get("id", ""), rate.get("id", "")
                out.append(
                    RemoteListing(
                        id=f"{hotel}/{room_id}/{rate_id}",
                        currency="EUR",
                        name=f"Room type {room_id} · rate plan {rate_id}",
                    )
                )
        return out

    # --- ARI ---------------------------------------------------------------------------------

    def batches(self, runs: Sequence[Run]) -> list[Batch]:
        """Up to ``MAX_UPDATES`` runs per AR message (under 100 KB); 365 different nights are
        ⌈365 / 120⌉ = 4 messages."""
        ordered = sorted(runs, key=lambda r: r.start)
        return [
            Batch(runs=tuple(ordered[i : i + MAX_UPDATES]))
            for i in range(0, len(ordered), MAX_UPDATES)
        ]

    async def push_ari(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, batch: Batch
    ) -> None:
        hotel, room_id, rate_id = _parts(listing_id)
        rq = self._rq("AvailRateUpdateRQ", AR_RQ, {**credentials, "hotel_id": hotel})
        earliest = datetime.now(UTC).date() - timedelta(days=1)
        for run in batch.runs:
            if run.end <= earliest:
                continue
            v = run.values
            update = ET.SubElement(rq, "AvailRateUpdate")
            start, end = ota.span(Run(max(run.start, earliest), run.end, v))
            ET.SubElement(update, "DateRange", {"from": start, "to": end})
            room = ET.SubElement(update, "RoomType", {"id": room_id, "closed": "false"})
            if v.available is not None:
                ET.SubElement(
                    room, "Inventory", {"totalInventoryAvailable": "1" if v.available else "0"}
                )
            rate = ET.SubElement(room, "RatePlan", {"id": rate_id, "closed": "false"})
            if v.price_minor is not None:
                amount = ET.SubElement(rate, "Rate", {"currency": currency})
                ET.SubElement(amount, "PerDay", {"rate": ota.amount(v.price_minor, currency)})
            restrictions: dict[str, str] = {}
            if v.closed_to_arrival is not None:
                restrictions["closedToArrival"] = "true" if v.closed_to_arrival else "false"
            if v.closed_to_departure is not None:
                restrictions["closedToDeparture"] = "true" if v.closed_to_departure else "false"
            if v.min_stay is not None:
                restrictions["minLOS"] = str(min(v.min_stay, MAX_LOS))
            if v.max_stay is not None:
                restrictions["maxLOS"] = str(min(v.max_stay, MAX_LOS))
            if restrictions:
                ET.SubElement(rate, "Restrictions", restrictions)
        if len(rq) > 2:
            await self._post("/eqc/ar", "AR", rq)

    async def read_back(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, start: date, end: date
    ) -> dict[date, tuple[NightValues, str | None]]:
        hotel, room_id, rate_id = _parts(listing_id)
        out: dict[date, tuple[NightValues, str | None]] = {}
        day = start
        while day < end:
            last = min(end - timedelta(days=1), day + timedelta(days=READ_DAYS - 1))
            rq = self._rq("ProductAvailRateRetrievalRQ", PARR, {**credentials, "hotel_id": hotel})
            params = ET.SubElement(rq, "ParamSet")
            ET.SubElement(
                params, "AvailRateRetrieval", {"from": day.isoformat(), "to": last.isoformat()}
            )
            rs = await self._post("/eqc/parr", "PARR", rq)
            for avail in rs.iter(f"{{{PARR}}}AvailRate"):
                night = date.fromisoformat(avail.get("date", ""))
                room = next(
                    (r for r in avail.findall(f"{{{PARR}}}RoomType") if r.get("id") == room_id),
                    None,
                )
                if room is not None:
                    out[night] = (_night(room, rate_id, currency), None)
            day = last + timedelta(days=1)
        return out

    # --- bookings ----------------------------------------------------------------------------

    async def fetch(self, credentials: Mapping[str, Any]) -> list[PulledMessage]:
        rs = await self._post("/eqc/br", "BR", self._rq("BookingRetrievalRQ", BR, credentials))
        out = []
        pulled = datetime.now(UTC)
        # Newest first from EQC: applied oldest first, each a revision after the one before.
        for i, el in enumerate(reversed(list(rs.iter(f"{{{BR}}}Booking")))):
            pulled_at = (pulled + timedelta(microseconds=i)).isoformat()
            xml = ET.tostring(el, encoding="unicode")
            kind = el.get("type", "Book")
            booking_id = el.get("id", "")
            digest = hashlib.sha256(xml.encode()).hexdigest()[:16]
            out.append(
                PulledMessage(
                    message_id=f"{booking_id}:{kind}:{digest}",
                    event_type=f"booking.{kind.lower()}",
                    body=json.dumps({"pulled_at": pulled_at, "xml": xml}).encode(),
                    ack_key=(kind, booking_id),
                )
            )
        return out

    async def acknowledge(
        self, credentials: Mapping[str, Any], messages: Sequence[PulledMessage]
    ) -> list[AckRefusal]:
        """BC: each booking message confirmed with our confirmation number. EQC answers a
        confirmation it does not record with a ``Warning`` inside ``Success`` (10081 "Update
        refused…", naming the ``bookingID``): the booking stays unconfirmed on Expedia (BR hands
        it out again, and past its deadline Expedia sends it to the property by fax or email).
        Those are returned, for the sync log and an alert."""
        rq = ET.Element("BookingConfirmRQ", {"xmlns": BC_RQ})
        ET.SubElement(
            rq,
            "Authentication",
            {"username": str(credentials["username"]), "password": str(credentials["password"])},
        )
        ET.SubElement(rq, "Hotel", {"id": str(credentials["hotel_id"])})
        holder = ET.SubElement(rq, "BookingConfirmNumbers")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for kind, booking_id in dict.fromkeys(m.ack_key for m in messages):
            ET.SubElement(
                holder,
                "BookingConfirmNumber",
                {
                    "bookingID": booking_id,
                    "bookingType": kind,
                    "confirmNumber": confirm_number(booking_id),
                    "confirmTime": now,
                },
            )
        rs = await self._post("/eqc/bc", "BC", rq)
        return [
            AckRefusal(
                reservation=w.get("bookingID", ""),
                code=w.get("code", ""),
                text=" ".join((w.text or "").split())[:300],
            )
            for w in rs.iter()
            if w.tag.rsplit("}", 1)[-1] == "Warning"
        ]

    async def pull_bookings(
        self, credentials: Mapping[str, Any], listing_id: str
    ) -> list[InboundReservation]:
        """Reconciliation: pending bookings for the hotel (confirmed by the poller once
        applied)."""
        out = []
        for pulled in await self.fetch(credentials):
            res = self.parse_message(pulled.body).reservation
            if res is not None and res.listing_id in (listing_id, ""):
                out.append(res)
        return out

    def parse_message(self, body: bytes) -> InboundMessage:
        envelope = json.loads(body)
        el = ota.parse(envelope["xml"].encode())
        res = booking(el)
        kind = el.get("type", "Book")
        digest = hashlib.sha256(envelope["xml"].encode()).hexdigest()[:16]
        return InboundMessage(
            message_id=f"{res.code}:{kind}:{digest}",
            event_type=f"booking.{kind.lower()}",
            occurred_at=datetime.fromisoformat(envelope["pulled_at"]),
            reservation=res,
        )


def _night(room: ET.Element, rate_id: str, currency: str) -> NightValues:
    inventory = room.find(f"{{{PARR}}}Inventory")
    units = int(inventory.get("totalInventoryAvailable", "0")) if inventory is not None else 0
    rate = next((r for r in room.findall(f"{{{PARR}}}RatePlan") if r.get("id") == rate_id), None)
    room_closed = room.get("closed") == "true"
    if rate is None:
        return NightValues(available=units > 0 and not room_closed)
    per_day = rate.find(f"{{{PARR}}}Rate/{{{PARR}}}PerDay")
    restrictions = rate.find(f"{{{PARR}}}Restrictions")
    r = restrictions.attrib if restrictions is not None else {}
    return NightValues(
        available=units > 0 and not room_closed and rate.get("closed") != "true",
        price_minor=ota.minor(per_day.get("rate", "0"), currency) if per_day is not None else None,
        min_stay=int(r["minLOS"]) if "minLOS" in r else None,
        max_stay=int(r["maxLOS"]) if "maxLOS" in r else None,
        closed_to_arrival=r.get("closedToArrival") == "true",
        closed_to_departure=r.get("closedToDeparture") == "true",
    )


def booking(el: ET.Element) -> InboundReservation:
    """A BR ``Booking`` as a snapshot; per-day rates kept exactly (a Cancel names no room:
    its listing is found through the reservation we hold)."""

    def q(name: str) -> str:
        return f"{{{BR}}}{name}"

    stay = el.find(q("RoomStay"))
    if stay is None:
        raise PlatformError("Expedia booking without RoomStay")
    dates = stay.find(q("StayDate"))
    counts = stay.find(q("GuestCount"))
    hotel_el = el.find(q("Hotel"))
    hotel = hotel_el.get("id", "") if hotel_el is not None else ""
    room, rate = stay.get("roomTypeID", "0"), stay.get("ratePlanID", "0")
    rates = stay.find(q("PerDayRates"))
    currency = rates.get("currency", "EUR") if rates is not None else "EUR"
    prices = {
        d.get("stayDate", ""): ota.minor(d.get("baseRate", "0"), currency)
        for d in (rates.findall(q("PerDayRate")) if rates is not None else [])
    }
    check_in = date.fromisoformat(dates.get("arrival", "") if dates is not None else "")
    check_out = date.fromisoformat(dates.get("departure", "") if dates is not None else "")
    name = el.find(f"{q('PrimaryGuest')}/{q('Name')}")
    kind = el.get("type", "Book")
    total = sum(prices.values())
    return InboundReservation(
        code=el.get("id", ""),
        listing_id="" if room == "0" else f"{hotel}/{room}/{rate}",
        status=_STATUS.get(kind, "confirmed"),
        check_in=check_in,
        check_out=check_out,
        adults=max(1, int(counts.get("adult", "1")) if counts is not None else 1),
        children=int(counts.get("child", "0")) if counts is not None else 0,
        first_name=(name.get("givenName") if name is not None else None) or "Expedia",
        last_name=(name.get("surname") if name is not None else None) or "Guest",
        nightly_price_minor=next(iter(prices.values()), 0),
        total_minor=total,
        currency=currency,
        raw={"type": kind, "created": el.get("createDateTime"), "nights": prices},
        night_prices_minor=prices,
    )
