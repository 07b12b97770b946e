"""One settings class for API, worker, scheduler and CLI: environment variables only."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Published in this repository, so worthless as secrets: only development and tests may run on
# them (the channel sandbox's fake Stripe uses the two Stripe values).
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"
SANDBOX_STRIPE_SECRET_KEY = "sk_test_pms_sandbox"
SANDBOX_STRIPE_WEBHOOK_SECRET = "whsec_pms_sandbox"
SANDBOX_AIRBNB_CLIENT_SECRET = "sandbox-airbnb-secret"
SANDBOX_AIRBNB_WEBHOOK_SECRET = "sandbox-airbnb-webhook-secret"
SANDBOX_BOOKING_CLIENT_SECRET = "sandbox-client-secret"
PUBLISHED_SECRETS = frozenset(
    {
        DEV_SECRET_KEY,
        SANDBOX_STRIPE_SECRET_KEY,
        SANDBOX_STRIPE_WEBHOOK_SECRET,
        SANDBOX_AIRBNB_CLIENT_SECRET,
        SANDBOX_AIRBNB_WEBHOOK_SECRET,
        SANDBOX_BOOKING_CLIENT_SECRET,
    }
)
MIN_SECRET_LENGTH = 32
LAX_ENVIRONMENTS = frozenset({"development", "test"})


class InsecureSettings(RuntimeError):
    """A secret is unfit for this environment. Not a ValueError, so pydantic does not wrap it in a
    ValidationError that would print the input values (the secrets) with it."""


class Settings(BaseSettings):
    """Runtime configuration. Unset service URLs mean embedded services under ``data_dir``."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    environment: Literal["development", "test", "staging", "production"] = Field(
        default="development",
        description="Outside development and test, the app refuses to start on a default or "
        "short secret.",
    )

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://...). Unset: embedded PostgreSQL under data_dir.",
    )
    database_admin_url: str | None = Field(
        default=None,
        description="Owner URL used for migrations. Defaults to database_url.",
    )
    db_app_role: str = Field(
        default="pms_app",
        description="Role without BYPASSRLS that every application session runs as.",
    )
    # Connections a process keeps open, and how many more it may open for a burst. SQLAlchemy
    # closes a burst connection as soon as it is returned, so a process that serves more
    # requests at once than it keeps would open and close a connection per request (with its
    # prepared statements lost each time): keep enough for the usual concurrency. An API
    # process opens the kept ones as it starts (`pms.db.open_pool`); the other processes open
    # connections only when needed, so an idle worker holds few.
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)

    redis_url: str | None = Field(
        default=None, description="Redis URL. Unset: embedded redis-server under data_dir."
    )
    redis_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="Each Redis call on the request path; then 503 dependency-unavailable.",
    )

    data_dir: Path = Field(default=Path(".data"), description="Embedded services' data.")
    embedded_postgres_port: int = 54329
    embedded_redis_port: int = 63799

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    sandbox_port: int = 8100
    forwarded_allow_ips: str = Field(
        default="",
        description="Proxies (IPs or CIDRs, comma-separated; '*' for any) whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed. Unset: none, the peer address is the client.",
    )
    public_base_url: str = Field(
        default="",
        description="How guests and platforms reach the API: the base of e-mail, self-service "
        "and iCal links. Unset: http://API_HOST:API_PORT (a wildcard host as 127.0.0.1).",
    )
    # The team's web app (web/, Next.js), started by `pms dev --web` (what `make run` does).
    web_port: int = 3000
    booking_site_url: str = Field(
        default="http://127.0.0.1:3000",
        description="The guests' booking site (web/, /{agency} pages): the base of the "
        "self-service links in e-mails and of Google's landing pages.",
    )

    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY),
        description="Signs the app's tokens. Must be set in production.",
    )
    secret_key_previous: SecretStr | None = Field(
        default=None,
        description="Former SECRET_KEYs (comma-separated) that still decrypt stored secrets.",
    )

    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    invitation_ttl_hours: int = 168
    supabase_jwt_secret: SecretStr | None = Field(
        default=None, description="Accept Supabase Auth HS256 tokens signed with this secret."
    )
    supabase_jwks_url: str | None = Field(
        default=None, description="Accept Supabase Auth tokens signed by a key in this JWKS."
    )
    login_attempts_per_ip: int = Field(default=50, description="Per 15 minutes.")
    login_free_failures: int = Field(
        default=3,
        description="Failed sign-ins of one account from one address before each further "
        "attempt must wait (1 s, then twice as long after every failure).",
    )
    login_max_delay_seconds: int = Field(
        default=900, description="The longest wait between attempts of one account and address."
    )
    signup_attempts_per_ip: int = Field(default=20, description="Sign-ups per address per hour.")

    public_requests_per_minute_per_ip: int = 120
    public_requests_per_minute_per_agency: int = 1200
    public_active_holds_per_ip: int = Field(
        default=3, ge=1, description="Live public holds one client address may have per agency."
    )
    public_active_holds_per_email: int = Field(
        default=3, ge=1, description="Live public holds per guest e-mail and agency."
    )
    public_active_holds_per_property: int = Field(
        default=5, ge=1, description="Live public holds per property."
    )

    log_level: str = "INFO"
    log_json: bool = True
    opentelemetry: bool = Field(
        default=False,
        description=(
            "FastAPI's native OpenTelemetry (traces, metrics and logs of each request, through "
            "the globally configured providers). Off: the API's own metrics are at /metrics, "
            "and without a configured provider it would only check for one on every request."
        ),
    )

    celery_task_time_limit: int = 300
    celery_task_soft_time_limit: int = 240
    worker_heartbeat_seconds: int = 10
    worker_heartbeat_ttl_seconds: int = 30

    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for outgoing e-mail.")
    smtp_port: int = Field(default=8025, description="8025: the dev SMTP sink (`pms smtp-sink`).")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS.")
    smtp_timeout_seconds: float = 30.0
    mail_from: str = Field(
        default="PMS-Webapp <no-reply@pms-webapp.dev>", description="From: of every e-mail."
    )
    email_max_attempts: int = Field(default=8, description="Then the e-mail is marked failed.")
    email_retry_base_seconds: float = Field(default=30.0, description="First retry delay.")
    email_retry_max_seconds: float = Field(default=3600.0, description="Longest retry delay.")
    email_sweep_seconds: float = Field(default=15.0, description="Beat sweep of queued e-mails.")
    smtp_sink_dir: Path | None = Field(
        default=None, description="Where `pms smtp-sink` writes .eml files (default data_dir/mail)."
    )

    stripe_api_base: str = "https://api.stripe.com"
    stripe_secret_key: SecretStr | None = None
    stripe_publishable_key: str | None = Field(
        default=None, description="Handed to the booking page for Stripe.js (not a secret)."
    )
    stripe_webhook_secret: SecretStr | None = None
    stripe_hosted_page_url: str | None = Field(
        default=None,
        description="Development: the sandbox's fake Stripe payment page (<sandbox>/stripe/pay); "
        "the booking site sends the guest there instead of loading Stripe.js.",
    )
    stripe_webhook_tolerance_seconds: int = 300
    stripe_timeout_seconds: float = 20.0

    embedded_database_name: str = "pms"

    ical_allow_private: bool = Field(
        default=False,
        description="Let iCal imports fetch loopback/private addresses (tests, local sandbox).",
    )
    ical_allowed_networks: str = Field(
        default="",
        description="CIDRs (comma-separated) iCal imports may fetch even though they are private.",
    )
    ical_poll_jitter_seconds: int = Field(
        default=60, description="Up to this much random delay is added to each feed's next poll."
    )
    ical_max_feed_bytes: int = Field(default=5 * 1024 * 1024, description="iCal body size limit.")
    ical_fetch_timeout_seconds: float = Field(
        default=60.0, description="Total time allowed for one feed fetch, redirects included."
    )

    # Channel Manager (see README "Channels"). Airbnb defaults point at the local sandbox.
    airbnb_api_base: str = Field(
        default="http://127.0.0.1:8100/airbnb", description="Airbnb API base (sandbox default)."
    )
    airbnb_client_id: str = "sandbox-airbnb-client"
    airbnb_client_secret: SecretStr = SecretStr(SANDBOX_AIRBNB_CLIENT_SECRET)
    airbnb_webhook_secret: SecretStr = Field(
        default=SecretStr(SANDBOX_AIRBNB_WEBHOOK_SECRET),
        description="Verifies X-Airbnb-Signature on inbound webhooks.",
    )
    airbnb_requests_per_second: float = Field(
        default=4.0, description="Token bucket per Airbnb account, shared by all workers."
    )
    airbnb_burst: int = 10
    # FeWo-direkt/Vrbo pulls the feeds we host and posts quote and booking requests to us.
    vrbo_api_base: str = Field(
        default="http://127.0.0.1:8100/vrbo",
        description="Vrbo's traveller calendar (sandbox), read back by reconciliation.",
    )
    # Google Vacation Rentals: ARI pushed to Hotel Center; guests land on our booking site.
    google_api_base: str = Field(
        default="http://127.0.0.1:8100/google",
        description="Google Hotel Center ARI upload base (sandbox default).",
    )
    google_partner_key: str = Field(
        default="pms_partner_key", description="Our Hotel Center partner key (RequestorID)."
    )
    google_requests_per_second: float = Field(
        default=8.0, description="Token bucket for Google's account-level update rate cap."
    )
    google_burst: int = 20
    # Booking.com: one machine account of ours (token exchange) for every connected hotel.
    booking_api_base: str = Field(
        default="http://127.0.0.1:8100/booking",
        description="Booking.com Connectivity API base (ARI, reservations; sandbox default).",
    )
    booking_auth_url: str = Field(
        default="http://127.0.0.1:8100/booking/token-based-authentication/exchange",
        description="Booking.com token exchange (JWT for the machine account).",
    )
    booking_client_id: str = "sandbox-client"
    booking_client_secret: SecretStr = SecretStr(SANDBOX_BOOKING_CLIENT_SECRET)
    booking_target: Literal["Test", "Production"] = "Test"
    booking_requests_per_second: float = Field(
        default=5.0, description="Token bucket per Booking.com hotel, shared by all workers."
    )
    booking_burst: int = 10
    booking_poll_seconds: float = Field(
        default=20.0, description="Reservations are pulled this often (Booking.com: 20 s)."
    )
    booking_ack_pause_seconds: float = Field(
        default=5.0, description="No pull sooner than this after an acknowledgement (5 s)."
    )
    expedia_api_base: str = Field(
        default="http://127.0.0.1:8100/expedia",
        description="Expedia QuickConnect base (…/eqc/ar, br, bc, parr; sandbox default).",
    )
    expedia_requests_per_second: float = Field(
        default=5.0, description="Token bucket per Expedia hotel, shared by all workers."
    )
    expedia_burst: int = 10
    expedia_poll_seconds: float = Field(
        default=600.0, description="Pending bookings are retrieved (BR) this often (EQC: ~10 min)."
    )
    channel_poll_tick_seconds: float = Field(
        default=5.0, description="Beat tick that starts the pulls that are due."
    )
    channel_webhook_tolerance_seconds: int = Field(
        default=300, description="Webhook timestamps older or newer than this are refused."
    )
    channel_debounce_seconds: float = Field(
        default=0.2, description="Changes to one listing within this window are pushed together."
    )
    channel_sync_days: int = Field(default=365, description="Nights kept in step per listing.")
    channel_max_attempts: int = Field(default=6, description="Tries per batch, then dead letter.")
    channel_retry_base_seconds: float = 0.5
    channel_retry_max_seconds: float = 30.0
    channel_http_timeout_seconds: float = 10.0
    channel_breaker_failures: int = Field(
        default=5, description="Failed calls in a row that open a connection's circuit."
    )
    channel_breaker_cooldown_seconds: float = 20.0
    channel_failing_alert_seconds: int = Field(
        default=600, description="A connection failing this long raises an alert."
    )

    @model_validator(mode="after")
    def _public_base_url_follows_the_api(self) -> Self:
        if not self.public_base_url:
            host = "127.0.0.1" if self.api_host in ("", "0.0.0.0", "::") else self.api_host
            if ":" in host:
                host = f"[{host}]"
            self.public_base_url = f"http://{host}:{self.api_port}"
        self.public_base_url = self.public_base_url.rstrip("/")
        return self

    @model_validator(mode="after")
    def _refuse_published_or_short_secrets(self) -> Self:
        if self.environment in LAX_ENVIRONMENTS:
            return self
        problems = [
            f"{name} {why}"
            for name, value in self._secrets()
            if (why := _weakness(value.get_secret_value()))
        ]
        if problems:
            raise InsecureSettings(
                f"refusing to start with ENVIRONMENT={self.environment}: "
                + "; ".join(problems)
                + f". Set each to a random value of at least {MIN_SECRET_LENGTH} characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        return self

    def _secrets(self) -> list[tuple[str, SecretStr]]:
        """Every secret that signs, verifies or decrypts something, by its variable's name."""
        found = [("SECRET_KEY", self.secret_key)]
        found += [("SECRET_KEY_PREVIOUS", SecretStr(k)) for k in self.secret_key_previous_list]
        for name, value in (
            ("SUPABASE_JWT_SECRET", self.supabase_jwt_secret),
            ("STRIPE_SECRET_KEY", self.stripe_secret_key),
            ("STRIPE_WEBHOOK_SECRET", self.stripe_webhook_secret),
            ("AIRBNB_CLIENT_SECRET", self.airbnb_client_secret),
            ("AIRBNB_WEBHOOK_SECRET", self.airbnb_webhook_secret),
            ("BOOKING_CLIENT_SECRET", self.booking_client_secret),
        ):
            if value is not None:
                found.append((name, value))
        return found

    @property
    def embedded_database_url(self) -> str:
        return (
            f"postgresql://postgres@127.0.0.1:{self.embedded_postgres_port}/"
            f"{self.embedded_database_name}"
        )

    @property
    def embedded_redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.embedded_redis_port}/0"

    @property
    def secret_key_previous_list(self) -> list[str]:
        raw = self.secret_key_previous.get_secret_value() if self.secret_key_previous else ""
        return [k.strip() for k in raw.split(",") if k.strip()]

    def require_database_url(self) -> str:
        """DATABASE_URL, or the embedded server's URL (started by ``pms dev``/``pms services``)."""
        return self.database_url or self.embedded_database_url

    def require_redis_url(self) -> str:
        return self.redis_url or self.embedded_redis_url


def _weakness(secret: str) -> str | None:
    if secret in PUBLISHED_SECRETS:
        return "is a published development default"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget cached settings (after the CLI exported embedded-service URLs, or in tests)."""
    get_settings.cache_clear()
