"""Guest and agency e-mails: rendering (Jinja2, text and HTML, en/de), queueing in the caller's
transaction, and sending queued rows over SMTP with retries.

Delivery guarantee: a row is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and stays locked
while the SMTP transaction runs; its status is set in the same database transaction right after
the server accepted the message. Two workers therefore never send the same row at once, and a
sent row is never sent again. The one gap is a crash (or lost database connection) after the SMTP
server accepted the message but before the commit: the row is still ``queued`` and is sent once
more on the next attempt. Every copy carries the same ``Message-ID`` (derived from the row id), so
mail clients and most MTAs show the duplicate as one message.
"""

from __future__ import annotations

import asyncio
import random
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal

import jinja2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pms.core import outbox
from pms.core.errors import Unprocessable
from pms.core.money import Money
from pms.direct.jobs import system_transaction
from pms.logs import get_logger
from pms.models.email import EmailStatus, OutboxEmail
from pms.settings import Settings, get_settings

log = get_logger(__name__)

TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"
SUPPORTED_LANGUAGES: Final = ("en", "de")
DEFAULT_LANGUAGE: Final = "en"


class EmailTemplate(StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    REQUEST_RECEIVED = "request_received"
    REQUEST_APPROVED = "request_approved"
    REQUEST_DECLINED = "request_declined"
    BOOKING_CANCELLED = "booking_cancelled"
    NEW_BOOKING = "new_booking"  # to the agency


@dataclass(frozen=True, slots=True)
class BookingEmailContext:
    """Everything a booking e-mail may show. Amounts stay ``Money`` until rendering, where they
    are formatted for the reader's language."""

    booking_reference: str
    property_name: str
    check_in: date
    check_out: date
    guest_name: str
    total: Money
    agency_name: str
    manage_url: str | None = None
    refund: Money | None = None
    guests: int | None = None


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    template: EmailTemplate
    language: str
    subject: str
    text: str
    html: str


def resolve_language(language: str | None) -> str:
    """``de-AT`` → ``de``; anything we have no templates for → English."""
    primary = (language or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


# --- formatting -------------------------------------------------------------------------------

_SYMBOLS: Final = {"EUR": "€", "USD": "$", "GBP": "£"}
_MONTHS: Final = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}
_WEEKDAYS: Final = {
    "en": "Mon Tue Wed Thu Fri Sat Sun",
    "de": "Mo. Di. Mi. Do. Fr. Sa. So.",
}


def format_money(money: Money, language: str) -> str:
    """``€1,234.50`` in English, ``1.234,50 €`` in German."""
    lang = resolve_language(language)
    value: Decimal = money.to_decimal()
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.{money.exponent}f}"  # 1,234.50
    if lang == "de":
        digits = digits.replace(",", "\0").replace(".", ",").replace("\0", ".")
    symbol = _SYMBOLS.get(money.currency)
    if lang == "de":
        return f"{sign}{digits} {symbol or money.currency}"
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {money.currency}"


def format_date(day: date, language: str) -> str:
    """``Sat, 12 June 2027`` / ``Sa., 12. Juni 2027``."""
    lang = resolve_language(language)
    weekday = _WEEKDAYS[lang].split()[day.weekday()]
    month = _MONTHS[lang].split()[day.month - 1]
    if lang == "de":
        return f"{weekday}, {day.day}. {month} {day.year}"
    return f"{weekday}, {day.day} {month} {day.year}"


# --- rendering --------------------------------------------------------------------------------

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,
)


# Compile every template now, at import: compiling on first use would stall the API's event loop.
for _name in _env.list_templates(extensions=("txt", "html")):
    _env.get_template(_name)


def _variables(context: BookingEmailContext, language: str) -> dict[str, Any]:
    return {
        "lang": language,
        "booking_reference": context.booking_reference,
        "property_name": context.property_name,
        "check_in": format_date(context.check_in, language),
        "check_out": format_date(context.check_out, language),
        "nights": (context.check_out - context.check_in).days,
        "guest_name": context.guest_name,
        "guests": context.guests,
        "agency_name": context.agency_name,
        "total": format_money(context.total, language),
        "refund": format_money(context.refund, language) if context.refund is not None else None,
        "has_refund": context.refund is not None and context.refund.amount_minor > 0,
        "manage_url": context.manage_url,
    }


def render_email(
    template: EmailTemplate, language: str | None, context: BookingEmailContext
) -> RenderedEmail:
    """Subject, plain text and HTML of one e-mail in the reader's language (English fallback)."""
    if template is EmailTemplate.BOOKING_CANCELLED and context.refund is None:
        raise ValueError("a cancellation e-mail states the refund: pass refund (zero if none)")
    lang = resolve_language(language)
    variables = _variables(context, lang)
    text_module = _env.get_template(f"{template.value}.{lang}.txt").make_module(variables)
    subject = " ".join(str(getattr(text_module, "subject", "")).split())
    if not subject:
        raise ValueError(f"template {template.value}.{lang}.txt sets no subject")
    html = _env.get_template(f"{template.value}.{lang}.html").render(variables, subject=subject)
    return RenderedEmail(
        template=template, language=lang, subject=subject, text=str(text_module), html=html
    )


