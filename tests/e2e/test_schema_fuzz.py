"""No 5xx for bad input: schemathesis generates requests from the published OpenAPI schema for
every operation (authenticated), against the app served by uvicorn on loopback. Operations added
later are fuzzed automatically."""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.factories import PASSWORD

EXAMPLES_PER_OPERATION = 25
_SKIPPED = {
    "/api/v1/auth/logout",  # would end the session the other operations are fuzzed with
    "/health/ready",  # 503 is its documented answer while no worker runs
    "/api/v1/events/stream",  # an endless stream (tests/integration/test_event_stream.py)
}


def test_no_operation_answers_5xx_to_generated_input(live_api: str) -> None:
    with httpx.Client(base_url=live_api, timeout=30) as http:
        r = http.post(
            "/api/v1/auth/signup",
            json={"email": "fuzz@example.com", "password": PASSWORD, "agency_name": "Fuzz"},
        )
        assert r.status_code == 201, r.text
        token = r.json()["access_token"]
        spec = http.get("/openapi.json").json()
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    operations = 0
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in _SKIPPED:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            nonlocal calls
            calls += 1
            try:
                case.call_and_validate(
                    base_url=live_api, headers=headers, checks=[not_a_server_error], timeout=30
                )
            except Exception as exc:
                failures.append(f"{case.method} {case.path}: {str(exc)[:300]}")
                raise

        try:
            fuzz()
        except Exception:
            continue
    assert operations >= 15
    assert calls >= operations * 5, f"only {calls} generated requests"
    assert not failures, "\n".join(failures[:20])
