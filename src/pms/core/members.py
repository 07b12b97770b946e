"""The team: members with roles, invitations, and the rule that one admin always remains."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import audit
from pms.core.auth import Identity, create_user, find_user_by_email, normalize_email
from pms.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from pms.core.permissions import Role
from pms.core.tenancy import Actor, scope_transaction
from pms.core.tokens import same_hash, token_hash
from pms.models.agency import Invitation, Membership
from pms.models.user import User
from pms.settings import Settings


async def list_members(session: AsyncSession, actor: Actor) -> list[tuple[Membership, User]]:
    rows = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.agency_id == actor.require_agency())
        .order_by(User.email)
    )
    return [(m, u) for m, u in rows.all()]


async def _membership(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> Membership:
    m = (
        await session.execute(
            select(Membership)
            .where(Membership.agency_id == actor.require_agency(), Membership.user_id == user_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if m is None:
        raise NotFound("No such member in this agency.")
    return m


async def _guard_last_admin(
    session: AsyncSession, agency_id: uuid.UUID, leaving: Membership
) -> None:
    if leaving.role is not Role.ADMIN:
        return
    # Lock every admin row so two admins demoting each other at once cannot both succeed.
    admins = (
        await session.execute(
            select(Membership.user_id)
            .where(Membership.agency_id == agency_id, Membership.role == Role.ADMIN)
            .with_for_update()
        )
    ).all()
    if len(admins) <= 1:
        raise Conflict(
            "The agency's last admin cannot be removed or demoted.", conflict_type="last_admin"
        )


async def change_role(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, role: Role
) -> tuple[Membership, User]:
    agency_id = actor.require_agency()
    m = await _membership(session, actor, user_id)
    if m.role is not role:
        if role is not Role.ADMIN:
            await _guard_last_admin(session, agency_id, m)
        before = audit.snapshot(m)
        m.role = role
        await session.flush()
        await audit.record(
            session,
            actor,
            agency_id=agency_id,
            entity_type="member",
            entity_id=user_id,
            action="role_changed",
            before=before,
            after=audit.snapshot(m),
        )
    user = await session.get(User, user_id)
    assert user is not None
    return m, user


async def remove(session: AsyncSession, actor: Actor, user_id: uuid.UUID) -> None:
    agency_id = actor.require_agency()
    m = await _membership(session, actor, user_id)
    await _guard_last_admin(session, agency_id, m)
    before = audit.snapshot(m)
    await session.delete(m)
    await audit.record(
        session,
        actor,
        agency_id=agency_id,
        entity_type="member",
        entity_id=user_id,
        action="removed",
        before=before,
    )


async def invite(
    session: AsyncSession, settings: Settings, actor: Actor, email: str, role: Role
) -> tuple[Invitation, str]:
    """Returns the invitation and its one-time token (only its hash is stored)."""
    agency_id = actor.require_agency()
    email = normalize_email(email)
    existing = await find_user_by_email(session, email)
    if existing is not None:
        already = await session.get(Membership, (agency_id, existing.id))
        if already is not None:
            raise Conflict("This person is already a member.", conflict_type="already_member")
    secret = secrets.token_urlsafe(24)
    inv = Invitation(
        id=uuid.uuid4(),
        agency_id=agency_id,
        email=email,
        role=role,
        token_hash=token_hash(secret),
        invited_by=actor.user_id,
        expires_at=datetime.now(UTC) + timedelta(hours=settings.invitation_ttl_hours),
    )
    session.add(inv)
    await session.flush()
    await audit.record(
        session,
        actor,
        agency_id=agency_id,
        entity_type="invitation",
        entity_id=inv.id,
        action="created",
        after={"email": email, "role": role.value},
    )
    # The token names its agency and invitation so it can be checked under row-level security.
    return inv, f"{agency_id}.{inv.id}.{secret}"


def _parse_invitation_token(token: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    try:
        agency, inv, secret = token.split(".", 2)
        return uuid.UUID(agency), uuid.UUID(inv), secret
    except ValueError:
        raise NotFound("Invitation not found or expired.") from None


async def accept(
    session: AsyncSession,
    *,
    token: str,
    user: Identity | None,
    password: str | None,
    full_name: str | None,
) -> tuple[Membership, Identity, bool]:
    """Accept as the logged-in ``user`` or, without one, create the account with ``password``.
    Returns the membership, the user, and whether the user was created."""
    agency_id, inv_id, secret = _parse_invitation_token(token)
    await scope_transaction(session, user_id=user.id if user else None, agency_id=agency_id)
    inv = (
        await session.execute(select(Invitation).where(Invitation.id == inv_id).with_for_update())
    ).scalar_one_or_none()
    if (
        inv is None
        or not same_hash(inv.token_hash, token_hash(secret))
        or inv.accepted_at is not None
        or inv.expires_at <= datetime.now(UTC)
    ):
        raise NotFound("Invitation not found or expired.")
    created = False
    if user is None:
        if not password:
            raise Unprocessable(
                "Log in to accept, or give a password to create your account.",
                errors=[{"field": "password", "in": "body", "message": "required without login"}],
            )
        user = Identity.of(await create_user(session, inv.email, password, full_name))
        created = True
    elif normalize_email(user.email) != inv.email:
        raise Forbidden("This invitation was sent to another e-mail address.")
    await scope_transaction(session, user_id=user.id, agency_id=agency_id)
    if await session.get(Membership, (agency_id, user.id)) is not None:
        raise Conflict("You are already a member of this agency.", conflict_type="already_member")
    m = Membership(agency_id=agency_id, user_id=user.id, role=inv.role)
    session.add(m)
    inv.accepted_at = datetime.now(UTC)
    await session.flush()
    actor = Actor(user.id, user.email, agency_id, inv.role)
    await audit.record(
        session,
        actor,
        agency_id=agency_id,
        entity_type="member",
        entity_id=user.id,
        action="joined",
        after={"role": inv.role.value, "invitation_id": str(inv.id)},
    )
    return m, user, created


async def count_admins(session: AsyncSession, agency_id: uuid.UUID) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(Membership)
                .where(Membership.agency_id == agency_id, Membership.role == Role.ADMIN)
            )
        ).scalar_one()
    )
