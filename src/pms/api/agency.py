"""The current agency's settings (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from pms.api.deps import DB, AgencyManage, AgencyMember
from pms.api.idempotency import IdempotentRoute
from pms.core import agencies
from pms.schemas.common import Input

Origin = Annotated[
    str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", max_length=200)
]

router = APIRouter(route_class=IdempotentRoute, prefix="/agency", tags=["agency"])


class AgencySettings(BaseModel):
    id: str
    name: str
    slug: str = Field(description="Names the agency in the public booking engine's URLs.")
    public_origins: list[str]
    hold_minutes: int


class AgencyUpdate(Input):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    public_origins: list[Origin] | None = Field(
        default=None, max_length=20, description="Websites allowed to call the public API (CORS)."
    )
    hold_minutes: int | None = Field(default=None, ge=5, le=120)


def _out(a: object) -> AgencySettings:
    return AgencySettings(
        id=str(a.id),  # type: ignore[attr-defined]
        name=a.name,  # type: ignore[attr-defined]
        slug=a.slug,  # type: ignore[attr-defined]
        public_origins=list(a.public_origins),  # type: ignore[attr-defined]
        hold_minutes=a.hold_minutes,  # type: ignore[attr-defined]
    )


@router.get("", response_model=AgencySettings, summary="The current agency")
async def get_agency(session: DB, actor: AgencyMember) -> AgencySettings:
    return _out(await agencies.current(session, actor))


@router.patch("", response_model=AgencySettings, summary="Change the agency's settings")
async def update_agency(body: AgencyUpdate, session: DB, actor: AgencyManage) -> AgencySettings:
    return _out(await agencies.update(session, actor, body.model_dump(exclude_unset=True)))
