"""The control API shared by every simulator: act as a guest, read back, inject faults, reset.

It lives under ``/control/{platform}`` and never behind the fault injection of the platform paths.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, EmailStr, Field, model_validator

from pms.sandbox.accounts import PerAccount
from pms.sandbox.days import DayView
from pms.sandbox.faults import FaultPlan, Faults
from pms.sandbox.ratelimit import SlidingWindow


class GuestBooking(BaseModel):
    """A stay as a guest books it on the platform (ids are the platform's own)."""

    listing_id: str
    room_id: str | None = None
    rate_plan_id: str | None = None
    arrival: date
    departure: date
    adults: int = Field(default=2, ge=1, le=30)
    children: int = Field(default=0, ge=0, le=30)
    first_name: str = "Erika"
    last_name: str = "Mustermann"
    email: EmailStr = "guest@example.com"
    phone: str = "+49 30 1234567"
    price_per_night: Decimal | None = Field(default=None, gt=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    # Book even where the platform shows the nights as unavailable (to stage an overbooking).
    force: bool = False
    # Airbnb only: a reservation request the host must accept or decline (not instant book).
    request: bool = False

    @model_validator(mode="after")
    def _departure_after_arrival(self) -> GuestBooking:
        if self.departure <= self.arrival:
            raise ValueError("departure must be after arrival")
        return self


class GuestChange(BaseModel):
    arrival: date | None = None
    departure: date | None = None
    adults: int | None = Field(default=None, ge=1, le=30)
    children: int | None = Field(default=None, ge=0, le=30)
    price_per_night: Decimal | None = Field(default=None, gt=0)
    # Airbnb only: an alteration request the host must accept or decline.
    request: bool = False


class Limits(BaseModel):
    requests: int = Field(ge=1)
    window_s: float = Field(gt=0)


class ControlError(Exception):
    """A control call the simulator refuses (unknown id, unavailable nights...)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Simulator(Protocol):
    name: str
    faults: Faults
    limiter: SlidingWindow
    # Faults and rate limits of single accounts (else the sandbox-wide ones above apply).
    overrides: PerAccount

    def reset(self) -> None: ...

    def webhook_target(self) -> dict[str, Any]:
        """Where the platform sends its messages to the PMS now (no secret), or how the PMS
        gets them instead (``delivery``)."""
        ...

    def days(self, listing_id: str, start: date, end: date) -> list[DayView]: ...

    async def create_booking(self, booking: GuestBooking) -> dict[str, Any]: ...

    async def modify_booking(self, booking_id: str, change: GuestChange) -> dict[str, Any]: ...

    async def cancel_booking(self, booking_id: str) -> dict[str, Any]: ...


def control_router(sim: Simulator) -> APIRouter:
    """The routes every simulator offers; platform-specific control routes are added beside them."""
    router = APIRouter(prefix=f"/control/{sim.name}", tags=[f"control: {sim.name}"])

    def refuse(exc: ControlError) -> HTTPException:
        return HTTPException(exc.status, exc.detail)

    @router.post("/reset", summary="Forget all state (accounts and listings return to the seed)")
    async def reset() -> dict[str, str]:
        sim.reset()
        return {"status": "reset"}

    @router.put("/faults", summary="Inject faults deterministically from a seed")
    async def set_faults(plan: FaultPlan) -> FaultPlan:
        sim.faults.configure(plan)
        return plan

    @router.delete("/faults", summary="Stop injecting faults")
    async def clear_faults() -> dict[str, str]:
        sim.faults.clear()
        return {"status": "cleared"}

    @router.get("/faults", summary="The sandbox-wide fault plan (null: none)")
    async def get_faults() -> FaultPlan | None:
        return sim.faults.plan

    @router.get("/faults/log", summary="Every fault decision since the plan was set")
    async def fault_log() -> list[dict[str, Any]]:
        return sim.faults.log

    @router.put("/limits", summary="Set the platform's request rate limit")
    async def set_limits(limits: Limits) -> Limits:
        sim.limiter.limit = limits.requests
        sim.limiter.window_s = limits.window_s
        sim.limiter.reset()
        return limits

    @router.get("/limits", summary="The platform's sandbox-wide request rate limit")
    async def get_limits() -> Limits:
        return Limits(requests=sim.limiter.limit, window_s=sim.limiter.window_s)

    @router.get("/webhook", summary="Where the platform sends messages now (no secret)")
    async def webhook_target() -> dict[str, Any]:
        return sim.webhook_target()

    @router.get(
        "/settings", summary="Webhook target, faults and rate limits: sandbox-wide and per account"
    )
    async def settings() -> dict[str, Any]:
        return {
            "webhook": sim.webhook_target(),
            "faults": {
                "sandbox": sim.faults.plan.model_dump() if sim.faults.plan else None,
                "accounts": {
                    a: f.plan.model_dump()
                    for a, f in sorted(sim.overrides.faults.items())
                    if f.plan is not None
                },
            },
            "limits": {
                "sandbox": {"requests": sim.limiter.limit, "window_s": sim.limiter.window_s},
                "accounts": {
                    a: {"requests": w.limit, "window_s": w.window_s}
                    for a, w in sorted(sim.overrides.limits.items())
                },
            },
        }

    @router.get("/accounts/{account}/faults", summary="The faults applied to one account's calls")
    async def account_faults(account: str) -> dict[str, Any]:
        own = sim.overrides.faults.get(account)
        plan = own.plan if own is not None else sim.faults.plan
        return {
            "scope": "account" if own is not None else "sandbox",
            "plan": plan.model_dump() if plan else None,
        }

    @router.put("/accounts/{account}/faults", summary="Inject faults for one account's calls only")
    async def set_account_faults(account: str, plan: FaultPlan) -> FaultPlan:
        sim.overrides.set_faults(account, plan)
        return plan

    @router.delete("/accounts/{account}/faults", summary="Stop the account's own faults")
    async def clear_account_faults(account: str) -> dict[str, str]:
        sim.overrides.faults.pop(account, None)
        return {"status": "cleared"}

    @router.get("/accounts/{account}/limits", summary="The rate limit one account's calls get")
    async def account_limits(account: str) -> dict[str, Any]:
        own = sim.overrides.limits.get(account)
        w = own or sim.limiter
        return {
            "scope": "account" if own is not None else "sandbox",
            "requests": w.limit,
            "window_s": w.window_s,
        }

    @router.put("/accounts/{account}/limits", summary="Set one account's own rate limit")
    async def set_account_limits(account: str, limits: Limits) -> Limits:
        sim.overrides.set_limits(account, limits.requests, limits.window_s)
        return limits

    @router.delete("/accounts/{account}/limits", summary="Back to the sandbox-wide rate limit")
    async def clear_account_limits(account: str) -> dict[str, str]:
        sim.overrides.limits.pop(account, None)
        return {"status": "cleared"}

    @router.get("/listings/{listing_id}/days", summary="The platform's view of a listing's nights")
    async def days(listing_id: str, start: date = Query(), end: date = Query()) -> list[DayView]:
        if end < start or (end - start).days > 731:
            raise HTTPException(422, "end must be on or after start, at most two years later")
        try:
            return sim.days(listing_id, start, end)
        except ControlError as exc:
            raise refuse(exc) from exc

    @router.post("/bookings", status_code=201, summary="Book as a guest would on the platform")
    async def create_booking(booking: GuestBooking) -> dict[str, Any]:
        try:
            return await sim.create_booking(booking)
        except ControlError as exc:
            raise refuse(exc) from exc

    @router.patch("/bookings/{booking_id}", summary="Change a booking as the guest would")
    async def modify_booking(booking_id: str, change: GuestChange) -> dict[str, Any]:
        try:
            return await sim.modify_booking(booking_id, change)
        except ControlError as exc:
            raise refuse(exc) from exc

    @router.post("/bookings/{booking_id}/cancel", summary="Cancel a booking as the guest would")
    async def cancel_booking(booking_id: str) -> dict[str, Any]:
        try:
            return await sim.cancel_booking(booking_id)
        except ControlError as exc:
            raise refuse(exc) from exc

    return router
