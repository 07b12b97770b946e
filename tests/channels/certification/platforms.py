"""The platforms the certification suite runs for: one driver each, holding only what differs
between platforms (how to connect and map, how to read the platform's nights back, how a guest
books, changes and cancels there, how its messages reach us). Adding a platform (Vrbo, Google)
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
from pms.settings import get_settings
from tests.factories import Agency
from tests.integration.channel.helpers import HOST_CODE


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
    api_url: str = ""
    connection_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    async def setup(self, sandbox: httpx.AsyncClient) -> None:
        """Point the simulator at us (webhooks), after its reset."""

    async def connect(self, client: httpx.AsyncClient, a: Agency) -> tuple[str, str]:
        raise NotImplementedError

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
        raise NotImplementedError

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

    async def connect(self, client: httpx.AsyncClient, a: Agency) -> tuple[str, str]:
        r = await client.post(
            "/api/v1/channel-connections",
            json={"platform": "airbnb", "authorization_code": HOST_CODE},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        connection_id = r.json()["id"]
        r = await client.get(
            f"/api/v1/channel-connections/{connection_id}/remote-listings", headers=a.auth()
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/api/v1/channel-connections/{connection_id}/mappings",
            json={"remote_listing_id": self.listing, "property_id": a.property_id},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        return connection_id, r.json()["id"]

    async def shown(self, sandbox: httpx.AsyncClient, start: date, end: date) -> dict[str, Night]:
        r = await sandbox.get(
            f"/control/airbnb/listings/{self.listing}/days",
            params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
        )
        r.raise_for_status()
        return {d["date"]: _night(d) for d in r.json()}

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
            "listing_id": self.listing,
            "arrival": arrival.isoformat(),
            "departure": departure.isoformat(),
            "force": force,
        }
        if price is not None:
            body["price_per_night"] = price
        r = await sandbox.post("/control/airbnb/bookings", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

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


class BookingCom(Driver):
    platform = "booking_com"
    # One request pair per month of changed nights: 365 nights touch at most 13 months.
    max_calls_365 = 13
    pulls = True
    hotel, room, rate = "9000001", "900000101", "55500001"

    @property
    def sim(self) -> str:
        return "booking"

    @property
    def listing(self) -> str:
        return f"{self.hotel}/{self.room}/{self.rate}"

    async def connect(self, client: httpx.AsyncClient, a: Agency) -> tuple[str, str]:
        r = await client.post(
            "/api/v1/channel-connections",
            json={"platform": "booking_com", "credentials": {"hotel_id": self.hotel}},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        connection_id = r.json()["id"]
        r = await client.get(
            f"/api/v1/channel-connections/{connection_id}/remote-listings", headers=a.auth()
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/api/v1/channel-connections/{connection_id}/mappings",
            json={"remote_listing_id": self.listing, "property_id": a.property_id},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        return connection_id, r.json()["id"]

    async def shown(self, sandbox: httpx.AsyncClient, start: date, end: date) -> dict[str, Night]:
        r = await sandbox.get(
            f"/control/booking/listings/{self.hotel}/days",
            params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
        )
        r.raise_for_status()
        return {
            d["date"]: _night(d)
            for d in r.json()
            if d["room_id"] == self.room and d["rate_plan_id"] == self.rate
        }

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
            "listing_id": self.hotel,
            "room_id": self.room,
            "rate_plan_id": self.rate,
            "arrival": arrival.isoformat(),
            "departure": departure.isoformat(),
            "force": force,
        }
        if price is not None:
            body["price_per_night"] = price
        r = await sandbox.post("/control/booking/bookings", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def acknowledged(self, sandbox: httpx.AsyncClient, code: str) -> bool:
        found = [x for x in (await sandbox.get("/control/booking/reservations")).json()]
        return any(x["id"] == code and x["queued_in"] == [] for x in found)

    @property
    def credentials(self) -> dict[str, str]:
        return {"hotel_id": self.hotel}


class Expedia(Driver):
    platform = "expedia"
    max_calls_365 = math.ceil(365 / 120)  # 120 updates per AR message (under 100 KB)
    pulls = True
    hotel, room, rate = "12933870", "201357986", "206651831A"

    @property
    def listing(self) -> str:
        return f"{self.hotel}/{self.room}/{self.rate}"

    @property
    def credentials(self) -> dict[str, str]:
        return {"username": "EQCsandbox", "password": "eqc-pass", "hotel_id": self.hotel}

    async def connect(self, client: httpx.AsyncClient, a: Agency) -> tuple[str, str]:
        r = await client.post(
            "/api/v1/channel-connections",
            json={"platform": "expedia", "credentials": self.credentials},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        connection_id = r.json()["id"]
        r = await client.get(
            f"/api/v1/channel-connections/{connection_id}/remote-listings", headers=a.auth()
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/api/v1/channel-connections/{connection_id}/mappings",
            json={"remote_listing_id": self.listing, "property_id": a.property_id},
            headers=a.auth(),
        )
        assert r.status_code == 201, r.text
        return connection_id, r.json()["id"]

    async def shown(self, sandbox: httpx.AsyncClient, start: date, end: date) -> dict[str, Night]:
        r = await sandbox.get(
            f"/control/expedia/listings/{self.hotel}/days",
            params={"start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat()},
        )
        r.raise_for_status()
        return {
            d["date"]: _night(d)
            for d in r.json()
            if d["room_id"] == self.room and d["rate_plan_id"] == self.rate
        }

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
            "listing_id": self.hotel,
            "room_id": self.room,
            "rate_plan_id": self.rate,
            "arrival": arrival.isoformat(),
            "departure": departure.isoformat(),
            "force": force,
        }
        if price is not None:
            body["price_per_night"] = price
        r = await sandbox.post("/control/expedia/bookings", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

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


PLATFORMS: dict[str, type[Driver]] = {
    "airbnb": Airbnb,
    "booking_com": BookingCom,
    "expedia": Expedia,
}