# --- queueing ---------------------------------------------------------------------------------


def queue_email(
    session: AsyncSession,
    *,
    agency_id: uuid.UUID,
    to: str,
    rendered: RenderedEmail,
    booking_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Add an e-mail to the outbox in the caller's transaction: it exists if and only if the
    change that caused it commits. Also emits ``email.queued`` so the outbox relay can hand it to
    a worker at once; the beat sweep sends it anyway if that never happens."""
    address = parseaddr(to)[1]
    if "@" not in address or any(c in to for c in "\r\n"):
        raise Unprocessable("The recipient is not an e-mail address.")
    email_id = uuid.uuid4()
    session.add(
        OutboxEmail(
            id=email_id,
            agency_id=agency_id,
            booking_id=booking_id,
            to_address=to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            template=rendered.template.value,
            language=rendered.language,
            status=EmailStatus.QUEUED,
        )
    )
    outbox.emit(
        session,
        agency_id=agency_id,
        event_type="email.queued",
        aggregate_type="email",
        aggregate_id=email_id,
        payload={"email_id": str(email_id), "template": rendered.template.value},
    )
    return email_id


def queue_booking_email(
    session: AsyncSession,
    *,
    agency_id: uuid.UUID,
    to: str,
    template: EmailTemplate,
    language: str | None,
    context: BookingEmailContext,
    booking_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Render and queue in one call (what the booking flow uses)."""
    rendered = render_email(template, language, context)
    return queue_email(
        session, agency_id=agency_id, to=to, rendered=rendered, booking_id=booking_id
    )


# --- sending ----------------------------------------------------------------------------------

Transport = Callable[[EmailMessage, Settings], None]


def smtp_transport(message: EmailMessage, settings: Settings) -> None:
    """Blocking SMTP delivery (run in a worker thread, never on an event loop)."""
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)


def build_message(row: OutboxEmail, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "pms-webapp.invalid"
    msg["Message-ID"] = f"<{row.id}@{domain}>"
    msg["Content-Language"] = row.language
    msg.set_content(row.text)
    if row.html:
        msg.add_alternative(row.html, subtype="html")
    return msg


def retry_delay(attempts: int, settings: Settings) -> float:
    """Exponential backoff after ``attempts`` failed tries, capped, with ±20 % jitter so a batch
    that failed together does not retry together."""
    base = settings.email_retry_base_seconds * float(2 ** max(attempts - 1, 0))
    delay = min(base, settings.email_retry_max_seconds)
    return delay * random.uniform(0.8, 1.2)


def _describe(exc: BaseException) -> str:
    # The server's reply or the socket error, never our credentials (smtplib puts none in them).
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"SMTPRecipientsRefused: {codes}"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return f"{type(exc).__name__}: {exc.smtp_code} {reply}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def _permanent(exc: BaseException) -> bool:
    """A recipient the server refuses for good (5xx) will not be accepted by trying again."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in exc.recipients.values()
    )


@dataclass(frozen=True, slots=True)
class SendResult:
    status: Literal["sent", "retry", "failed", "skipped"]
    retry_in: float | None = None


async def send_queued_email(
    email_id: uuid.UUID,
    *,
    settings: Settings | None = None,
    transport: Transport = smtp_transport,
) -> SendResult:
    """Send one queued e-mail if it is due and nobody else is sending it right now."""
    s = settings or get_settings()
    async with system_transaction() as session:
        row = (
            await session.execute(
                select(OutboxEmail)
                .where(
                    OutboxEmail.id == email_id,
                    OutboxEmail.status == EmailStatus.QUEUED,
                    OutboxEmail.next_attempt_at <= func.now(),
                )
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if row is None:
            return SendResult("skipped")
        message = build_message(row, s)
        row.attempts += 1
        try:
            await asyncio.to_thread(transport, message, s)
        except (smtplib.SMTPException, OSError) as exc:
            row.last_error = _describe(exc)
            if _permanent(exc) or row.attempts >= s.email_max_attempts:
                row.status = EmailStatus.FAILED
                log.warning(
                    "email_failed",
                    email_id=str(email_id),
                    attempts=row.attempts,
                    error=row.last_error,
                )
                return SendResult("failed")
            delay = retry_delay(row.attempts, s)
            row.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
            log.info(
                "email_retry",
                email_id=str(email_id),
                attempts=row.attempts,
                retry_in=round(delay, 2),
                error=row.last_error,
            )
            return SendResult("retry", retry_in=delay)
        row.status = EmailStatus.SENT
        row.sent_at = datetime.now(UTC)
        row.last_error = None
        log.info("email_sent", email_id=str(email_id), template=row.template, attempts=row.attempts)
        return SendResult("sent")


async def due_email_ids(limit: int = 200) -> list[uuid.UUID]:
    """Queued e-mails whose next attempt is due (for the beat sweep), oldest first."""
    async with system_transaction() as session:
        rows = await session.execute(
            select(OutboxEmail.id)
            .where(
                OutboxEmail.status == EmailStatus.QUEUED, OutboxEmail.next_attempt_at <= func.now()
            )
            .order_by(OutboxEmail.next_attempt_at)
            .limit(limit)
        )
        return list(rows.scalars())
