"""Booking.com Connectivity (OTA XML): token auth for our machine account, ARI through
``OTA_HotelAvailNotif`` / ``OTA_HotelRateAmountNotif`` (one hotel per request, one request
pair per month of changed nights), reservations pulled from ``OTA_HotelResNotif`` /
``OTA_HotelResModifyNotif`` and acknowledged after they were applied.

A connection is one hotel (``credentials: {"hotel_id": …}``): the property manager gives our
machine account access to it on Booking.com's side, and takes it away there (a 403 for the
hotel then revokes the connection). A remote listing is one room rate,
``"<hotel>/<room type>/<rate plan>"``; a vacation rental has one unit, so rooms to sell is 1 or 0.

Tokens: the machine account exchanges its client id and secret for a JWT, kept for its lifetime
(less a margin) in this process and, sealed, in Redis for every worker, so the whole deployment
makes about one exchange an hour and never more than 30 (the platform's limit) in any hour."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from redis.exceptions import RedisError

from pms.channel.adapters import ota
from pms.channel.adapters.base import (
    AckRefusal,
    Batch,
    CredentialsRefused,
    Grant,
    InboundMessage,
    InboundReservation,
    NightValues,
    PartlyApplied,
    PlatformError,
    PulledInstantBookings,
    PulledMessage,
    RemoteListing,
    Run,
    TokenExpired,
    count_request,
    retried_inside,
)
from pms.core import secretbox
from pms.core.errors import Unprocessable
from pms.redis_client import get_redis
from pms.settings import Settings

CET = ZoneInfo("Europe/Amsterdam")
TOKENS_PER_HOUR = 30
TOKEN_MARGIN = timedelta(minutes=5)  # a token is replaced this long before it expires
READ_DAYS = 366  # roomrateavailability answers at most this many days
MAX_BOOKING_LIMIT = 254
# OTA error types worth trying again: 12 "Processing exception" (the platform's own trouble).
RETRYABLE_TYPES = {"12"}
QUEUES = {
    "new": ("OTA_HotelResNotif", "HotelReservations", "HotelReservation"),
    "modify": ("OTA_HotelResModifyNotif", "HotelResModifies", "HotelResModify"),
}
_STATUS = {"Commit": "confirmed", "Book": "confirmed", "Modify": "confirmed", "Cancel": "cancelled"}

_clients: dict[int, httpx.AsyncClient] = {}
# client id → (jwt, expires_at): this process's copy of the machine account's token.
_tokens: dict[str, tuple[str, datetime]] = {}


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None or client.is_closed:
        for key in [k for k, c in _clients.items() if c.is_closed]:
            del _clients[key]
        client = _clients[id(loop)] = httpx.AsyncClient(event_hooks={"request": [count_request]})
    return client


def _retry_after(response: httpx.Response) -> float | None:
    try:
        value = response.headers.get("retry-after")
        return float(value) if value is not None else None
    except ValueError:
        return None


def listing_id(hotel: str, room: str, rate: str) -> str:
    return f"{hotel}/{room}/{rate}"


def _parts(listing: str) -> tuple[str, str, str]:
    hotel, room, rate = listing.split("/", 2)
    return hotel, room, rate


def _hotel(credentials: Mapping[str, Any]) -> str:
    return str(credentials["hotel_id"])


class BookingAdapter(PulledInstantBookings):
    display_name = "Booking.com"
    platform = "booking_com"
    window_days = 365
    # Every connected hotel goes through our one machine account: flushed together per agency.
    connections_share_account = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.booking_api_base.rstrip("/")
        self.auth_url = settings.booking_auth_url
        self.client_id = settings.booking_client_id
        self.client_secret = settings.booking_client_secret
        self.target = settings.booking_target
        self.timeout = settings.channel_http_timeout_seconds
        self.poll_seconds = settings.booking_poll_seconds
        self.ack_pause_seconds = settings.booking_ack_pause_seconds

    # --- tokens ------------------------------------------------------------------------------

    def _cache_key(self) -> str:
        return f"pms:channel:booking_com:jwt:{self.client_id}"

    async def _token(self) -> str:
        now = datetime.now(UTC)
        held = _tokens.get(self.client_id)
        if held is not None and held[1] - TOKEN_MARGIN > now:
            return held[0]
        redis = get_redis()
        try:
            sealed = await redis.get(self._cache_key())
        except RedisError:  # Redis away: exchange ourselves (still counted by the platform)
            sealed = None
        if sealed:
            jwt, _, expires = secretbox.decrypt(self.settings, _text(sealed)).partition(" ")
            expires_at = datetime.fromisoformat(expires)
            if expires_at - TOKEN_MARGIN > now:
                _tokens[self.client_id] = (jwt, expires_at)
                return jwt
        return await self._exchange()

    async def _exchange(self) -> str:
        """A new JWT for the machine account, at most ``TOKENS_PER_HOUR`` an hour across all
        workers (counted in Redis), one exchange at a time (a Redis lock)."""
        redis = get_redis()
        counter = f"pms:channel:booking_com:exchanges:{self.client_id}"
        lock = f"pms:channel:booking_com:exchange-lock:{self.client_id}"
        try:
            deadline = time.monotonic() + self.timeout
            while not await redis.set(lock, "1", nx=True, px=int(self.timeout * 1000)):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            # Another worker may have exchanged while this one waited.
            sealed = await redis.get(self._cache_key())
            if sealed:
                jwt, _, expires = secretbox.decrypt(self.settings, _text(sealed)).partition(" ")
                expires_at = datetime.fromisoformat(expires)
                if expires_at - TOKEN_MARGIN > datetime.now(UTC):
                    _tokens[self.client_id] = (jwt, expires_at)
                    return jwt
            used = int(await redis.incr(counter))
            if used == 1:
                await redis.expire(counter, 3600)
            if used > TOKENS_PER_HOUR:
                wait = await redis.ttl(counter)
                raise PlatformError(
                    f"Booking.com token: {TOKENS_PER_HOUR} exchanges this hour already",
                    retryable=True,
                    retry_after=float(max(wait, 1)),
                )
            jwt, expires_at = await self._exchange_now()
            ttl = int((expires_at - TOKEN_MARGIN - datetime.now(UTC)).total_seconds())
            if ttl > 0:
                await redis.set(
                    self._cache_key(),
                    secretbox.encrypt(self.settings, f"{jwt} {expires_at.isoformat()}"),
                    ex=ttl,
                )
            return jwt
        finally:
            with contextlib.suppress(RedisError):  # the lock expires by itself
                await redis.delete(lock)

    async def _exchange_now(self) -> tuple[str, datetime]:
        try:
            response = await _client().post(
                self.auth_url,
                json={
                    "client_id": self.client_id,
                    "client_secret": self.client_secret.get_secret_value(),
                },
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            raise PlatformError("Booking.com token: timed out", retryable=True) from None
        except httpx.TransportError as exc:
            raise PlatformError(
                f"Booking.com token: {type(exc).__name__}", retryable=True
            ) from None
        status = response.status_code
        if status in (400, 401, 403):
            raise CredentialsRefused(
                f"Booking.com token: {status}, the machine account was refused", status=status
            )
        if status == 429:
            raise PlatformError(
                "Booking.com token: too many exchanges",
                status=status,
                retryable=True,
                retry_after=_retry_after(response),
            )
        if not response.is_success:
            raise PlatformError(
                f"Booking.com token: {status}", status=status, retryable=status >= 500
            )
        try:
            body = response.json()
            jwt = str(body["jwt"])
            expires_at = datetime.now(UTC) + timedelta(seconds=int(body.get("expires_in", 3600)))
        except (ValueError, KeyError, TypeError):
            raise PlatformError("Booking.com token: an answer without a token") from None
        _tokens[self.client_id] = (jwt, expires_at)
        return jwt, expires_at

    async def _forget(self, jwt: str) -> None:
        """The platform refused this token: no worker uses it again."""
        if _tokens.get(self.client_id, ("", None))[0] == jwt:
            del _tokens[self.client_id]
        with contextlib.suppress(RedisError):  # it expires by itself
            sealed = await get_redis().get(self._cache_key())
            if sealed and secretbox.decrypt(self.settings, _text(sealed)).startswith(jwt + " "):
                await get_redis().delete(self._cache_key())

    # --- HTTP --------------------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, what: str, body: bytes | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One call; a token the platform refuses (it may end a token early) is forgotten and the
        call made once more with a new one, so no caller sees a 401 for a token we kept."""
        try:
            return await self._request_once(method, path, what, body, **kwargs)
        except TokenExpired:
            return await self._request_once(method, path, what, body, **kwargs)

    async def _request_once(
        self, method: str, path: str, what: str, body: bytes | None, **kwargs: Any
    ) -> httpx.Response:
        jwt = await self._token()
        try:
            response = await _client().request(
                method,
                f"{self.base}{path}",
                content=body,
                headers={"Authorization": f"Bearer {jwt}", "Content-Type": "application/xml"},
                timeout=self.timeout,
                **kwargs,
            )
        except httpx.TimeoutException:
            raise PlatformError(f"Booking.com {what}: timed out", retryable=True) from None
        except httpx.TransportError as exc:
            raise PlatformError(
                f"Booking.com {what}: {type(exc).__name__}", retryable=True
            ) from None
        status = response.status_code
        detail = _detail(response)
        message = f"Booking.com {what}: {status} {detail}"[:500]
        if status == 401:
            await self._forget(jwt)
            raise TokenExpired(message, status=status)
        if status == 403:
            # "Access denied for hotel": the property took our access away.
            raise CredentialsRefused(message, status=status)
        if status == 429:
            raise PlatformError(
                message, status=status, retryable=True, retry_after=_retry_after(response)
            )
        if status >= 500:
            raise PlatformError(message, status=status, retryable=True)
        return response

    # --- accounts ----------------------------------------------------------------------------

    async def exchange_code(self, code: str) -> Grant:
        raise Unprocessable(
            'Booking.com connects with credentials {"hotel_id": …}, not an authorization code.',
            errors=[{"field": "authorization_code", "in": "body", "message": "not supported"}],
        )

    async def check_credentials(self, credentials: Mapping[str, Any]) -> Grant:
        hotel = str(credentials.get("hotel_id") or "")
        if not hotel.isdigit() or len(hotel) > 20:
            raise Unprocessable(
                "Booking.com credentials need the hotel_id our machine account may manage.",
                errors=[{"field": "credentials.hotel_id", "in": "body", "message": "digits"}],
            )
        await self.list_listings({"hotel_id": hotel})
        return Grant(account_id=hotel, credentials={"hotel_id": hotel})

    async def refresh(self, credentials: Mapping[str, Any]) -> Grant:
        """A connection holds no token of its own: the machine account's is exchanged anew."""
        await self._token()
        return Grant(account_id=_hotel(credentials), credentials=dict(credentials))

    async def _room_rates(self, hotel: str, start: date, days: int) -> ET.Element:
        rq = ET.Element("request")
        ET.SubElement(rq, "hotel_id").text = hotel
        ET.SubElement(rq, "number_of_days").text = str(days)
        ET.SubElement(rq, "start_date").text = start.isoformat()
        response = await self._request(
            "POST", "/hotels/xml/roomrateavailability", "room rates", ota.to_bytes(rq)
        )
        if not response.is_success:
            raise PlatformError(
                f"Booking.com room rates: {response.status_code} {_detail(response)}"[:500],
                status=response.status_code,
            )
        try:
            return ota.parse(response.content)
        except ota.NotOta:
            raise PlatformError("Booking.com room rates: not XML", retryable=True) from None

    async def list_listings(self, credentials: Mapping[str, Any]) -> list[RemoteListing]:
        hotel = _hotel(credentials)
        answer = await self._room_rates(hotel, datetime.now(UTC).date(), 1)
        out = []
        for hotel_el in answer.iter("hotel"):
            currency = hotel_el.get("currency", "EUR")
            for room in hotel_el.findall("room"):
                rates = {r.get("id", "") for r in room.iter("rate")}
                for rate in sorted(rates - {""}):
                    out.append(
                        RemoteListing(
                            id=listing_id(hotel, room.get("id", ""), rate),
                            currency=currency,
                            name=f"{room.get('name') or 'Room ' + room.get('id', '')} · {rate}",
                        )
                    )
        return out

    # --- ARI ---------------------------------------------------------------------------------

    def batches(self, runs: Sequence[Run]) -> list[Batch]:
        """One batch per month of changed nights (Booking.com: "batch by month"); a 365-night
        change is at most 13 batches, whatever the prices."""
        return [Batch(runs=tuple(r)) for r in ota.split_by_month(runs).values()]

    async def push_ari(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, batch: Batch
    ) -> None:
        hotel, room, rate = _parts(listing_id)
        # Never a past date: Booking.com takes at most one day back, reckoned in CET.
        earliest = datetime.now(CET).date() - timedelta(days=1)
        runs = [
            Run(max(r.start, earliest), r.end, r.values) for r in batch.runs if r.end > earliest
        ]
        failed: dict[Run, list[str]] = {}
        retryable = True
        sent = False
        avail = ota.avail_notif(hotel, room, rate, runs, target=self.target)
        rates = ota.rate_amount_notif(hotel, room, rate, runs, currency, target=self.target)
        for messages, path in (
            (avail, "/hotels/ota/OTA_HotelAvailNotif"),
            (rates, "/hotels/ota/OTA_HotelRateAmountNotif"),
        ):
            if not messages.by_locator:
                continue
            what = path.rsplit("/", 1)[-1]
            response = await self._send_after(sent, path, what, ota.to_bytes(messages.request))
            sent = True
            answer = ota.answer(response.content)
            if answer is None:
                raise PlatformError(
                    f"Booking.com {what}: {response.status_code}, not an OTA answer",
                    status=response.status_code,
                    retryable=True,
                )
            if response.is_success and not answer.errors:
                continue
            for err in answer.errors:
                run = messages.by_locator.get(err.record_id or "")
                if run is None:  # an error about the whole request
                    raise PlatformError(
                        f"Booking.com {what}: {response.status_code} {err}"[:500],
                        status=response.status_code,
                        retryable=err.type in RETRYABLE_TYPES,
                    )
                failed.setdefault(run, []).append(str(err))
                retryable = retryable and err.type in RETRYABLE_TYPES
        if failed:
            applied = tuple(r for r in runs if r not in failed)
            nights = sum(len(ota.nights(r)) for r in failed)
            first = next(iter(failed.values()))[0]
            raise PartlyApplied(
                f"Booking.com refused {nights} nights in {len(failed)} runs: {first}"[:500],
                applied=Batch(applied),
                failed=Batch(tuple(failed)),
                retryable=retryable,
                status=200 if applied else 400,
            )

    async def _send_after(self, sent: bool, path: str, what: str, body: bytes) -> httpx.Response:
        """The second request of a batch: refused for the rate limit, it waits as long as the
        platform asks and goes again by itself, so the first (applied) is not sent twice."""
        for attempt in range(1, 6):
            try:
                return await self._request("POST", path, what, body)
            except PlatformError as exc:
                if not sent or exc.status != 429 or attempt == 5:
                    raise
                await asyncio.sleep(exc.retry_after or 1.0)
                retried_inside()
        raise AssertionError("unreachable")

    async def read_back(
        self, credentials: Mapping[str, Any], listing_id: str, currency: str, start: date, end: date
    ) -> dict[date, tuple[NightValues, str | None]]:
        hotel, room_id, rate_id = _parts(listing_id)
        out: dict[date, tuple[NightValues, str | None]] = {}
        day = start
        while day < end:
            days = min(READ_DAYS, (end - day).days)
            answer = await self._room_rates(hotel, day, days)
            for room in answer.iter("room"):
                if room.get("id") != room_id:
                    continue
                for date_el in room.findall("date"):
                    night = date.fromisoformat(date_el.get("value", ""))
                    if not start <= night < end:
                        continue
                    units = int(date_el.findtext("roomstosell") or 0)
                    rate = next(
                        (r for r in date_el.findall("rate") if r.get("id") == rate_id), None
                    )
                    out[night] = (_night(units, rate, currency), None)
            day += timedelta(days=days)
        return out

    # --- reservations ------------------------------------------------------------------------

    async def fetch(self, credentials: Mapping[str, Any]) -> list[PulledMessage]:
        """Every message waiting for the hotel, new reservations first (a modification of a
        reservation not yet acknowledged comes as the new one, as documented)."""
        hotel = _hotel(credentials)
        out: list[PulledMessage] = []
        pulled = datetime.now(UTC)
        for queue, (endpoint, _, element) in QUEUES.items():
            response = await self._request(
                "GET", f"/hotels/ota/{endpoint}", endpoint, params={"hotel_ids": hotel}
            )
            if not response.is_success:
                raise PlatformError(
                    f"Booking.com {endpoint}: {response.status_code} {_detail(response)}"[:500],
                    status=response.status_code,
                )
            try:
                rq = ota.parse(response.content)
            except ota.NotOta:
                raise PlatformError(f"Booking.com {endpoint}: not XML", retryable=True) from None
            for el in rq.iter(ota.q(element)):
                xml = ET.tostring(el, encoding="unicode")
                res_id = _res_id(el)
                status = el.get("ResStatus", "Commit")
                digest = _digest(xml)
                # Each message a revision after the one before (in the order handed out).
                pulled_at = (pulled + timedelta(microseconds=len(out))).isoformat()
                out.append(
                    PulledMessage(
                        message_id=f"{res_id}:{queue}:{digest}",
                        event_type=f"reservation.{status.lower()}",
                        body=json.dumps(
                            {"queue": queue, "pulled_at": pulled_at, "hotel_id": hotel, "xml": xml}
                        ).encode(),
                        ack_key=(queue, res_id),
                    )
                )
        return out

    async def acknowledge(
        self, credentials: Mapping[str, Any], messages: Sequence[PulledMessage]
    ) -> list[AckRefusal]:
        """One acknowledgement per queue; if the platform refuses it (a message changed since
        it was handed out: "wrong type"), each is acknowledged on its own and a refused one is
        left for the next pull (which hands out its latest version: nothing to report).

        Once the platform took one acknowledgement, a later request of this call that fails is
        not left to the engine's retry (which would send the accepted one again): its messages
        are returned as left for the next pull, which hands them out again, so that every
        revision is acknowledged exactly once."""
        by_queue: dict[str, list[str]] = {}
        for m in messages:
            by_queue.setdefault(m.ack_key[0], []).append(m.ack_key[1])
        left: list[AckRefusal] = []
        taken = False

        async def settled(queue: str, ids: list[str]) -> bool:
            """True when nothing more is to be tried for ``ids`` in this call."""
            nonlocal taken
            try:
                ok = await self._ack(queue, ids)
            except PlatformError as exc:
                if not taken or isinstance(exc, CredentialsRefused):
                    raise
                left.extend(
                    AckRefusal(r, str(exc.status or "error"), str(exc)[:300], next_pull=True)
                    for r in ids
                )
                return True
            taken = taken or ok
            return ok

        for queue, ids in by_queue.items():
            if await settled(queue, ids) or len(ids) == 1:
                continue
            for res_id in ids:
                await settled(queue, [res_id])
        return left

    async def _ack(self, queue: str, ids: list[str]) -> bool:
        endpoint = QUEUES[queue][0]
        body = ota.to_bytes(acknowledgement(queue, ids, target=self.target))
        response = await self._request("POST", f"/hotels/ota/{endpoint}", f"{endpoint} ack", body)
        return response.is_success

    async def pull_bookings(
        self, credentials: Mapping[str, Any], listing_id: str
    ) -> list[InboundReservation]:
        """For reconciliation: what waits in the queues for this room rate, not acknowledged
        (the poller acknowledges it once applied)."""
        out = []
        for pulled in await self.fetch({"hotel_id": _parts(listing_id)[0]}):
            res = self.parse_message(pulled.body).reservation
            if res is not None and res.listing_id == listing_id:
                out.append(res)
        return out

    def parse_message(self, body: bytes) -> InboundMessage:
        envelope = json.loads(body)
        el = ota.parse(envelope["xml"].encode())
        res = reservation(el, str(envelope["hotel_id"]))
        status = el.get("ResStatus", "Commit")
        return InboundMessage(
            message_id=f"{res.code}:{envelope['queue']}:{_digest(envelope['xml'])}",
            event_type=f"reservation.{status.lower()}",
            occurred_at=datetime.fromisoformat(envelope["pulled_at"]),
            reservation=res,
        )


