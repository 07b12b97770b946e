"""Guests: e-mail unique per agency ignoring case; GDPR export and erasure."""

from __future__ import annotations

import httpx

from tests.factories import signup


async def test_guest_email_is_unique_per_agency_ignoring_case(client: httpx.AsyncClient) -> None:
    _, token, _ = await signup(client)
    _, other, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    body = {"email": "Anna@Example.com", "last_name": "Berg"}
    assert (await client.post("/api/v1/guests", json=body, headers=h)).status_code == 201
    r = await client.post("/api/v1/guests", json={**body, "email": "anna@example.COM"}, headers=h)
    assert r.status_code == 409
    assert r.json()["conflict_type"] == "guest_email_taken"
    # Another agency may have its own Anna.
    r = await client.post("/api/v1/guests", json=body, headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 201


async def test_search_and_pagination_report_totals(client: httpx.AsyncClient) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    for i in range(5):
        await client.post("/api/v1/guests", json={"last_name": f"Meier{i}"}, headers=h)
    await client.post("/api/v1/guests", json={"last_name": "Schulz"}, headers=h)
    r = await client.get("/api/v1/guests?q=meier&limit=2&offset=2&sort=-last_name", headers=h)
    body = r.json()
    assert body["total"] == 5
    assert [g["last_name"] for g in body["items"]] == ["Meier2", "Meier1"]
    r = await client.get("/api/v1/guests?sort=password", headers=h)
    assert r.status_code == 422


async def test_export_then_erase_removes_personal_data_everywhere(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}"}
    r = await client.post(
        "/api/v1/guests",
        json={
            "email": "eve@example.com",
            "first_name": "Eve",
            "last_name": "Adams",
            "phone": "+49 30 1234567",
            "notes": "allergic to cats",
        },
        headers=h,
    )
    gid = r.json()["id"]
    export = (await client.get(f"/api/v1/guests/{gid}/export", headers=h)).json()
    assert export["guest"]["email"] == "eve@example.com"
    assert export["guest"]["phone"] == "+49 30 1234567"
    r = await client.post(f"/api/v1/guests/{gid}/erase", headers=h)
    assert r.status_code == 200
    erased = r.json()
    assert erased["email"] is None
    assert erased["phone"] is None
    assert erased["notes"] is None
    assert erased["last_name"] == "Erased"
    assert erased["erased_at"]
    log = (await client.get(f"/api/v1/audit-log?entity_id={gid}", headers=h)).json()
    assert [e["action"] for e in log["items"]] == ["erased", "exported", "created"]
    assert "eve@example.com" not in str(log)
    assert "Adams" not in str(log)
    r = await client.patch(f"/api/v1/guests/{gid}", json={"notes": "x"}, headers=h)
    assert r.status_code == 409


async def test_property_changes_are_audited_with_before_and_after(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await signup(client)
    h = {"Authorization": f"Bearer {token}", "X-Request-Id": "audit-req-1"}
    r = await client.post(
        "/api/v1/properties",
        json={"name": "Loft", "timezone": "Europe/Berlin", "currency": "EUR", "max_guests": 2},
        headers=h,
    )
    pid = r.json()["id"]
    await client.patch(f"/api/v1/properties/{pid}", json={"max_guests": 3}, headers=h)
    log = (await client.get(f"/api/v1/audit-log?entity_id={pid}", headers=h)).json()["items"]
    assert log[0]["action"] == "updated"
    assert log[0]["before"]["max_guests"] == 2
    assert log[0]["after"]["max_guests"] == 3
    assert log[0]["request_id"] == "audit-req-1"
    r = await client.patch(f"/api/v1/properties/{pid}", json={"timezone": "Mars/Base"}, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "timezone"
