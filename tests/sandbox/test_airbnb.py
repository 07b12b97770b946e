"""Airbnb simulator: OAuth2, calendar operations, reservations, host decisions, signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import Receiver
from tests.services import wait_for

SECRET = "pms-webhook-secret-123"
LISTING = "50001"


def soon(days: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def token(client: httpx.Client, code: str = "code-host-1001") -> str:
    r = client.post(
        "/airbnb/oauth2/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "sandbox-airbnb-client",
            "client_secret": "sandbox-airbnb-secret",
        },
    )
    assert r.status_code == 200, r.text
    access: str = r.json()["access_token"]
    return access


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def calendar_op(
    client: httpx.Client, access: str, listing: str = LISTING, **operation: Any
) -> httpx.Response:
    return client.post(
        "/airbnb/v2/calendar_operations",
        headers=bearer(access),
        json={"listing_id": listing, "operations": [operation]},
    )


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers["x-airbnb-timestamp"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["x-airbnb-signature"], f"v1={expected}")


@pytest.fixture
def hooked(sandbox: httpx.Client, receiver: Receiver) -> Receiver:
    sandbox.put(
        "/control/airbnb/webhook",
        json={
            "url": f"{receiver.url}/airbnb/webhooks",
            "secret": SECRET,
            "backoff_base_s": 0.05,
            "max_attempts": 4,
        },
    ).raise_for_status()
    return receiver


def events(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.wait_for_count(count)]


# --- OAuth and calendar ----------------------------------------------------------------------


def test_calendar_operations_are_visible_in_the_calendar(sandbox: httpx.Client) -> None:
    access = token(sandbox)
    start, end = soon(10), soon(12)
    r = calendar_op(
        sandbox,
        access,
        dates=[f"{start}:{end}"],
        availability="available",
        daily_price=140,
        min_nights=2,
        closed_to_arrival=True,
    )
    assert r.status_code == 200, r.text
    r = sandbox.get(
        f"/airbnb/v2/calendars/{LISTING}",
        headers=bearer(access),
        params={"start_date": str(start), "end_date": str(end + timedelta(1))},
    )
    days = r.json()["days"]
    assert [d["daily_price"] for d in days] == ["140.00"] * 3 + ["100.00"]
    assert days[2]["min_nights"] == 2
    assert days[2]["closed_to_arrival"] is True
    assert days[3]["closed_to_arrival"] is False


def test_a_malformed_operation_is_refused_with_the_field_named(sandbox: httpx.Client) -> None:
    access = token(sandbox)
    r = calendar_op(sandbox, access, dates=[str(soon(3))], availability="maybe")
    assert r.status_code == 400
    body = r.json()
    assert body["error_type"] == "invalid_request"
    assert any("availability" in e["field"] for e in body["errors"])
    r = calendar_op(sandbox, access, dates=[str(soon(3))], colour="red")
    assert r.status_code == 400
    r = calendar_op(sandbox, access, dates=[str(soon(3))])
    assert r.status_code == 400, "an operation that sets nothing is refused"


def test_without_a_valid_token_the_api_is_401(sandbox: httpx.Client) -> None:
    r = calendar_op(sandbox, "not-a-token", dates=[str(soon(3))], availability="available")
    assert r.status_code == 401
    assert r.json()["error_type"] == "invalid_token"
    bad = sandbox.post(
        "/airbnb/oauth2/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": "code-host-1001",
            "client_id": "sandbox-airbnb-client",
            "client_secret": "wrong",
        },
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_tokens_expire_and_refresh(sandbox: httpx.Client) -> None:
    r = sandbox.post(
        "/airbnb/oauth2/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": "code-host-1001",
            "client_id": "sandbox-airbnb-client",
            "client_secret": "sandbox-airbnb-secret",
        },
    )
    grant = r.json()
    sandbox.post("/control/clock/advance", json={"seconds": 3601}).raise_for_status()
    assert (
        sandbox.get("/airbnb/v2/listings", headers=bearer(grant["access_token"])).status_code == 401
    )
    r = sandbox.post(
        "/airbnb/oauth2/v1/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
            "client_id": "sandbox-airbnb-client",
            "client_secret": "sandbox-airbnb-secret",
        },
    )
    assert r.status_code == 200
    listings = sandbox.get("/airbnb/v2/listings", headers=bearer(r.json()["access_token"]))
    assert [x["id"] for x in listings.json()["listings"]] == ["50001", "50002"]


def test_another_hosts_listing_is_403(sandbox: httpx.Client) -> None:
    access = token(sandbox)
    r = calendar_op(
        sandbox, access, listing="59999", dates=[str(soon(3))], availability="unavailable"
    )
    assert r.status_code == 403
    assert r.json()["error_type"] == "forbidden"


def test_past_the_rate_limit_is_429_with_retry_after(sandbox: httpx.Client) -> None:
    access = token(sandbox)
    sandbox.put("/control/airbnb/limits", json={"requests": 3, "window_s": 30}).raise_for_status()
    codes = [sandbox.get("/airbnb/v2/listings", headers=bearer(access)) for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert 1 <= int(codes[3].headers["Retry-After"]) <= 30
    assert codes[3].json()["error_type"] == "rate_limited"


# --- reservations and webhooks ---------------------------------------------------------------


def test_an_instant_booking_arrives_as_a_signed_webhook(
    sandbox: httpx.Client, hooked: Receiver
) -> None:
    r = sandbox.post(
        "/control/airbnb/bookings",
        json={"listing_id": LISTING, "arrival": str(soon(30)), "departure": str(soon(33))},
    )
    assert r.status_code == 201, r.text
    code = r.json()["id"]
    assert code.startswith("HM")
    assert len(code) == 10
    (got,) = hooked.wait_for_count(1)
    assert verify(SECRET, got.headers, got.body)
    assert not verify("another-secret", got.headers, got.body)
    event = json.loads(got.body)
    assert event["event_type"] == "reservation.created"
    assert event["data"]["reservation"]["confirmation_code"] == code
    # the reservation blocks the calendar and is readable over the API
    access = token(sandbox)
    cal = sandbox.get(
        f"/airbnb/v2/calendars/{LISTING}",
        headers=bearer(access),
        params={"start_date": str(soon(30)), "end_date": str(soon(33))},
    ).json()
    assert [d["availability"] for d in cal["days"]] == ["unavailable"] * 3 + ["available"]
    one = sandbox.get(f"/airbnb/v2/reservations/{code}", headers=bearer(access))
    assert one.json()["reservation"]["status"] == "accepted"


def test_modify_and_cancel_surface_as_webhooks(sandbox: httpx.Client, hooked: Receiver) -> None:
    code = sandbox.post(
        "/control/airbnb/bookings",
        json={"listing_id": LISTING, "arrival": str(soon(30)), "departure": str(soon(33))},
    ).json()["id"]
    sandbox.patch(
        f"/control/airbnb/bookings/{code}", json={"departure": str(soon(35))}
    ).raise_for_status()
    sandbox.post(f"/control/airbnb/bookings/{code}/cancel").raise_for_status()
    got = events(hooked, 3)
    assert [e["event_type"] for e in got] == [
        "reservation.created",
        "reservation.updated",
        "reservation.cancelled",
    ]
    assert got[1]["data"]["reservation"]["end_date"] == str(soon(35))
    assert all(verify(SECRET, r.headers, r.body) for r in hooked.received)


def test_a_request_must_be_decided_within_24_hours(sandbox: httpx.Client, hooked: Receiver) -> None:
    access = token(sandbox)
    first = sandbox.post(
        "/control/airbnb/bookings",
        json={
            "listing_id": LISTING,
            "arrival": str(soon(30)),
            "departure": str(soon(32)),
            "request": True,
        },
    ).json()
    assert first["status"] == "pending"
    r = sandbox.post(f"/airbnb/v2/reservations/{first['id']}/accept", headers=bearer(access))
    assert r.json()["reservation"]["status"] == "accepted"
    second = sandbox.post(
        "/control/airbnb/bookings",
        json={
            "listing_id": LISTING,
            "arrival": str(soon(40)),
            "departure": str(soon(42)),
            "request": True,
        },
    ).json()
    sandbox.post("/control/clock/advance", json={"seconds": 24 * 3600 + 1}).raise_for_status()
    access = token(sandbox)  # the old one expired with the clock
    r = sandbox.post(f"/airbnb/v2/reservations/{second['id']}/accept", headers=bearer(access))
    assert r.status_code == 409
    types = [e["event_type"] for e in events(hooked, 4)]
    assert types == [
        "reservation.requested",
        "reservation.accepted",
        "reservation.requested",
        "reservation.expired",
    ]


def test_an_alteration_request_changes_the_stay_only_when_accepted(
    sandbox: httpx.Client, hooked: Receiver
) -> None:
    access = token(sandbox)
    code = sandbox.post(
        "/control/airbnb/bookings",
        json={"listing_id": LISTING, "arrival": str(soon(30)), "departure": str(soon(32))},
    ).json()["id"]
    r = sandbox.patch(
        f"/control/airbnb/bookings/{code}", json={"departure": str(soon(34)), "request": True}
    )
    alteration = r.json()["alteration_id"]
    res = sandbox.get(f"/airbnb/v2/reservations/{code}", headers=bearer(access)).json()
    assert res["reservation"]["end_date"] == str(soon(32))
    assert res["reservation"]["pending_alteration"]["id"] == alteration
    r = sandbox.post(f"/airbnb/v2/alterations/{alteration}/accept", headers=bearer(access))
    assert r.status_code == 200, r.text
    res = sandbox.get(f"/airbnb/v2/reservations/{code}", headers=bearer(access)).json()
    assert res["reservation"]["end_date"] == str(soon(34))
    assert [e["event_type"] for e in events(hooked, 3)] == [
        "reservation.created",
        "alteration.requested",
        "alteration.accepted",
    ]


def test_webhooks_are_retried_with_backoff_until_2xx(
    sandbox: httpx.Client, hooked: Receiver
) -> None:
    hooked.statuses = [500, 503]
    sandbox.post(
        "/control/airbnb/bookings",
        json={"listing_id": LISTING, "arrival": str(soon(30)), "departure": str(soon(32))},
    )
    hooked.wait_for_count(3)
    deliveries = wait_for(
        lambda: [
            d for d in sandbox.get("/control/airbnb/webhooks").json() if d["state"] == "delivered"
        ],
        10,
        "the delivery to succeed",
    )
    assert [a.get("status") for a in deliveries[0]["attempts"]] == [500, 503, 200]
    assert len({r.headers["x-airbnb-event-id"] for r in hooked.received}) == 1


def webhook_faults(client: httpx.Client, receiver: Receiver, seed: int) -> list[str]:
    client.post("/control/reset").raise_for_status()
    client.put(
        "/control/airbnb/webhook",
        json={"url": f"{receiver.url}/hook", "secret": SECRET, "backoff_base_s": 0.05},
    ).raise_for_status()
    client.put(
        "/control/airbnb/faults",
        json={
            "seed": seed,
            "webhook_drop_rate": 0.25,
            "webhook_duplicate_rate": 0.25,
            "webhook_reorder_rate": 0.25,
        },
    ).raise_for_status()
    for i in range(12):
        arrival = soon(30 + 3 * i)
        client.post(
            "/control/airbnb/bookings",
            json={
                "listing_id": LISTING,
                "arrival": str(arrival),
                "departure": str(arrival + timedelta(2)),
            },
        ).raise_for_status()
    log = client.get("/control/airbnb/faults/log").json()
    return [entry["fault"] for entry in log]


def test_webhook_faults_replay_from_the_seed(sandbox: httpx.Client, receiver: Receiver) -> None:
    first = webhook_faults(sandbox, receiver, seed=99)
    assert first == webhook_faults(sandbox, receiver, seed=99)
    assert {"drop", "duplicate", "reorder", "deliver"} <= set(first)
    assert first != webhook_faults(sandbox, receiver, seed=100)


def test_dropped_duplicated_and_reordered_webhooks(
    sandbox: httpx.Client, receiver: Receiver
) -> None:
    faults = webhook_faults(sandbox, receiver, seed=99)
    sandbox.post("/control/airbnb/webhooks/flush").raise_for_status()

    def settled() -> list[dict[str, Any]] | None:
        deliveries: list[dict[str, Any]] = sandbox.get("/control/airbnb/webhooks").json()
        done = all(d["state"] in ("delivered", "dropped") for d in deliveries)
        return deliveries if done else None

    deliveries = wait_for(settled, 10, "every webhook to be delivered or dropped")
    sent = [d for d in deliveries if d["state"] == "delivered"]
    assert (
        len(receiver.received)
        == len(sent)
        == sum({"drop": 0, "duplicate": 2}.get(f, 1) for f in faults)
    )
    ids = [json.loads(r.body)["event_id"] for r in receiver.received]
    dropped = {d["event_id"] for d in deliveries if d["state"] == "dropped"}
    assert not dropped & set(ids), "a dropped webhook is never sent"
    twice = {i for i in ids if ids.count(i) == 2}
    assert len(twice) == faults.count("duplicate")
    # a reordered event arrives after the one that followed it
    order = [int(i.removeprefix("evt_")) for i in ids]
    assert order != sorted(order)


def test_control_creates_hosts_with_listings_and_codes(sandbox: httpx.Client) -> None:
    r = sandbox.post("/control/airbnb/hosts", json={"listings": 3})
    assert r.status_code == 201, r.text
    host = r.json()
    access = token(sandbox, host["authorization_code"])
    r = sandbox.get("/airbnb/v2/listings", headers=bearer(access))
    assert sorted(x["id"] for x in r.json()["listings"]) == sorted(host["listings"])
    assert (
        sandbox.post("/control/airbnb/hosts", json={"host_id": host["host_id"]}).status_code == 409
    )


def test_faults_and_limits_per_account_leave_other_hosts_alone(sandbox: httpx.Client) -> None:
    one, two = token(sandbox, "code-host-1001"), token(sandbox, "code-host-1002")
    r = sandbox.put("/control/airbnb/accounts/1001/faults", json={"seed": 1, "error_rate": 1.0})
    assert r.status_code == 200
    assert sandbox.get("/control/airbnb/accounts/1001/faults").json()["scope"] == "account"
    assert sandbox.get("/control/airbnb/accounts/1002/faults").json()["plan"] is None
    assert sandbox.get("/airbnb/v2/listings", headers=bearer(one)).status_code == 500
    assert sandbox.get("/airbnb/v2/listings", headers=bearer(two)).status_code == 200
    sandbox.delete("/control/airbnb/accounts/1001/faults").raise_for_status()
    assert sandbox.get("/airbnb/v2/listings", headers=bearer(one)).status_code == 200

    r = sandbox.put("/control/airbnb/accounts/1002/limits", json={"requests": 1, "window_s": 60})
    assert r.status_code == 200
    assert sandbox.get("/control/airbnb/accounts/1002/limits").json()["requests"] == 1
    assert sandbox.get("/airbnb/v2/listings", headers=bearer(two)).status_code == 200
    limited = sandbox.get("/airbnb/v2/listings", headers=bearer(two))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert sandbox.get("/airbnb/v2/listings", headers=bearer(one)).status_code == 200


def test_the_webhook_target_reads_back_without_its_secret(sandbox: httpx.Client) -> None:
    sandbox.put(
        "/control/airbnb/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": SECRET}
    ).raise_for_status()
    r = sandbox.get("/control/airbnb/webhook")
    assert r.json()["url"] == "http://127.0.0.1:9/hook"
    assert r.json()["secret_set"] is True
    assert SECRET not in r.text
