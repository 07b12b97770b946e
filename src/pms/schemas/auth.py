"""Authentication and team shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from pms.models.agency import Role
from pms.schemas.common import Input

Password = Annotated[str, StringConstraints(min_length=10, max_length=200)]
AgencyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SignupRequest(Input):
    email: EmailStr
    password: Password = Field(description="At least 10 characters.")
    agency_name: AgencyName


class LoginRequest(Input):
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RefreshRequest(Input):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class Tokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class SignupResponse(Tokens):
    user_id: uuid.UUID
    agency_id: uuid.UUID


class MembershipInfo(BaseModel):
    agency_id: uuid.UUID
    agency_name: str
    agency_slug: str
    role: Role


class Me(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    memberships: list[MembershipInfo]


class Member(BaseModel):
    user_id: uuid.UUID
    email: str
    full_name: str | None
    role: Role
    joined_at: datetime


class MemberInvite(Input):
    email: EmailStr
    role: Role


class MemberUpdate(Input):
    role: Role


class Invitation(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    token: str = Field(description="Give this to the invitee; it is shown only once.")


class InvitationAccept(Input):
    token: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    password: Password | None = Field(
        default=None, description="Creates the account when not logged in."
    )
    full_name: Annotated[str, StringConstraints(max_length=200)] | None = None


class InvitationAccepted(BaseModel):
    agency_id: uuid.UUID
    role: Role
    user_id: uuid.UUID
    tokens: Tokens | None = Field(default=None, description="Set when the account was created.")


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor_user_id: uuid.UUID | None
    entity_type: str
    entity_id: str
    action: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    request_id: str | None
    created_at: datetime
