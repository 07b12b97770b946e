"""Finding 1: outside development and tests, the app refuses to start on a published or short
secret, and names the variable to set (never its value)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pms.settings import (
    DEV_SECRET_KEY,
    SANDBOX_AIRBNB_CLIENT_SECRET,
    SANDBOX_AIRBNB_WEBHOOK_SECRET,
    SANDBOX_BOOKING_CLIENT_SECRET,
    SANDBOX_STRIPE_SECRET_KEY,
    SANDBOX_STRIPE_WEBHOOK_SECRET,
    InsecureSettings,
    Settings,
)
from tests.services import REPO

STRONG = "k" * 48
SECRET_VARIABLES = (
    "SECRET_KEY",
    "SECRET_KEY_PREVIOUS",
    "SUPABASE_JWT_SECRET",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "AIRBNB_CLIENT_SECRET",
    "AIRBNB_WEBHOOK_SECRET",
    "BOOKING_CLIENT_SECRET",
)


@pytest.fixture(autouse=True)
def _no_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*SECRET_VARIABLES, "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


def _refusal(**values: str) -> str:
    with pytest.raises(InsecureSettings) as caught:
        Settings(**values)  # type: ignore[arg-type]
    return str(caught.value)


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_the_development_secret_key_is_refused(environment: str) -> None:
    message = _refusal(environment=environment)
    assert "SECRET_KEY is a published development default" in message
    assert DEV_SECRET_KEY not in message


def test_a_short_secret_key_is_refused() -> None:
    message = _refusal(environment="production", secret_key="s3cret-but-short")
    assert "SECRET_KEY is shorter than 32 characters" in message
    assert "s3cret-but-short" not in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("stripe_webhook_secret", SANDBOX_STRIPE_WEBHOOK_SECRET),
        ("stripe_secret_key", SANDBOX_STRIPE_SECRET_KEY),
        ("supabase_jwt_secret", "jwt-xq7"),
        ("secret_key_previous", f"{STRONG},{DEV_SECRET_KEY}"),
        # The sandbox's Airbnb secrets are in this repository: a webhook signed with them would
        # be believed by every agency's Airbnb connection.
        ("airbnb_webhook_secret", SANDBOX_AIRBNB_WEBHOOK_SECRET),
        ("airbnb_client_secret", SANDBOX_AIRBNB_CLIENT_SECRET),
        # Our Booking.com machine account's secret: the sandbox's is in this repository.
        ("booking_client_secret", SANDBOX_BOOKING_CLIENT_SECRET),
    ],
)
def test_every_other_secret_is_checked_too(variable: str, value: str) -> None:
    message = _refusal(environment="production", secret_key=STRONG, **{variable: value})
    assert variable.upper() in message
    assert value.split(",")[-1] not in message


def test_strong_secrets_start_and_development_keeps_its_defaults() -> None:
    s = Settings(
        environment="production",
        secret_key=STRONG,  # type: ignore[arg-type]
        stripe_webhook_secret="whsec_" + "w" * 32,  # type: ignore[arg-type]
        airbnb_client_secret="a" * 40,  # type: ignore[arg-type]
        airbnb_webhook_secret="b" * 40,  # type: ignore[arg-type]
        booking_client_secret="c" * 40,  # type: ignore[arg-type]
    )
    assert s.secret_key.get_secret_value() == STRONG
    assert Settings(environment="development").secret_key.get_secret_value() == DEV_SECRET_KEY
    assert Settings(environment="test").secret_key.get_secret_value() == DEV_SECRET_KEY


def test_pms_refuses_to_start_and_names_the_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    env.update(ENVIRONMENT="production", STRIPE_WEBHOOK_SECRET=SANDBOX_STRIPE_WEBHOOK_SECRET)
    done = subprocess.run(
        [sys.executable, "-m", "pms", "api"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "SECRET_KEY is a published development default" in done.stdout
    assert "STRIPE_WEBHOOK_SECRET is a published development default" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert SANDBOX_STRIPE_WEBHOOK_SECRET not in done.stdout + done.stderr
