"""Booking.com simulator state: accounts, the ARI calendar, reservation queues, auth and tokens."""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import jwt

from pms.sandbox.accounts import PerAccount
from pms.sandbox.booking.accounts import Account, Hotel, seed_accounts, seed_hotels
from pms.sandbox.booking.ari import Refused
from pms.sandbox.booking.reservations import Queue, Reservation
from pms.sandbox.clock import CET, SimClock
from pms.sandbox.control import ControlError, GuestBooking, GuestChange
from pms.sandbox.days import Calendar, DayView, nights, stay_nights
from pms.sandbox.faults import Faults
from pms.sandbox.ota import OtaError
from pms.sandbox.ratelimit import SlidingWindow

TOKEN_ISSUER = "urn://connectivity-modern-auth/v1"
TOKEN_AUDIENCE = "supply-xml.booking.com"  # [GUESS] aud value not captured
TOKEN_LIFETIME = timedelta(hours=1)
TOKENS_PER_HOUR = 30
DEFAULT_PRICE = Decimal("100.00")


class AuthFailed(Exception):
    pass


class BookingSimulator:
    name = "booking"

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.faults = Faults()
        self._jwt_key = secrets.token_bytes(32)
        self.reset()

    def reset(self) -> None:
        self.hotels: dict[str, Hotel] = seed_hotels()
        self.accounts: dict[str, Account] = seed_accounts()
        self.calendar = Calendar()
        self.reservations: dict[str, Reservation] = {}
        self._ids = itertools.count(4_000_000_001)
        self._hotel_ids = itertools.count(9_100_001)
        # No numeric limit is documented for Connectivity: the simulator's own default.
        self.limiter = SlidingWindow(600, 60.0, self.clock.seconds)
        self.overrides = PerAccount(self.clock.seconds)  # accounts: machine account usernames
        self.token_limiter = SlidingWindow(TOKENS_PER_HOUR, 3600.0, self.clock.seconds)
        self.faults.clear()

    def webhook_target(self) -> dict[str, Any]:
        """Booking.com pushes nothing: reservations wait in its queues for the PMS to pull."""
        return {
            "delivery": "pull",
            "url": None,
            "queues": ["OTA_HotelResNotif", "OTA_HotelResModifyNotif"],
        }

    def create_hotels(self, count: int, currency: str, username: str) -> list[dict[str, str]]:
        """``count`` new hotels of one room and one rate plan each, managed by the machine
        account ``username`` (the bench maps many hotels at once)."""
        account = self.accounts.get(username)
        if account is None:
            raise ControlError(404, f"No machine account {username}")
        out = []
        for _ in range(count):
            hotel_id = str(next(self._hotel_ids))
            room_id, rate_id = f"{hotel_id}01", f"7{hotel_id}"
            self.hotels[hotel_id] = Hotel(hotel_id, currency, {room_id: {rate_id}})
            account.hotel_ids.add(hotel_id)
            out.append(
                {
                    "hotel_id": hotel_id,
                    "room_id": room_id,
                    "rate_plan_id": rate_id,
                    "listing_id": f"{hotel_id}/{room_id}/{rate_id}",
                }
            )
        return out

    def today_cet(self) -> date:
        return self.clock.today_in(CET)

    # --- authentication -------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Account:
        if self.faults.credentials_expired or not authorization:
            raise AuthFailed
        scheme, _, value = authorization.partition(" ")
        # Basic auth was sunset on 31 Dec 2025: the platform answers it with 401, as it does
        # any other credentials it does not take. Only tokens from the exchange work.
        if scheme.lower() == "bearer":
            try:
                claims = jwt.decode(
                    value,
                    self._jwt_key,
                    algorithms=["HS256"],
                    audience=TOKEN_AUDIENCE,
                    issuer=TOKEN_ISSUER,
                    # Expiry and issue time are judged by the sandbox clock, which tests can
                    # move forward (a token issued after a move is not "from the future").
                    options={
                        "require": ["exp", "iat", "sub"],
                        "verify_exp": False,
                        "verify_iat": False,
                    },
                )
            except jwt.PyJWTError as exc:
                raise AuthFailed from exc
            if claims["exp"] <= self.clock.now().timestamp():
                raise AuthFailed
            for account in self.accounts.values():
                if account.client_id == claims["sub"]:
                    return account
        raise AuthFailed

    def exchange(self, client_id: str, client_secret: str) -> str:
        account = next((a for a in self.accounts.values() if a.client_id == client_id), None)
        if (
            self.faults.credentials_expired
            or account is None
            or not secrets.compare_digest(client_secret, account.client_secret)
        ):
            raise AuthFailed
        now = self.clock.now()
        claims = {
            "sub": client_id,
            "aud": TOKEN_AUDIENCE,
            "iss": TOKEN_ISSUER,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
        }
        return jwt.encode(claims, self._jwt_key, algorithm="HS256")

    # --- reservation queues ---------------------------------------------------------------

    def pull(
        self,
        account: Account,
        queue: Queue,
        hotel_ids: set[str] | None,
        res_id: str | None,
        limit: int | None,
    ) -> list[Reservation]:
        if hotel_ids is not None and not hotel_ids <= account.hotel_ids:
            raise Refused(
                403,
                [
                    OtaError(
                        6,
                        497,
                        "Access denied for hotel",
                        "No access to " + ",".join(sorted(hotel_ids)),
                    )
                ],
            )
        out = []
        for res in sorted(self.reservations.values(), key=lambda r: r.created_at):
            if queue not in res.pending or res.hotel_id not in account.hotel_ids:
                continue
            if hotel_ids is not None and res.hotel_id not in hotel_ids:
                continue
            if res_id is not None and res.id != res_id:
                continue
            out.append(res)
        out = out[:limit] if limit else out
        for res in out:
            res.delivered[queue] = res.version
        return out

    def ack(self, account: Account, queue: Queue, ids: list[str]) -> None:
        """All or nothing: every id is checked before any leaves its queue."""
        for res_id in ids:
            res = self.reservations.get(res_id)
            if res is None:
                raise Refused(
                    404,
                    [
                        OtaError(
                            3,
                            245,
                            "Hotel reservation was not found",
                            f"No reservation {res_id}",
                            res_id,
                        )
                    ],
                )
            if res.hotel_id not in account.hotel_ids:
                raise Refused(
                    403,
                    [
                        OtaError(
                            6,
                            497,
                            "Access denied for hotel",
                            f"No access to hotel {res.hotel_id}",
                            res_id,
                        )
                    ],
                )
            waiting = res.pending.get(queue)
            if waiting is None and not res.pending:
                continue  # already acknowledged: acknowledging again changes nothing (counted)
            if waiting is None or res.delivered.get(queue) != waiting:
                raise Refused(
                    400,
                    [
                        OtaError(
                            3,
                            450,
                            "Hotel reservation has transaction message of the wrong type",
                            "Fetch the latest message for this reservation and acknowledge it "
                            "on its own endpoint",
                            res_id,
                        )
                    ],
                )
        for res_id in dict.fromkeys(ids):
            res = self.reservations[res_id]
            version = res.pending.pop(queue, res.version)
            res.acks[version] = res.acks.get(version, 0) + 1

    # --- the platform's view --------------------------------------------------------------

    def _sellable(self, res: Reservation) -> bool:
        nights_ = stay_nights(res.arrival, res.departure)
        for night in nights_:
            room = self.calendar.get((res.hotel_id, res.room_id, ""), night)
            rate = self.calendar.get((res.hotel_id, res.room_id, res.rate_id), night)
            if room is None or not room.units or (rate is not None and rate.closed):
                return False
        first = self.calendar.get((res.hotel_id, res.room_id, res.rate_id), res.arrival)
        last = self.calendar.get((res.hotel_id, res.room_id, res.rate_id), res.departure)
        if first is not None:
            if first.closed_to_arrival:
                return False
            if first.min_stay and len(nights_) < first.min_stay:
                return False
            if first.max_stay and len(nights_) > first.max_stay:
                return False
        return not (last is not None and last.closed_to_departure)

    def _prices(
        self,
        res: Reservation,
        given: Decimal | None,
        kept: dict[date, Decimal] | None = None,
    ) -> dict[date, Decimal]:
        """Each night's price: the one given, else the one kept, else what we were loaded for
        the room rate (the occupancy price for the party where one is loaded), else the
        simulator's default for a night never priced."""
        out = {}
        for night in stay_nights(res.arrival, res.departure):
            if given is not None:
                out[night] = given
                continue
            if kept and night in kept:
                out[night] = kept[night]
                continue
            day = self.calendar.get((res.hotel_id, res.room_id, res.rate_id), night)
            guests = res.adults + res.children
            price = None
            if day is not None:
                price = day.prices_by_occupancy.get(guests) or day.price
            out[night] = price or DEFAULT_PRICE
        return out

    def _take(self, res: Reservation, delta: int) -> None:
        for night in stay_nights(res.arrival, res.departure):
            room = self.calendar.day((res.hotel_id, res.room_id, ""), night)
            if room.units is not None:
                room.units = max(0, room.units + delta)

    def days(self, listing_id: str, start: date, end: date) -> list[DayView]:
        hotel = self.hotels.get(listing_id)
        if hotel is None:
            raise ControlError(404, f"no hotel {listing_id}")
        out = []
        for room_id, rate_ids in sorted(hotel.rooms.items()):
            for rate_id in sorted(rate_ids):
                for night in nights(start, end):
                    room = self.calendar.get((hotel.id, room_id, ""), night)
                    rate = self.calendar.get((hotel.id, room_id, rate_id), night)
                    units = room.units if room else None
                    out.append(
                        DayView(
                            date=night,
                            room_id=room_id,
                            rate_plan_id=rate_id,
                            available=bool(units) and not (rate and rate.closed),
                            units=units,
                            price=rate.price if rate else None,
                            currency=rate.currency if rate else None,
                            prices_by_occupancy=rate.prices_by_occupancy if rate else {},
                            min_stay=rate.min_stay if rate else None,
                            max_stay=rate.max_stay if rate else None,
                            closed_to_arrival=bool(rate and rate.closed_to_arrival),
                            closed_to_departure=bool(rate and rate.closed_to_departure),
                        )
                    )
        return out

    # --- guests (control API) -------------------------------------------------------------

    async def create_booking(self, booking: GuestBooking) -> dict[str, Any]:
        hotel = self.hotels.get(booking.listing_id)
        if hotel is None:
            raise ControlError(404, f"no hotel {booking.listing_id}")
        room_id = booking.room_id or min(hotel.rooms)
        if room_id not in hotel.rooms:
            raise ControlError(404, f"no room {room_id} in hotel {hotel.id}")
        rate_id = booking.rate_plan_id or min(hotel.rooms[room_id])
        if rate_id not in hotel.rooms[room_id]:
            raise ControlError(404, f"no rate {rate_id} on room {room_id}")
        res = Reservation(
            id=str(next(self._ids)),
            hotel_id=hotel.id,
            room_id=room_id,
            rate_id=rate_id,
            arrival=booking.arrival,
            departure=booking.departure,
            adults=booking.adults,
            children=booking.children,
            first_name=booking.first_name,
            last_name=booking.last_name,
            email=str(booking.email),
            phone=booking.phone,
            prices={},
            currency=booking.currency or hotel.currency,
            room_name=hotel.room_name(room_id),
            created_at=self.clock.now(),
            pending={"new": 1},
        )
        if not booking.force and not self._sellable(res):
            raise ControlError(409, "the nights are not bookable on Booking.com")
        res.prices = self._prices(res, booking.price_per_night)
        self._take(res, -1)
        self.reservations[res.id] = res
        return self._summary(res)

    async def modify_booking(self, booking_id: str, change: GuestChange) -> dict[str, Any]:
        res = self._live(booking_id)
        before = dataclasses.replace(res)
        self._take(res, +1)
        for name in ("arrival", "departure", "adults", "children"):
            if (value := getattr(change, name)) is not None:
                setattr(res, name, value)
        if res.departure <= res.arrival or not self._sellable(res):
            self._restore(res, before)
            raise ControlError(409, "the changed stay is not bookable on Booking.com")
        # Nights kept keep the price booked; new nights cost what is loaded now.
        kept = {n: p for n, p in before.prices.items() if res.arrival <= n < res.departure}
        res.prices = self._prices(res, change.price_per_night, kept)
        self._take(res, -1)
        self._next_version(res, "modified")
        return self._summary(res)

    async def cancel_booking(self, booking_id: str) -> dict[str, Any]:
        res = self._live(booking_id)
        self._take(res, +1)
        self._next_version(res, "cancelled")
        return self._summary(res)

    def _live(self, booking_id: str) -> Reservation:
        res = self.reservations.get(booking_id)
        if res is None:
            raise ControlError(404, f"no reservation {booking_id}")
        if res.status == "cancelled":
            raise ControlError(409, f"reservation {booking_id} is cancelled")
        return res

    def _restore(self, res: Reservation, before: Reservation) -> None:
        for f in dataclasses.fields(Reservation):
            setattr(res, f.name, getattr(before, f.name))
        self._take(res, -1)

    def _next_version(self, res: Reservation, status: str) -> None:
        res.version += 1
        res.status = status  # type: ignore[assignment]
        # Documented: a change before the original was acknowledged arrives as a new reservation.
        if "new" in res.pending:
            res.pending["new"] = res.version
        else:
            res.pending["modify"] = res.version

    def _summary(self, res: Reservation) -> dict[str, Any]:
        return {
            "id": res.id,
            "hotel_id": res.hotel_id,
            "room_id": res.room_id,
            "rate_plan_id": res.rate_id,
            "arrival": res.arrival.isoformat(),
            "departure": res.departure.isoformat(),
            "status": res.status,
            "version": res.version,
            "queued_in": sorted(res.pending),
            # version -> acknowledgements accepted for it (exactly once: each value 1)
            "acks": {str(v): n for v, n in sorted(res.acks.items())},
            "total": f"{res.total:.2f}",
            "currency": res.currency,
        }

    def summaries(self) -> list[dict[str, Any]]:
        return [self._summary(r) for r in self.reservations.values()]
