"""Many values as one array parameter (``= ANY(:ids)``) instead of an ``IN`` list: one bind
instead of hundreds, so the statement's text and its prepared plan do not change with the
number of ids, and nothing is rendered per id on every request."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, BindParameter, bindparam
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

UUID_ARRAY: Any = ARRAY(PG_UUID(as_uuid=True))  # the type of a uuid array bind parameter


def uuid_array(ids: Iterable[uuid.UUID], name: str = "ids") -> BindParameter[list[uuid.UUID]]:
    return bindparam(name, list(ids), type_=UUID_ARRAY, unique=True)
