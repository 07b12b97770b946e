"""The certification scenarios, run for every platform in ``platforms.PLATFORMS``.

Each is triggered the way a property manager (or a guest on the platform) would trigger it,
through our API or the simulator's guest controls, and asserts the platform's read-back night by
night, Core's state and the sync log."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from pms import db
from pms.channel.adapters import fidelity_of
from pms.channel.engine import dirty, flush
from pms.settings import get_settings
from tests.channels.certification.conftest import Cert
from tests.integration.channel.helpers import reconciled_in_line
from tests.services import eventually

D = timedelta(days=1)


async def test_01_full_sync_of_365_days(cert: Cert) -> None:
    cert.require(1)

    # The fixture waited for the platform to show Core's 365 nights; the log shows how (once
    # the flush has recorded its last push: the platform shows the nights a moment before).
    async def recorded() -> list[dict[str, Any]] | None:
        pushes = await cert.pushed(0)
        return pushes if sum(e["nights"] for e in pushes) >= 365 else None

    pushes = await eventually(recorded, 30, "the full sync's pushes in the sync log")
    assert sum(e["calls"] for e in pushes) <= cert.driver.max_calls_365, pushes
    assert sum(e["nights"] for e in pushes) >= 365, pushes
    assert {e["outcome"] for e in pushes} == {"pushed"}
    # The same state again costs no call. The worker's flush may still be in its rounds (it
    # loops until nothing is dirty) and take the range first: then ours finds nothing ("idle"),
    # and the sync log shows what that one did.
    mark = await cert.last_log_id()
    async with db.transaction(uuid.UUID(cert.agency.id)) as s:
        await dirty.mark(
            s, uuid.UUID(cert.agency.id), [uuid.UUID(cert.mapping_id)], cert.start, cert.end
        )
    again = await flush.flush(uuid.UUID(cert.mapping_id), get_settings())
    assert again.calls == 0, again
    assert again.outcome in ("unchanged", "idle"), again
    after = [e for e in await cert.log(mark) if e["kind"] == "push"]
    assert [(e["outcome"], e["calls"]) for e in after] == [("unchanged", 0)], after


async def test_02_single_date_price_change(cert: Cert) -> None:
    cert.require(2)
    night = cert.start + 40 * D
    before = await cert.shown(night - D, night + 2 * D)
    mark = await cert.last_log_id()
    await cert.set_days({"start": str(night), "end": str(night + D), "price_minor": 23456})
    await cert.in_step(night - D, night + 2 * D)
    after = await cert.shown(night - D, night + 2 * D)
    assert str(after[str(night)].price) == "234.56"
    assert after[str(night - D)] == before[str(night - D)], "the neighbours are untouched"
    assert after[str(night + D)] == before[str(night + D)]
    pushes = await cert.pushed(mark)
    assert sum(e["nights"] for e in pushes) == 1, pushes
    assert sum(e["calls"] for e in pushes) == 1, pushes


async def test_03_price_change_across_12_months(cert: Cert) -> None:
    cert.require(3)
    mark = await cert.last_log_id()
    ranges = []
    for month in range(12):
        first = cert.start + month * 30 * D
        ranges.append(
            {"start": str(first), "end": str(first + 30 * D), "price_minor": 13000 + month}
        )
    ranges.append({"start": str(cert.start + 360 * D), "end": str(cert.end), "price_minor": 14999})
    await cert.set_days(*ranges)
    await cert.in_step(cert.start, cert.end)
    pushes = await cert.pushed(mark)
    assert sum(e["calls"] for e in pushes) <= cert.driver.max_calls_365, pushes
    shown = await cert.shown(cert.start, cert.end)
    assert str(shown[str(cert.start + 31 * D)].price) == "130.01"


async def _restriction(cert: Cert, scenario: int, field: str, value: Any, reset: Any) -> None:
    cert.require(scenario)
    first = cert.start + 50 * D
    mark = await cert.last_log_id()
    await cert.set_days({"start": str(first), "end": str(first + 5 * D), field: value})
    await cert.in_step(first - D, first + 6 * D)
    shown = await cert.shown(first, first + 5 * D)
    assert all(getattr(n, field) == value for n in shown.values()), shown
    outside = await cert.shown(first + 5 * D, first + 6 * D)
    assert all(getattr(n, field) != value for n in outside.values()), outside
    await cert.pushed(mark)
    await cert.set_days({"start": str(first), "end": str(first + 5 * D), field: reset})
    await cert.in_step(first - D, first + 6 * D)
    await cert.no_failures(mark)


async def test_04_min_stay(cert: Cert) -> None:
    await _restriction(cert, 4, "min_stay", 5, None)


async def test_05_max_stay(cert: Cert) -> None:
    await _restriction(cert, 5, "max_stay", 7, None)


async def test_06_closed_to_arrival(cert: Cert) -> None:
    await _restriction(cert, 6, "closed_to_arrival", True, False)


async def test_07_closed_to_departure(cert: Cert) -> None:
    await _restriction(cert, 7, "closed_to_departure", True, False)


async def test_08_stop_sell_and_reopen(cert: Cert) -> None:
    cert.require(8)
    first = cert.start + 60 * D
    mark = await cert.last_log_id()
    await cert.set_days({"start": str(first), "end": str(first + 3 * D), "closed": True})
    await cert.in_step(first, first + 3 * D)
    assert not any(n.available for n in (await cert.shown(first, first + 3 * D)).values())
    reopened = await cert.recorded(mark)
    await cert.set_days({"start": str(first), "end": str(first + 3 * D), "closed": False})
    await cert.in_step(first, first + 3 * D)
    assert all(n.available for n in (await cert.shown(first, first + 3 * D)).values())
    await cert.pushed(reopened)
    await cert.no_failures(mark)


async def test_09_block_created_and_deleted_in_core(cert: Cert) -> None:
    cert.require(9)
    first = cert.start + 70 * D
    mark = await cert.last_log_id()
    r = await cert.client.post(
        "/api/v1/blocks",
        json={
            "property_id": cert.agency.property_id,
            "start": str(first),
            "end": str(first + 4 * D),
        },
        headers=cert.h,
    )
    assert r.status_code == 201, r.text
    block_id = r.json()["id"]
    await cert.in_step(first - D, first + 5 * D)
    shown = await cert.shown(first - D, first + 5 * D)
    assert [n.available for n in shown.values()] == [True, False, False, False, False, True]
    deleted = await cert.recorded(mark)
    r = await cert.client.delete(f"/api/v1/blocks/{block_id}", headers=cert.h)
    assert r.status_code == 204, r.text
    await cert.in_step(first - D, first + 5 * D)
    assert all(n.available for n in (await cert.shown(first, first + 4 * D)).values())
    await cert.pushed(deleted)
    await cert.no_failures(mark)


async def test_10_direct_booking_closes_and_its_cancellation_reopens(cert: Cert) -> None:
    cert.require(10)
    first = cert.start + 80 * D
    mark = await cert.last_log_id()
    r = await cert.client.post(
        "/api/v1/bookings",
        json={
            "property_id": cert.agency.property_id,
            "guest_id": cert.agency.guest_id,
            "check_in": str(first),
            "check_out": str(first + 3 * D),
        },
        headers=cert.h,
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    await cert.in_step(first, first + 3 * D)
    assert not any(n.available for n in (await cert.shown(first, first + 3 * D)).values())
    cancelled = await cert.recorded(mark)
    r = await cert.client.post(
        f"/api/v1/bookings/{booking['id']}/cancel",
        json={"version": booking["version"]},
        headers=cert.h,
    )
    assert r.status_code == 200, r.text
    await cert.in_step(first, first + 3 * D)
    assert all(n.available for n in (await cert.shown(first, first + 3 * D)).values())
    await cert.pushed(cancelled)
    await cert.no_failures(mark)


async def _booked(cert: Cert, arrival_in: int = 90, nights: int = 3) -> tuple[str, Any]:
    arrival = cert.start + arrival_in * D
    code = await cert.driver.book(cert.sandbox, arrival, arrival + nights * D)

    async def in_core() -> dict[str, Any] | None:
        found = await cert.booking(code)
        return found[0] if found and found[0]["status"] == "confirmed" else None

    booking = await cert.until(in_core, f"{cert.driver.platform} booking {code} in Core")
    return code, booking


async def test_11_new_platform_booking(cert: Cert) -> None:
    cert.require(11)
    mark = await cert.last_log_id()
    arrival = cert.start + 90 * D
    code, booking = await _booked(cert)
    assert (booking["check_in"], booking["check_out"]) == (str(arrival), str(arrival + 3 * D))
    assert booking["source"] == cert.driver.platform
    # The platform's price as loaded (Core's 120.00 a night), never re-priced.
    assert booking["quote"]["total"]["amount_minor"] == 3 * 12000
    assert len(await cert.booking(code)) == 1
    await cert.until(lambda: cert.driver.acknowledged(cert.sandbox, code), "the acknowledgement")
    await cert.in_step(arrival - D, arrival + 4 * D)
    assert not any(n.available for n in (await cert.shown(arrival, arrival + 3 * D)).values())
    await cert.no_failures(mark)
    if cert.driver.pulls:
        pulls = [e for e in await cert.log(mark) if e["kind"] == "pull"]
        assert any(e["details"]["applied"] >= 1 for e in pulls), pulls


async def test_12_modification_of_dates_guests_and_price(cert: Cert) -> None:
    cert.require(12)
    code, _ = await _booked(cert)
    arrival = cert.start + 92 * D
    await cert.driver.modify(
        cert.sandbox,
        code,
        arrival=str(arrival),
        departure=str(arrival + 4 * D),
        adults=3,
        price_per_night="99.50",
    )

    async def moved() -> dict[str, Any] | None:
        found = await cert.booking(code)
        b = found[0] if found else None
        return b if b and b["check_in"] == str(arrival) and b["adults"] == 3 else None

    booking = await cert.until(moved, "the modification in Core")
    assert booking["check_out"] == str(arrival + 4 * D)
    if cert.driver.sets_price:
        assert booking["quote"]["total"]["amount_minor"] == 4 * 9950
    else:
        # The platform charges our quote: the new stay at Core's 120.00 a night.
        assert booking["quote"]["total"]["amount_minor"] == 4 * 12000
    assert len(await cert.booking(code)) == 1
    # The nights left (the first two of the old stay) are open again; the new ones closed.
    await cert.in_step(cert.start + 89 * D, arrival + 5 * D)
    shown = await cert.shown(cert.start + 90 * D, arrival + 4 * D)
    assert [n.available for n in shown.values()] == [True, True, False, False, False, False]


async def test_13_cancellation(cert: Cert) -> None:
    cert.require(13)
    code, _ = await _booked(cert)
    await cert.driver.cancel(cert.sandbox, code)

    async def cancelled() -> bool:
        found = await cert.booking(code)
        return bool(found and found[0]["status"] == "cancelled")

    await cert.until(cancelled, "the cancellation in Core")
    await cert.until(lambda: cert.driver.acknowledged(cert.sandbox, code), "the acknowledgement")
    arrival = cert.start + 90 * D
    await cert.in_step(arrival, arrival + 3 * D)
    assert all(n.available for n in (await cert.shown(arrival, arrival + 3 * D)).values())


async def test_14_platform_booking_colliding_with_a_core_stay(cert: Cert) -> None:
    cert.require(14)
    first = cert.start + 100 * D
    r = await cert.client.post(
        "/api/v1/bookings",
        json={
            "property_id": cert.agency.property_id,
            "guest_id": cert.agency.guest_id,
            "check_in": str(first),
            "check_out": str(first + 3 * D),
        },
        headers=cert.h,
    )
    assert r.status_code == 201, r.text
    ours = r.json()["id"]
    # The guest books on the platform anyway (it had not closed the nights yet).
    code = await cert.driver.book(cert.sandbox, first + D, first + 5 * D, force=True)

    async def conflict() -> list[dict[str, Any]]:
        r = await cert.client.get("/api/v1/channel-conflicts", headers=cert.h)
        return [c for c in r.json()["items"] if c["clashing_booking_id"] == ours]

    found = (await cert.until(conflict, "the conflict"))[0]
    theirs = await cert.booking(code)
    assert len(theirs) == 1, "nothing is lost"
    assert theirs[0]["status"] == "conflict"
    assert found["booking_id"] == theirs[0]["id"]
    r = await cert.client.get(f"/api/v1/bookings/{ours}", headers=cert.h)
    assert r.json()["status"] == "confirmed"
    r = await cert.client.get("/api/v1/alerts", headers=cert.h)
    assert any(x["kind"] == "channel_conflict" for x in r.json()["items"]), r.json()
    # Every night either stay wants is closed, on the platform too.
    await cert.in_step(first - D, first + 6 * D)
    shown = await cert.shown(first, first + 5 * D)
    assert not any(n.available for n in shown.values()), shown


async def test_15_duplicate_and_out_of_order_messages(cert: Cert) -> None:
    cert.require(15)
    code, _ = await _booked(cert)
    await cert.driver.redeliver(cert.sandbox, code)

    async def three_adults() -> bool:
        found = await cert.booking(code)
        return bool(found and found[0]["adults"] == 3)

    await cert.until(three_adults, "the modification once in Core")
    assert len(await cert.booking(code)) == 1, "a duplicate is a no-op"
    arrival = cert.start + 95 * D
    await cert.driver.stale_after(
        cert.sandbox, code, arrival=str(arrival), departure=str(arrival + 2 * D), adults=2
    )

    async def newest() -> bool:
        found = await cert.booking(code)
        return bool(found and found[0]["check_in"] == str(arrival) and found[0]["adults"] == 2)

    await cert.until(newest, "the newest revision in Core")
    # Late messages arrived meanwhile; the newest revision still stands.
    await cert.driver.deliver()
    found = await cert.booking(code)
    assert len(found) == 1
    assert (found[0]["check_in"], found[0]["adults"]) == (str(arrival), 2)
    await cert.in_step(arrival - D, arrival + 3 * D)


async def test_16_credentials_revoked(cert: Cert) -> None:
    cert.require(16)
    sim = cert.driver.sim
    plan = {"seed": 1, "expired_credentials": True}
    (await cert.sandbox.put(f"/control/{sim}/faults", json=plan)).raise_for_status()
    night = cert.start + 30 * D
    before = (await cert.shown(night, night + D))[str(night)]
    mark = await cert.last_log_id()
    await cert.set_days({"start": str(night), "end": str(night + D), "price_minor": 31337})

    async def revoked() -> dict[str, Any] | None:
        c = await cert.connection()
        return c if c["status"] == "revoked" else None

    await cert.until(revoked, "the connection revoked", within=45)
    r = await cert.client.get("/api/v1/alerts", headers=cert.h)
    assert any(x["kind"] == "channel_revoked" for x in r.json()["items"]), r.json()
    assert (await cert.shown(night, night + D))[str(night)] == before, "nothing went out"
    log = await cert.log(mark)
    assert log, "the refused push is in the sync log"
    assert all(e["outcome"] != "pushed" for e in log), log
    # Never retried: later changes cost no call to the platform.
    await cert.set_days({"start": str(night), "end": str(night + D), "price_minor": 31338})
    report = await flush.flush(uuid.UUID(cert.mapping_id), get_settings())
    assert (report.calls, report.outcome) == (0, "stopped"), report


async def test_17_platform_down_for_10_minutes(cert: Cert) -> None:
    cert.require(17)
    sim = cert.driver.sim
    plan = {"seed": 17, "error_rate": 1.0, "error_status": 503}
    (await cert.sandbox.put(f"/control/{sim}/faults", json=plan)).raise_for_status()
    night = cert.start + 20 * D
    mark = await cert.last_log_id()
    await cert.set_days({"start": str(night), "end": str(night + 2 * D), "price_minor": 17717})
    arrival = cert.start + 110 * D
    code = await cert.driver.book(cert.sandbox, arrival, arrival + 2 * D)

    async def failing() -> bool:
        return any(e["outcome"] != "pushed" for e in await cert.log(mark) if e["kind"] == "push")

    await cert.until(failing, "the failed push in the sync log")
    # Ten minutes of the platform's time pass; then it is back.
    (await cert.sandbox.post("/control/clock/advance", json={"seconds": 600})).raise_for_status()
    (await cert.sandbox.delete(f"/control/{sim}/faults")).raise_for_status()
    # Reconciliation (nightly, or asked for now) finds and sends what did not go out; its
    # first run may still meet the circuit the outage opened.
    await reconciled_in_line(cert.client, cert.h, cert.connection_id, within=90)

    async def arrived() -> bool:
        found = await cert.booking(code)
        return bool(found and found[0]["status"] == "confirmed")

    await cert.until(arrived, "the booking made while the platform was down", within=60)
    await cert.in_step(night, night + 2 * D, within=60)
    await cert.in_step(arrival, arrival + 2 * D, within=60)
    await cert.driver.deliver()
    assert len(await cert.booking(code)) == 1, "no duplicate"
    await cert.until(lambda: cert.driver.acknowledged(cert.sandbox, code), "the acknowledgement")


async def test_18_rate_limited_burst(cert: Cert) -> None:
    cert.require(18)
    sim = cert.driver.sim
    # One request per 5 s: the first push takes the window's only request, and the rest of the
    # burst, arriving while that window is still full, is refused with 429 and tried again. (Sent
    # all at once, the burst could be debounced into a single call that is never refused.)
    before = (await cert.sandbox.get(f"/control/{sim}/limits")).raise_for_status().json()
    limits = {"requests": 1, "window_s": 5}
    (await cert.sandbox.put(f"/control/{sim}/limits", json=limits)).raise_for_status()
    try:
        await _burst_over_the_limit(cert)
    finally:
        (await cert.sandbox.put(f"/control/{sim}/limits", json=before)).raise_for_status()


async def _burst_over_the_limit(cert: Cert) -> None:
    mark = await cert.last_log_id()
    first = cert.start + 130 * D
    for i in range(6):
        night = first + 3 * i * D
        await cert.set_days({"start": str(night), "end": str(night + D), "price_minor": 20000 + i})
        if i == 0:
            await cert.pushed(mark)
    await cert.in_step(first, first + 18 * D, within=60)
    last = first + 15 * D

    async def recorded() -> list[dict[str, Any]] | None:
        # The platform shows the burst before the flush has recorded its push (the record is
        # written once the call has returned), so wait for the entry that covers the last night.
        pushes = await cert.pushed(mark)
        covered = any(e["end"] and date.fromisoformat(e["end"]) > last for e in pushes)
        return pushes if covered else None

    pushes = await eventually(recorded, 30, "the burst's push in the sync log")
    assert sum(e["attempts"] for e in pushes) > sum(e["calls"] for e in pushes), (
        "some calls were refused with 429 and tried again",
        pushes,
    )
    assert all(e["outcome"] == "pushed" for e in pushes), pushes
    r = await cert.client.get(
        f"/api/v1/channel-connections/{cert.connection_id}/dead-letters", headers=cert.h
    )
    assert r.json() == [], "no change over the limit was lost"


async def test_restriction_fidelity_is_never_silent(cert: Cert) -> None:
    """A rule the platform cannot express is sent as what the platform can show, and the
    connection and the channel-days view name the rule, the nights and what it shows."""
    first = cert.start + 140 * D
    await cert.set_days({"start": str(first), "end": str(first + 3 * D), "min_stay": 30})
    await cert.in_step(first - D, first + 4 * D)
    fidelity = fidelity_of(cert.driver.platform)
    shown = await cert.shown(first, first + 3 * D)
    c = await cert.connection()
    r = await cert.client.get(
        f"/api/v1/properties/{cert.agency.property_id}/channel-days",
        params={"start": str(first), "end": str(first + 3 * D)},
        headers=cert.h,
    )
    assert r.status_code == 200, r.text
    per_night = [d["channels"][0]["warnings"] for d in r.json()]
    if fidelity.max_los is None or fidelity.max_los >= 30:
        assert all(n.min_stay == 30 for n in shown.values()), shown
        assert [w for w in c["warnings"] if w["rule"] == "min_stay"] == []
        assert per_night == [[], [], []] or all(
            all(w["rule"] != "min_stay" for w in ws) for ws in per_night
        )
        return
    cap = fidelity.max_los
    assert all(n.min_stay == cap for n in shown.values()), shown
    found = [w for w in c["warnings"] if w["rule"] == "min_stay"]
    assert len(found) == 1, c["warnings"]
    assert found[0]["nights"] == [{"start": str(first), "end": str(first + 3 * D)}]
    assert (found[0]["wanted"], found[0]["shown"]) == ("30 nights", f"{cap} nights")
    assert "minimum stay" in found[0]["message"]
    assert found[0]["mapping_id"] == cert.mapping_id
    for ws in per_night:
        assert {"rule": "min_stay", "wanted": "30 nights", "shown": f"{cap} nights"} in ws, ws
    if not fidelity.clears_max_stay:
        # Core's "no maximum" cannot be shown either: named too, on every night without one.
        assert any(w["rule"] == "max_stay" and w["wanted"] == "no maximum" for w in c["warnings"])
    # Back to a stay the platform can show: the warning goes.
    await cert.set_days({"start": str(first), "end": str(first + 3 * D), "min_stay": None})
    await cert.in_step(first - D, first + 4 * D)
    c = await cert.connection()
    assert [w for w in c["warnings"] if w["rule"] == "min_stay"] == []
