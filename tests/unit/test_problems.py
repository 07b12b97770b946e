"""What an exception nothing handled becomes: 503 with Retry-After when sending the request
again can succeed (the database connection was lost, another transaction forced a rollback),
else the 500 that says it is a bug."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import DBAPIError

from pms.api.problems import unexpected


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "why"),
    [("40001", "serialization failure"), ("40P01", "deadlock"), ("55P03", "lock not available")],
)
def test_a_transaction_rolled_back_by_another_is_a_503_to_retry(sqlstate: str, why: str) -> None:
    response = unexpected(DBAPIError("UPDATE …", None, PgError(sqlstate)))
    assert response.status_code == 503, why
    assert response.headers["Retry-After"] == "1"
    body = json.loads(response.body)
    assert body["type"] == "/problems/concurrent-change"
    assert "nothing was saved" in body["detail"]


@pytest.mark.parametrize("sqlstate", ["23505", "42P01", "XX000"])
def test_any_other_database_error_is_a_500(sqlstate: str) -> None:
    assert unexpected(DBAPIError("INSERT …", None, PgError(sqlstate))).status_code == 500
