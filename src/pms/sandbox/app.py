"""The sandbox server: one ASGI app, a path prefix per simulated platform, and ``/control``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel, Field

from pms.sandbox.airbnb import AirbnbSimulator, airbnb_control_router, create_airbnb_app
from pms.sandbox.booking.routes import booking_control_router, create_booking_app
from pms.sandbox.booking.simulator import BookingSimulator
from pms.sandbox.clock import SimClock
from pms.sandbox.control import Simulator, control_router
from pms.sandbox.expedia.routes import create_expedia_app, expedia_control_router
from pms.sandbox.expedia.simulator import ExpediaSimulator
from pms.sandbox.google import GoogleSimulator, create_google_app, google_control_router
from pms.sandbox.stripe_fake import FakeStripeConfig, StripeFake
from pms.sandbox.stripe_hosted import create_stripe_app
from pms.sandbox.vrbo import VrboSimulator, create_vrbo_app, vrbo_control_router
from pms.settings import get_settings


class ClockAdvance(BaseModel):
    # Forward only: deadlines and tokens that have passed stay passed.
    seconds: float = Field(ge=0, le=366 * 86400)


def create_app() -> FastAPI:
    clock = SimClock()
    booking = BookingSimulator(clock)
    airbnb = AirbnbSimulator(clock)
    expedia = ExpediaSimulator(clock)
    google = GoogleSimulator(clock)
    vrbo = VrboSimulator(clock)
    simulators: list[Simulator] = [booking, airbnb, expedia, google, vrbo]
    # Payments for the Direct Booking Engine in the demo: Stripe's HTTP shapes, signed webhooks.
    stripe = StripeFake(FakeStripeConfig.from_settings(get_settings()))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await airbnb.webhooks.close()
        await vrbo.close()
        await stripe.close()

    app = FastAPI(title="PMS-Webapp channel sandbox", redirect_slashes=False, lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/control/reset", tags=["control"], summary="Reset every simulator and the clock")
    async def reset_all() -> dict[str, str]:
        clock.reset()
        for sim in simulators:
            sim.reset()
        stripe.reset()
        return {"status": "reset"}

    @app.post(
        "/control/clock/advance",
        tags=["control"],
        summary="Move the sandbox's clock forward (deadlines, token expiry)",
    )
    async def advance(body: ClockAdvance) -> dict[str, str]:
        clock.advance(body.seconds)
        airbnb.sweep()  # deadlines that just passed expire now, with their webhooks
        return {"now": clock.now().isoformat()}

    for sim in simulators:
        app.include_router(control_router(sim))
    app.include_router(booking_control_router(booking))
    app.include_router(airbnb_control_router(airbnb))
    app.include_router(expedia_control_router(expedia))
    app.include_router(vrbo_control_router(vrbo))
    app.include_router(google_control_router(google))
    app.mount("/booking", create_booking_app(booking))
    app.mount("/expedia", create_expedia_app(expedia))
    app.mount("/google", create_google_app(google))
    app.mount("/vrbo", create_vrbo_app(vrbo))
    app.mount("/airbnb", create_airbnb_app(airbnb))
    app.mount("/stripe", create_stripe_app(stripe))
    return app
