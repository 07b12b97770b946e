"""The agency's team: members, roles and invitations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from pms.api.deps import DB, AppSettings, OptionalCaller, TeamManage, TeamRead
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import auth, members
from pms.schemas.auth import (
    Invitation,
    InvitationAccept,
    InvitationAccepted,
    Member,
    MemberInvite,
    MemberUpdate,
    Tokens,
)

router = APIRouter(route_class=IdempotentRoute, tags=["team"])
_404: Responses = {404: {"description": "No such member in this agency"}}
_409: Responses = {409: {"description": "The last admin cannot be removed or demoted"}}


def _member(m: object, u: object) -> Member:
    return Member(
        user_id=u.id,  # type: ignore[attr-defined]
        email=u.email,  # type: ignore[attr-defined]
        full_name=u.full_name,  # type: ignore[attr-defined]
        role=m.role,  # type: ignore[attr-defined]
        joined_at=m.created_at,  # type: ignore[attr-defined]
    )


@router.get("/members", response_model=list[Member], summary="The agency's members")
async def list_members(session: DB, actor: TeamRead) -> list[Member]:
    return [_member(m, u) for m, u in await members.list_members(session, actor)]


@router.post(
    "/members",
    status_code=status.HTTP_201_CREATED,
    response_model=Invitation,
    summary="Invite someone by e-mail with a role (the response carries the invitation token)",
    responses={409: {"description": "Already a member"}},
)
async def invite(
    body: MemberInvite, session: DB, settings: AppSettings, actor: TeamManage
) -> Invitation:
    inv, token = await members.invite(session, settings, actor, body.email, body.role)
    return Invitation(
        id=inv.id, email=inv.email, role=inv.role, expires_at=inv.expires_at, token=token
    )


@router.patch(
    "/members/{user_id}",
    response_model=Member,
    summary="Change a member's role",
    responses={**_404, **_409},
)
async def update_member(
    user_id: uuid.UUID, body: MemberUpdate, session: DB, actor: TeamManage
) -> Member:
    m, u = await members.change_role(session, actor, user_id, body.role)
    return _member(m, u)


@router.delete(
    "/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member from the agency",
    responses={**_404, **_409},
)
async def remove_member(user_id: uuid.UUID, session: DB, actor: TeamManage) -> Response:
    await members.remove(session, actor, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/invitations/accept",
    response_model=InvitationAccepted,
    summary="Accept an invitation (logged in, or creating the account with a password)",
    responses={404: {"description": "Unknown, used or expired invitation"}},
)
async def accept_invitation(
    body: InvitationAccept,
    session: DB,
    settings: AppSettings,
    caller: OptionalCaller,
) -> InvitationAccepted:
    user = caller.user if caller is not None else None
    m, user, created = await members.accept(
        session, token=body.token, user=user, password=body.password, full_name=body.full_name
    )
    tokens = None
    if created:
        pair = await auth.start_session(session, settings, user.id)
        tokens = Tokens(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )
    return InvitationAccepted(agency_id=m.agency_id, role=m.role, user_id=user.id, tokens=tokens)