def acknowledgement(queue: str, ids: Sequence[str], *, target: str = "Production") -> ET.Element:
    """The ``OTA_HotelResNotifRS`` / ``OTA_HotelResModifyNotifRS`` that acknowledges the
    reservations ``ids`` of a queue (``"new"`` or ``"modify"``)."""
    endpoint, container, element = QUEUES[queue]
    rs = ota.root(f"{endpoint}RS", target=target, version="2.001")
    ET.SubElement(rs, "Success")
    holder = ET.SubElement(rs, container)
    for res_id in dict.fromkeys(ids):
        item = ET.SubElement(holder, element)
        ET.SubElement(
            ET.SubElement(ET.SubElement(item, "ResGlobalInfo"), "HotelReservationIDs"),
            "HotelReservationID",
            {"ResID_Value": res_id},
        )
    return rs


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _digest(xml: str) -> str:
    import hashlib

    return hashlib.sha256(xml.encode()).hexdigest()[:16]


def _detail(response: httpx.Response) -> str:
    answer = ota.answer(response.content)
    if answer is not None and answer.errors:
        return "; ".join(str(e) for e in answer.errors[:3])
    return response.reason_phrase


def _res_id(el: ET.Element) -> str:
    found = el.find(f".//{ota.q('HotelReservationID')}")
    if found is None or not found.get("ResID_Value"):
        raise PlatformError("Booking.com reservation without HotelReservationID")
    return str(found.get("ResID_Value"))


