"""After any sequence of rate, block and booking operations, each committed in its own
transaction as the API would, the stored ARI rows equal a from-scratch compilation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pms import db
from pms.core import ari_store, auth, blocks, bookings, properties, rates
from pms.core.booking_status import BookingStatus
from pms.core.errors import DomainError
from pms.core.permissions import Role
from pms.core.tenancy import Actor, scope_transaction
from pms.models.agency import Agency, Membership
from pms.models.rates import RatePlan
from pms.schemas import rates as s
from pms.schemas.booking import BlockCreate, BookingCreate, BookingUpdate, GuestInline
from pms.schemas.property import PropertyCreate
from pms.settings import Settings

TODAY = datetime.now(UTC).date()
SPAN = 40  # operations touch the first weeks of the window; the whole window is compared


def at(offset: int) -> date:
    return TODAY + timedelta(days=offset)


offsets = st.integers(0, SPAN)
lengths = st.integers(1, 6)
operations = st.one_of(
    st.tuples(
        st.just("season"), offsets, lengths, st.integers(5000, 30000), st.sampled_from([None, 2, 3])
    ),
    st.tuples(st.just("drop_season"), st.integers(0, 5)),
    st.tuples(st.just("plan_price"), st.integers(0, 1), st.integers(5000, 30000)),
    st.tuples(
        st.just("days"),
        offsets,
        lengths,
        st.sampled_from([None, 9900]),
        st.booleans(),
        st.booleans(),
    ),
    st.tuples(st.just("block"), offsets, lengths),
    st.tuples(st.just("drop_block"), st.integers(0, 5)),
    st.tuples(st.just("book"), offsets, lengths, st.sampled_from(["confirmed", "hold", "inquiry"])),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("move"), st.integers(0, 5), offsets),
)


@dataclass
class World:
    actor: Actor
    property_id: uuid.UUID
    plans: list[uuid.UUID] = field(default_factory=list)
    seasons: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)
    blocks: list[uuid.UUID] = field(default_factory=list)
    bookings: list[uuid.UUID] = field(default_factory=list)


async def _world(user_id: uuid.UUID) -> World:
    async with db.get_sessionmaker()() as session, session.begin():
        agency = Agency(id=uuid.uuid4(), name="Prop", slug=f"prop-{uuid.uuid4().hex[:12]}")
        session.add(agency)
        await session.flush()
        await scope_transaction(session, user_id=user_id, agency_id=agency.id)
        session.add(Membership(agency_id=agency.id, user_id=user_id, role=Role.ADMIN))
        actor = Actor(user_id, "prop@example.com", agency.id, Role.ADMIN)
        prop = await properties.create(
            session,
            actor,
            PropertyCreate(name="P", timezone="Europe/Berlin", currency="EUR", max_guests=4),
        )
        world = World(actor, prop.id)
        for name, price in (("Standard", 10000), ("Non-refundable", 9000)):
            plan, _ = await rates.plans.create_plan(
                session, actor, prop.id, s.RatePlanCreate(name=name, base_price_minor=price)
            )
            world.plans.append(plan.id)
    return world


async def _apply(session: Any, w: World, op: tuple[Any, ...]) -> None:
    kind, *args = op
    a = w.actor
    if kind == "season":
        start, length, price, min_stay = args
        plan_id = w.plans[start % 2]
        season, _ = await rates.seasons.create_season(
            session,
            a,
            plan_id,
            s.SeasonCreate(
                start=at(start), end=at(start + length), price_minor=price, min_stay=min_stay
            ),
        )
        w.seasons.append((plan_id, season.id))
    elif kind == "drop_season" and w.seasons:
        plan_id, season_id = w.seasons.pop(args[0] % len(w.seasons))
        await rates.seasons.delete_season(session, a, plan_id, season_id)
    elif kind == "plan_price":
        await rates.plans.update_plan(
            session, a, w.plans[args[0]], s.RatePlanUpdate(base_price_minor=args[1])
        )
    elif kind == "days":
        start, length, price, closed, cta = args
        await rates.days.put_days(
            session,
            a,
            w.plans[0],
            s.DaysUpdate(
                ranges=[
                    s.DayRange(
                        start=at(start),
                        end=at(start + length),
                        price_minor=price,
                        closed=closed,
                        closed_to_arrival=cta,
                    )
                ]
            ),
        )
    elif kind == "block":
        start, length = args
        block = await blocks.create(
            session,
            a,
            BlockCreate(property_id=w.property_id, start=at(start), end=at(start + length)),
        )
        w.blocks.append(block.id)
    elif kind == "drop_block" and w.blocks:
        await blocks.delete(session, a, w.blocks.pop(args[0] % len(w.blocks)))
    elif kind == "book":
        start, length, status = args
        booking, _ = await bookings.create(
            session,
            a,
            BookingCreate(
                property_id=w.property_id,
                check_in=at(start),
                check_out=at(start + length),
                guest=GuestInline(email="g@example.com", last_name="G"),
                status=BookingStatus(status),
                override_restrictions=True,
            ),
        )
        w.bookings.append(booking.id)
    elif kind == "cancel" and w.bookings:
        booking_id = w.bookings[args[0] % len(w.bookings)]
        await bookings.transition(session, a, booking_id, BookingStatus.CANCELLED)
    elif kind == "move" and w.bookings:
        booking, _ = await bookings.get(session, a, w.bookings[args[0] % len(w.bookings)])
        nights = booking.check_out - booking.check_in
        await bookings.update(
            session,
            a,
            booking.id,
            BookingUpdate(
                version=booking.version, check_in=at(args[1]), check_out=at(args[1]) + nights
            ),
        )


WARM_UP: list[tuple[Any, ...]] = [
    ("season", 1, 3, 12000, 2),
    ("season", 2, 3, 12000, None),  # overlaps: the 409 path
    ("plan_price", 1, 9500),
    ("days", 3, 2, 9900, True, True),
    ("block", 10, 2),
    ("book", 20, 3, "confirmed"),
    ("book", 21, 3, "hold"),  # taken: the inventory guard's 409
    ("move", 0, 25),
    ("cancel", 0),
    ("drop_block", 0),
    ("drop_season", 0),
]


async def _run(user_id: uuid.UUID, ops: list[tuple[Any, ...]]) -> World:
    w = await _world(user_id)
    for op in ops:
        try:
            async with db.get_sessionmaker()() as session, session.begin():
                await scope_transaction(session, user_id=user_id, agency_id=w.actor.agency_id)
                await _apply(session, w, op)
        except DomainError:
            pass  # refused (overlap, dates taken, illegal transition): nothing was written
    return w


@pytest.fixture
async def user_id(settings: Settings) -> uuid.UUID:
    """A user, and every operation run once: the first compilation of each query is set-up
    work, not what the loop-blocking check is meant to catch."""
    async with db.get_sessionmaker()() as session, session.begin():
        user = await auth.create_user(session, f"u-{uuid.uuid4().hex}@example.com", None)
    await _run(user.id, WARM_UP)
    return user.id


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=1, max_size=12))
async def test_stored_ari_rows_equal_a_from_scratch_compilation(
    user_id: uuid.UUID, ops: list[tuple[Any, ...]]
) -> None:
    w = await _run(user_id, ops)
    async with db.get_sessionmaker()() as session, session.begin():
        await scope_transaction(session, user_id=user_id, agency_id=w.actor.agency_id)
        plans = (
            await session.execute(select(RatePlan).where(RatePlan.property_id == w.property_id))
        ).scalars()
        for plan in plans:
            stored = await ari_store.stored_rows(session, plan.id, plan.ari_start, plan.ari_end)
            fresh = await ari_store.compile_stored_window(
                session, plan, plan.ari_start, plan.ari_end
            )
            assert stored == fresh, f"plan {plan.name}: stored rows drifted after {ops}"


async def test_the_daily_job_rolls_every_plan_to_24_months_ahead(user_id: uuid.UUID) -> None:
    w = await _world(user_id)
    later = datetime.now(UTC) + timedelta(days=40)
    assert await ari_store.roll_all_forward(later) >= 2
    assert await ari_store.roll_all_forward(later) == 0  # idempotent: a second run does nothing
    async with db.get_sessionmaker()() as session, session.begin():
        await scope_transaction(session, user_id=user_id, agency_id=w.actor.agency_id)
        for plan_id in w.plans:
            plan = await session.get(RatePlan, plan_id)
            assert plan is not None
            today = ari_store.local_today("Europe/Berlin", later)
            assert (plan.ari_start, plan.ari_end) == (today, ari_store.horizon_end(today))
            stored = await ari_store.stored_rows(
                session, plan.id, date(2000, 1, 1), date(2200, 1, 1)
            )
            assert [r.day for r in stored] == [
                plan.ari_start + timedelta(days=i)
                for i in range((plan.ari_end - plan.ari_start).days)
            ]
            assert stored == await ari_store.compile_stored_window(
                session, plan, plan.ari_start, plan.ari_end
            )


def test_the_horizon_is_24_months_and_a_leap_day_falls_back() -> None:
    assert ari_store.horizon_end(date(2026, 11, 26)) == date(2028, 11, 26)
    assert ari_store.horizon_end(date(2028, 2, 29)) == date(2030, 2, 28)
