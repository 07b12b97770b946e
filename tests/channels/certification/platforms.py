"""The platforms the certification suite runs for: one driver each, holding only what differs
between platforms (how to connect and map, how to read the platform's nights back, how a guest
books, changes and cancels there, how its messages reach us). Adding a platform
is a driver here and its name in ``PLATFORMS``; a scenario it cannot express goes into its
``cannot`` with the reason, and the suite reports it as skipped with that reason."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from pms.channel import inbound, pull
from pms.channel.adapters import adapter_for
from pms.channel.adapters.base import Puller
from pms.channel.adapters.google import MAX_RUNS, PACKAGE
from pms.settings import get_settings
from tests.factories import Agency
from tests.integration.channel.helpers import HOST_CODE, connect_account, map_listing


@dataclass
class Night:
    """One night as the platform shows it (normalised across platforms)."""

    available: bool
    price: Decimal | None
    min_stay: int | None
    max_stay: int | None
    closed_to_arrival: bool
    closed_to_departure: bool


@dataclass
class Driver:
    platform: ClassVar[str]
    # Calls a change of every night of 365 may cost: the platform's batching minimum.
    max_calls_365: ClassVar[int]
    # Scenario number → why the platform cannot express it.
    cannot: ClassVar[dict[int, str]] = {}
    # Messages are pulled (and acknowledged) rather than pushed as webhooks.
    pulls: ClassVar[bool] = False
    # A guest's booking or change carries the platform's price (else the platform charges our
    # quote, and a changed stay is priced by Core).
    sets_price: ClassVar[bool] = True
    api_url: str = ""
    connection_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    async def setup(self, sandbox: httpx.AsyncClient) -> None:
        """Point the simulator at us (webhooks), after its reset."""

    # The remote listing mapped (platforms that list them: connect, list, map).
    listing: ClassVar[str] = ""

    def connection_body(self) -> dict[str, Any]:
        """What ``POST /channel-connections`` is given (besides the platform)."""
        raise NotImplementedError

    def stay_body(self) -> dict[str, Any]:
        """Where a guest books on the platform: the listing (and room and rate, where the
        platform has them)."""
        return {"listing_id": self.listing}

    async def connect(self, client: httpx.AsyncClient, a: Agency) -> tuple[str, str]:
        """Connect, list the account's remote listings, map ``listing`` to the property."""
        body = {"platform": self.platform, **self.connection_body()}
        connection_id, _ = await connect_account(client, a, body)
        return connection_id, await map_listing(client, a, connection_id, self.listing)

    async def shown(self, sandbox: httpx.AsyncClient, start: date, end: date) -> dict[str, Night]:
        raise NotImplementedError

    async def book(
        self,
        sandbox: httpx.AsyncClient,
        arrival: date,
        departure: date,
        *,
        price: str | None = None,
        force: bool = False,
    ) -> str:
        body: dict[str, Any] = {
            **self.stay_body(),
            "arrival": arrival.isoformat(),
            "departure": departure.isoformat(),
            "force": force,
        }
        if price is not None:
            body["price_per_night"] = price
        r = await sandbox.post(f"/control/{self.sim}/bookings", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def modify(self, sandbox: httpx.AsyncClient, code: str, **change: Any) -> None:
        r = await sandbox.patch(f"/control/{self.sim}/bookings/{code}", json=change)
        assert r.status_code == 200, r.text

    async def cancel(self, sandbox: httpx.AsyncClient, code: str) -> None:
        r = await sandbox.post(f"/control/{self.sim}/bookings/{code}/cancel")
        assert r.status_code == 200, r.text

    async def deliver(self) -> None:
        """What the scheduler does for inbound messages between two looks (pull platforms pull;
        webhook platforms need nothing)."""
        if self.pulls:
            await pull.poll(uuid.UUID(self.connection_id), get_settings())

    async def acknowledged(self, sandbox: httpx.AsyncClient, code: str) -> bool:
        """The platform holds nothing unacknowledged for this reservation."""
        return True

    async def ack_counts(self, sandbox: httpx.AsyncClient, code: str) -> list[int]:
        """Pull platforms: per state of the reservation that was acknowledged (Booking.com: a
        revision; Expedia: a Book, Modify or Cancel message), how many acknowledgements the
        platform accepted for it. Exactly once: every count is 1."""
        raise NotImplementedError

    @property
    def credentials(self) -> dict[str, str]:
        """What the pulling adapter is called with (pull platforms)."""
        raise NotImplementedError

    async def _fetched(self) -> list[int]:
        """A pull whose acknowledgement is lost: fetched and stored in the inbox, not acked."""
        adapter = adapter_for(self.platform, get_settings())
        assert isinstance(adapter, Puller)
        return [await pull._store(self.platform, m) for m in await adapter.fetch(self.credentials)]

    async def redeliver(self, sandbox: httpx.AsyncClient, code: str) -> None:
        """Make the platform deliver the newest message about ``code`` a second time. Pull
        platforms: the acknowledgement of a pull is lost, so the next pull hands the same
        message out again (stored once, then acknowledged)."""
        await self.modify(sandbox, code, adults=3)
        for inbox_id in await self._fetched():
            await inbound.apply_message(inbox_id, get_settings())
        await self.deliver()

    async def stale_after(self, sandbox: httpx.AsyncClient, code: str, **change: Any) -> None:
        """Apply ``change`` on the platform so that the message before it arrives after it.
        Pull platforms: a pulled message is stored but applied only after the next revision
        was (a worker died in between): the older one must not win."""
        await self.modify(sandbox, code, adults=4)
        stale = await self._fetched()
        await self.modify(sandbox, code, **change)
        await self.deliver()
        for inbox_id in stale:
            await inbound.apply_message(inbox_id, get_settings())

    @property
    def sim(self) -> str:
        return self.platform


def _night(d: dict[str, Any]) -> Night:
    return Night(
        available=bool(d["available"]),
        price=Decimal(d["price"]) if d.get("price") is not None else None,
        min_stay=d.get("min_stay"),
        max_stay=d.get("max_stay"),
        closed_to_arrival=bool(d.get("closed_to_arrival")),
        closed_to_departure=bool(d.get("closed_to_departure")),
    )


class Airbnb(Driver):
    platform = "airbnb"
    max_calls_365 = math.ceil(365 / 100)  # 100 operations per call
    listing = "50001"

    async def setup(self, sandbox: httpx.AsyncClient) -> None:
        r = await sandbox.put(
            "/control/airbnb/webhook",
            json={
                "url": f"{self.api_url}/api/v1/channels/airbnb/webhooks",
                "backoff_base_s": 0.2,
            },
        )
        r.raise_for_status()

    def connection_body(self) -> dict[str, Any]:
        return {"authorization_code": HOST_CODE}

    async def shown(self, sandbox: httpx.AsyncClient, start: date, end: date) -> dict[str, Night]:
        r = await sandbox.get(
            f"/control/airbnb/listings/{self.listing}/days",
            params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
        )
        r.raise_for_status()
        return {d["date"]: _night(d) for d in r.json()}

    async def redeliver(self, sandbox: httpx.AsyncClient, code: str) -> None:
        """Airbnb redelivers: its webhook fault duplicates the next event."""
        plan = {"seed": 15, "webhook_duplicate_rate": 1.0}
        (await sandbox.put("/control/airbnb/faults", json=plan)).raise_for_status()
        await self.modify(sandbox, code, adults=3)
        await self._settled(sandbox)
        (await sandbox.delete("/control/airbnb/faults")).raise_for_status()
        hooks = (await sandbox.get("/control/airbnb/webhooks")).json()
        assert any(h["copy"] == 2 and h["state"] == "delivered" for h in hooks), hooks

    async def stale_after(self, sandbox: httpx.AsyncClient, code: str, **change: Any) -> None:
        """Airbnb's reorder fault holds an event back until the next one has gone out."""
        plan = {"seed": 16, "webhook_reorder_rate": 1.0}
        (await sandbox.put("/control/airbnb/faults", json=plan)).raise_for_status()
        await self.modify(sandbox, code, adults=4)
        (await sandbox.delete("/control/airbnb/faults")).raise_for_status()
        await self.modify(sandbox, code, **change)

    async def _settled(self, sandbox: httpx.AsyncClient) -> None:
        from tests.services import eventually

        async def settled() -> bool:
            hooks = (await sandbox.get("/control/airbnb/webhooks")).json()
            return all(h["state"] in ("delivered", "failed", "dropped") for h in hooks)

        await eventually(settled, 20, "every webhook delivered")


class HotelRoomRate(Driver):
    """A platform of hotels, room types and rate plans (Booking.com, Expedia): the listing is
    ``hotel/room/rate``, the platform's read-back is per hotel, reservations are pulled."""

    pulls = True
    hotel: ClassVar[str]
    room: ClassVar[str]
    rate: ClassVar[str]

    @property
    def listing(self) -> str:  # type: ignore[override]
        return f"{self.hotel}/{self.room}/{self.rate}"

    def connection_body(self) -> dict[str, Any]:
        return {"credentials": self.credentials}

    def stay_body(self) -> dict[str, Any]:
        return {"listing_id": self.hotel, "room_id": self.room, "rate_plan_id": self.rate}

    async def shown(self, sandbox: httpx.AsyncClient, start: date, end: date) -> dict[str, Night]:
        r = await sandbox.get(
            f"/control/{self.sim}/listings/{self.hotel}/days",
            params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
        )
        r.raise_for_status()
        return {
            d["date"]: _night(d)
            for d in r.json()
            if d["room_id"] == self.room and d["rate_plan_id"] == self.rate
        }


class BookingCom(HotelRoomRate):
    platform = "booking_com"
    # One request pair per month of changed nights: 365 nights touch at most 13 months.
    max_calls_365 = 13
    hotel, room, rate = "9000001", "900000101", "55500001"

    @property
    def sim(self) -> str:
        return "booking"

    async def acknowledged(self, sandbox: httpx.AsyncClient, code: str) -> bool:
        found = [x for x in (await sandbox.get("/control/booking/reservations")).json()]
        return any(x["id"] == code and x["queued_in"] == [] for x in found)

    async def ack_counts(self, sandbox: httpx.AsyncClient, code: str) -> list[int]:
        found = (await sandbox.get("/control/booking/reservations")).json()
        return [n for x in found if x["id"] == code for n in x["acks"].values()]

    @property
    def credentials(self) -> dict[str, str]:
        return {"hotel_id": self.hotel}


class Expedia(HotelRoomRate):
    platform = "expedia"
    max_calls_365 = math.ceil(365 / 120)  # 120 updates per AR message (under 100 KB)
    hotel, room, rate = "12933870", "201357986", "206651831A"

    @property
    def credentials(self) -> dict[str, str]:
        return {"username": "EQCsandbox", "password": "eqc-pass", "hotel_id": self.hotel}

    async def acknowledged(self, sandbox: httpx.AsyncClient, code: str) -> bool:
        """Every message of the booking confirmed (BC) with our number."""
        found = [x for x in (await sandbox.get("/control/expedia/bookings")).json()]
        return any(
            x["id"] == code
            and all(
                m["status"] == "confirmed" and m["confirm_number"] == f"PMS-{code}"
                for m in x["messages"]
            )
            for x in found
        )

    async def ack_counts(self, sandbox: httpx.AsyncClient, code: str) -> list[int]:
        found = (await sandbox.get("/control/expedia/bookings")).json()
        return [m["confirmations"] for x in found if x["id"] == code for m in x["messages"]]


_NO_BOOKINGS = (
    "Google Vacation Rentals takes no bookings: Google sends the guest to our booking site "
    "(the landing page), where the stay is a direct booking (scenario 10 covers how it closes "
    "the nights on Google)"
)


class Vrbo(Driver):
    """FeWo-direkt/Vrbo pulls our feeds and books in real time by calling our booking endpoint.
    The read-back is what the simulator shows after it pulled our feeds (a pull is triggered
    before each look, as its schedule would); guests book, change and cancel through the
    simulator, which calls us and waits for our answer (that answer is the acknowledgement)."""

    platform = "fewo_direkt"
    # Nothing is sent: a flush records what the feeds now say, one record for any change.
    max_calls_365 = 1
    sets_price = False  # Vrbo asks us for the price (quoteRequest) and charges it
    listing = "501"
    password = "vrbo-cert-password-1"
    cannot: ClassVar[dict[int, str]] = {
        14: "Vrbo books in real time through our bookingRequest: a stay that clashes with a "
        "Core stay is refused under the inventory guard (errorList DATES_NOT_AVAILABLE) and "
        "Vrbo does not take it, so no platform booking can collide with a Core stay (the refusal "
        "and 20 concurrent requests giving one CONFIRMED: tests/integration/channel/test_vrbo.py)",
        15: "Vrbo's booking and update requests are synchronous calls answered at once, with no "
        "message queue or revision: the platform delivers nothing twice or out of order; a "
        "repeated bookingRequest (same trackingUuid) answers the same reservation "
        "(test_vrbo.py::test_bad_input_wrong_credentials_and_other_agencies)",
        16: "we never call Vrbo with credentials: Vrbo calls us with the connection's, so there "
        "is nothing of ours the platform can revoke (wrong or another connection's credentials "
        "get a 401 from our feeds and booking endpoint: test_vrbo.py)",
        17: "nothing is pushed to Vrbo, so nothing of ours fails or waits while it is down: its "
        "next pull reads the full current state from the feeds (each document carries all 365 "
        "nights), and a guest cannot book on a platform that is down",
        18: "we send Vrbo no requests to rate-limit: Vrbo pulls at its own pace, and an unchanged "
        "feed answers 304 (test_vrbo_unchanged.py)",
    }

    @property
    def sim(self) -> str:
        return "vrbo"

    async def setup(self, sandbox: httpx.AsyncClient) -> None:
        self.extra["sandbox"] = sandbox

    async def connect(self, client: httpx.AsyncClient, a: Agency) -> tuple[str, str]:
        username = f"vrbo-cert-{uuid.uuid4().hex[:8]}"
        r = await client.post(
            "/api/v1/channel-connections",
            json={
                "platform": "fewo_direkt",
                "credentials": {
                    "username": username,
                    "password": self.password,
                    "advertiser_id": f"adv-{username}",
                    "listings": self.listing,
                },
            },
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        connection_id = r.json()["id"]
        r = await client.post(
            f"/api/v1/channel-connections/{connection_id}/mappings",
            json={"remote_listing_id": self.listing, "property_id": a.property_id},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        mapping_id = str(r.json()["id"])
        base = f"{self.api_url}/api/v1/channels/fewo_direkt/{connection_id}"
        sandbox: httpx.AsyncClient = self.extra["sandbox"]
        r = await sandbox.put(
            "/control/vrbo/config",
            json={
                "feed_url": f"{base}/feeds/advertisersContentIndex",
                "booking_url": f"{base}/booking",
                "username": username,
                "password": self.password,
                "timeout_s": 10,
            },
        )
        r.raise_for_status()
        return connection_id, mapping_id

    async def shown(self, sandbox: httpx.AsyncClient, start: date, end: date) -> dict[str, Night]:
        r = await sandbox.post("/control/vrbo/pull")
        r.raise_for_status()
        assert r.json()["errors"] == [], r.json()
        r = await sandbox.get(
            f"/control/vrbo/listings/{self.listing}/days",
            params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
        )
        if r.status_code == 404:
            return {}  # Vrbo has read nothing of the listing yet
        r.raise_for_status()
        out = {}
        for d in r.json():
            night = _night(d)
            night.max_stay = night.max_stay or None  # the feed's maxStay 0: no maximum
            out[d["date"]] = night
        return out

    async def book(
        self,
        sandbox: httpx.AsyncClient,
        arrival: date,
        departure: date,
        *,
        price: str | None = None,
        force: bool = False,
    ) -> str:
        # No price: Vrbo charges the guest our quote (its quoteRequest/bookingRequest).
        r = await sandbox.post(
            "/control/vrbo/bookings",
            json={
                "listing_id": self.listing,
                "arrival": arrival.isoformat(),
                "departure": departure.isoformat(),
                "force": force,
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def acknowledged(self, sandbox: httpx.AsyncClient, code: str) -> bool:
        """Our answer to each of the stay's requests came in time and was read."""
        found = (await sandbox.get("/control/vrbo/reservations")).json()
        return any(
            x["id"] == code
            and x["external_id"]
            and all(e["outcome"] == "answered" for e in x["exchanges"])
            for x in found
        )


class Google(Driver):
    """Google Vacation Rentals: ARI pushed as OTA messages (Property Data once, on connecting).
    Google offers no read-back of ARI: the simulator's control read-back shows the nights as
    Google holds them (rate plan ``standard``)."""

    platform = "google"
    max_calls_365 = math.ceil(365 / MAX_RUNS)  # runs per push (rates, inventory, availability)
    listing = "fewo-42"
    partner = "pms_partner_key"
    cannot: ClassVar[dict[int, str]] = {
        11: _NO_BOOKINGS,
        12: _NO_BOOKINGS,
        13: _NO_BOOKINGS,
        14: _NO_BOOKINGS,
        15: _NO_BOOKINGS + "; and no messages reach us from Google to duplicate or reorder",
        17: "the scenario recovers by reconciliation, which reads the platform's ARI back: "
        "Google Hotel Center offers no ARI read-back (the adapter refuses it), so there is "
        "nothing to reconcile with (what an outage dead-lettered goes out again with the dead "
        "letters' retry); and the booking the scenario makes during the outage cannot exist "
        "on Google",
    }

    async def connect(self, client: httpx.AsyncClient, a: Agency) -> tuple[str, str]:
        r = await client.post(
            "/api/v1/channel-connections",
            json={
                "platform": "google",
                "credentials": {"partner_key": self.partner, "listings": self.listing},
            },
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        connection_id = r.json()["id"]
        r = await client.post(
            f"/api/v1/channel-connections/{connection_id}/mappings",
            json={"remote_listing_id": self.listing, "property_id": a.property_id},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        mapping_id = str(r.json()["id"])
        r = await client.post(
            f"/api/v1/channel-connections/{connection_id}/google/property-data",
            headers={**a.auth(), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.text
        return connection_id, mapping_id

    async def shown(self, sandbox: httpx.AsyncClient, start: date, end: date) -> dict[str, Night]:
        r = await sandbox.get(
            f"/control/google/listings/{self.listing}/days",
            params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
        )
        r.raise_for_status()
        return {d["date"]: _night(d) for d in r.json() if d["rate_plan_id"] == PACKAGE}


PLATFORMS: dict[str, type[Driver]] = {
    "airbnb": Airbnb,
    "booking_com": BookingCom,
    "expedia": Expedia,
    "fewo_direkt": Vrbo,
    "google": Google,
}