def _night(units: int, rate: ET.Element | None, currency: str) -> NightValues:
    if rate is None:
        return NightValues(available=units > 0)
    price = rate.findtext("price")  # the occupancy prices carry an attribute; the first is base
    base = next((p.text for p in rate.findall("price") if p.get("occupancy") is None), None)
    closed = rate.findtext("closed") == "1"
    return NightValues(
        available=units > 0 and not closed,
        price_minor=ota.minor(base, currency)
        if base
        else (ota.minor(price, currency) if price else None),
        min_stay=int(rate.findtext("minimumstay") or 0) or None,
        max_stay=int(rate.findtext("maximumstay") or 0) or None,
        closed_to_arrival=rate.findtext("closedonarrival") == "1",
        closed_to_departure=rate.findtext("closedondeparture") == "1",
    )


def reservation(el: ET.Element, hotel: str) -> InboundReservation:
    """A ``HotelReservation`` / ``HotelResModify`` as a snapshot: the platform's per-night
    prices exactly (``Rate/Total`` scaled by ``DecimalPlaces``)."""
    q = ota.q
    stay = el.find(f"{q('RoomStays')}/{q('RoomStay')}")
    if stay is None:
        raise PlatformError("Booking.com reservation without RoomStay")
    room = stay.find(f"{q('RoomTypes')}/{q('RoomType')}")
    plan = stay.find(f"{q('RatePlans')}/{q('RatePlan')}")
    prop = stay.find(q("BasicPropertyInfo"))
    prices: dict[date, int] = {}
    currency = ""
    rate_code = plan.get("RatePlanCode", "") if plan is not None else ""
    for room_rate in stay.iter(q("RoomRate")):
        total = room_rate.find(f"{q('Rates')}/{q('Rate')}/{q('Total')}")
        if total is None:
            continue
        currency = total.get("CurrencyCode", currency)
        prices[date.fromisoformat(room_rate.get("EffectiveDate", ""))] = ota.scaled_minor(
            total.get("AmountAfterTax", "0"), total.get("DecimalPlaces"), currency
        )
        # The VCC feature suffixes the rate plan code; the listing is the plain rate plan.
        rate_code = rate_code or room_rate.get("RatePlanCode", "").removesuffix("VCC")
    if not prices:
        raise PlatformError("Booking.com reservation without nights")
    nights = sorted(prices)
    counts = {
        g.get("AgeQualifyingCode"): int(g.get("Count", "0")) for g in stay.iter(q("GuestCount"))
    }
    name = el.find(f"{q('ResGlobalInfo')}//{q('Customer')}/{q('PersonName')}")
    total_minor = sum(prices.values())
    return InboundReservation(
        code=_res_id(el),
        listing_id=listing_id(
            prop.get("HotelCode", hotel) if prop is not None else hotel,
            room.get("RoomTypeCode", "") if room is not None else "",
            rate_code,
        ),
        status=_STATUS.get(el.get("ResStatus", "Commit"), "confirmed"),
        check_in=nights[0],
        check_out=nights[-1] + timedelta(days=1),
        adults=max(1, counts.get("10", 1)),
        children=counts.get("8", 0),
        first_name=(name.findtext(q("GivenName")) if name is not None else None) or "Booking.com",
        last_name=(name.findtext(q("Surname")) if name is not None else None) or "Guest",
        nightly_price_minor=prices[nights[0]],
        total_minor=total_minor,
        currency=currency or "EUR",
        raw={
            "status": el.get("ResStatus", "Commit"),
            "nights": {n.isoformat(): p for n, p in prices.items()},
            "adults": counts.get("10", 1),
            "children": counts.get("8", 0),
            "room": room.get("RoomTypeCode") if room is not None else None,
        },
        night_prices_minor={n.isoformat(): p for n, p in prices.items()},
    )
