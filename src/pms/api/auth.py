"""Sign-up, login, token refresh, logout and the current user."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from pms.api.deps import DB, AppSettings, Authenticated, client_ip
from pms.api.idempotency import IdempotentRoute
from pms.api.responses import Responses
from pms.core import auth, ratelimit
from pms.core.tenancy import scope_transaction
from pms.redis_client import get_redis
from pms.schemas.auth import (
    LoginRequest,
    Me,
    MembershipInfo,
    RefreshRequest,
    SignupRequest,
    SignupResponse,
    Tokens,
)

router = APIRouter(route_class=IdempotentRoute, tags=["auth"])
_401: Responses = {401: {"description": "Missing, invalid, expired or revoked credentials"}}


def _tokens(pair: auth.TokenPair) -> Tokens:
    return Tokens(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=SignupResponse,
    summary="Create an account and an agency with you as its admin",
    responses={
        409: {"description": "The e-mail is already registered"},
        429: {"description": "Too many sign-ups from this address"},
    },
)
async def signup(
    body: SignupRequest, session: DB, settings: AppSettings, request: Request
) -> SignupResponse:
    await ratelimit.hit(
        get_redis(), f"signup:ip:{client_ip(request)}", settings.signup_attempts_per_ip, 3600
    )
    user, agency, pair = await auth.signup(
        session, settings, email=body.email, password=body.password, agency_name=body.agency_name
    )
    return SignupResponse(**_tokens(pair).model_dump(), user_id=user.id, agency_id=agency.id)


@router.post(
    "/auth/login",
    response_model=Tokens,
    summary="Exchange e-mail and password for an access and a refresh token",
    responses={
        **_401,
        429: {
            "description": "Too many attempts from this address, or failed ones for this "
            "account from it (Retry-After says when to try again)"
        },
    },
)
async def login(body: LoginRequest, session: DB, settings: AppSettings, request: Request) -> Tokens:
    pair = await auth.login(
        session,
        settings,
        get_redis(),
        email=body.email,
        password=body.password,
        client_ip=client_ip(request),
    )
    return _tokens(pair)


@router.post(
    "/auth/refresh",
    response_model=Tokens,
    summary="Rotate the refresh token (reusing an old one revokes the session)",
    responses=_401,
)
async def refresh(body: RefreshRequest, session: DB, settings: AppSettings) -> Tokens:
    return _tokens(await auth.refresh(session, settings, body.refresh_token))


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the current session (its refresh token stops working)",
    responses=_401,
)
async def logout(session: DB, caller: Authenticated) -> Response:
    if caller.session_id is not None:
        await auth.logout(session, caller.session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=Me, summary="The current user and their agencies", responses=_401)
async def me(session: DB, caller: Authenticated) -> Me:
    user = caller.user
    await scope_transaction(session, user_id=user.id, agency_id=None)
    rows = await auth.memberships(session, user.id)
    return Me(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        memberships=[
            MembershipInfo(agency_id=a.id, agency_name=a.name, agency_slug=a.slug, role=m.role)
            for m, a in rows
        ],
    )
