"""Per-account faults and rate limits, and the read-back of what each simulator applies
(webhook target, faults, limits; sandbox-wide and per account), for every platform. The
enforcement in each platform's own format is tested on its page's tests (Booking.com, Expedia,
Airbnb) and here for Google and Vrbo."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.test_google import PARTNER, avail_rq, post, soon

PLATFORMS = {
    "booking": ("sandbox-pms", "pull"),
    "expedia": ("EQCsandbox", "pull"),
    "airbnb": ("1001", "webhook"),
    "google": (PARTNER, "none"),
    "vrbo": ("public", "request"),
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_settings_read_back(sandbox: httpx.Client, platform: str) -> None:
    account, delivery = PLATFORMS[platform]
    base = f"/control/{platform}"
    settings = sandbox.get(f"{base}/settings").json()
    assert settings["webhook"]["delivery"] == delivery
    assert "secret" not in settings["webhook"]
    assert "password" not in settings["webhook"]
    assert settings["faults"] == {"sandbox": None, "accounts": {}}
    assert settings["limits"]["accounts"] == {}
    assert sandbox.get(f"{base}/webhook").json() == settings["webhook"]
    assert sandbox.get(f"{base}/faults").json() is None
    wide = sandbox.get(f"{base}/limits").json()
    assert wide == settings["limits"]["sandbox"]

    plan = {"seed": 9, "error_rate": 0.5}
    sandbox.put(f"{base}/faults", json=plan).raise_for_status()
    assert sandbox.get(f"{base}/faults").json()["error_rate"] == 0.5
    assert sandbox.get(f"{base}/accounts/{account}/faults").json()["scope"] == "sandbox"
    sandbox.put(f"{base}/accounts/{account}/faults", json={"seed": 1}).raise_for_status()
    sandbox.put(
        f"{base}/accounts/{account}/limits", json={"requests": 5, "window_s": 10}
    ).raise_for_status()
    settings = sandbox.get(f"{base}/settings").json()
    assert settings["faults"]["sandbox"]["error_rate"] == 0.5
    assert settings["faults"]["accounts"][account]["seed"] == 1
    assert settings["limits"]["accounts"] == {account: {"requests": 5, "window_s": 10.0}}
    own = sandbox.get(f"{base}/accounts/{account}/limits").json()
    assert own == {"scope": "account", "requests": 5, "window_s": 10.0}

    sandbox.delete(f"{base}/accounts/{account}/faults").raise_for_status()
    sandbox.delete(f"{base}/accounts/{account}/limits").raise_for_status()
    assert sandbox.get(f"{base}/accounts/{account}/limits").json()["scope"] == "sandbox"
    bad = sandbox.put(f"{base}/accounts/{account}/faults", json={"seed": 1, "error_rate": 2})
    assert bad.status_code == 422
    # A reset forgets the accounts' own settings.
    sandbox.put(f"{base}/accounts/{account}/faults", json={"seed": 1}).raise_for_status()
    sandbox.post(f"{base}/reset").raise_for_status()
    assert sandbox.get(f"{base}/settings").json()["faults"] == {"sandbox": None, "accounts": {}}


def test_google_faults_and_limits_of_one_partner(sandbox: httpx.Client) -> None:
    start = soon(5)
    body = avail_rq(start, start, '<RestrictionStatus Status="Open"/>')
    plan = {"seed": 3, "error_rate": 1.0, "error_status": 502}
    sandbox.put(f"/control/google/accounts/{PARTNER}/faults", json=plan).raise_for_status()
    r = post(sandbox, "/ota/hotel_avail_notif", body)
    assert r.status_code == 502
    assert "Errors" in r.text
    sandbox.delete(f"/control/google/accounts/{PARTNER}/faults").raise_for_status()
    limits = {"requests": 1, "window_s": 60}
    sandbox.put(f"/control/google/accounts/{PARTNER}/limits", json=limits).raise_for_status()
    assert post(sandbox, "/ota/hotel_avail_notif", body).status_code == 200
    limited = post(sandbox, "/ota/hotel_avail_notif", body)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"].isdigit()


def test_vrbo_faults_of_its_public_calendar(sandbox: httpx.Client) -> None:
    params = {"start": str(soon(0)), "end": str(soon(0))}
    plan = {"seed": 3, "rate_limit_rate": 1.0, "retry_after_s": 4}
    sandbox.put("/control/vrbo/accounts/public/faults", json=plan).raise_for_status()
    r = sandbox.get("/vrbo/listings/501/calendar", params=params)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "4"
    sandbox.delete("/control/vrbo/accounts/public/faults").raise_for_status()
    assert sandbox.get("/vrbo/listings/501/calendar", params=params).status_code != 429
