"""The e-mail outbox: rows written with the change that causes them, sent by a real worker to
the SMTP sink, retried when SMTP fails, and never sent twice."""

from __future__ import annotations

import asyncio
import smtplib
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from structlog.testing import capture_logs

from pms.core.errors import Unprocessable
from pms.core.money import Money
from pms.db import transaction
from pms.direct.emails import (
    BookingEmailContext,
    EmailTemplate,
    queue_booking_email,
    send_queued_email,
)
from pms.direct.jobs import system_transaction
from pms.direct.smtp_sink import SmtpSink
from pms.embedded.process import free_port
from pms.models.email import EmailStatus, OutboxEmail
from pms.models.outbox import OutboxEvent
from pms.settings import Settings, get_settings, reset_settings_cache
from tests.integration.direct.conftest import BookedAgency, eventually
from tests.services import Worker, run_worker

GUEST = "greta@example.com"


def context(b: BookedAgency) -> BookingEmailContext:
    return BookingEmailContext(
        booking_reference=b.reference,
        property_name="Seaside Cottage",
        check_in=date(2031, 5, 1),
        check_out=date(2031, 5, 4),
        guest_name="Greta Gast",
        total=Money(45000, "EUR"),
        agency_name="Direct Infra Agency",
        manage_url="http://127.0.0.1:8000/b/token",
    )


async def queue(b: BookedAgency, language: str = "de") -> uuid.UUID:
    async with transaction(b.agency_id) as session:
        return queue_booking_email(
            session,
            agency_id=b.agency_id,
            to=GUEST,
            template=EmailTemplate.BOOKING_CONFIRMED,
            language=language,
            context=context(b),
            booking_id=b.booking_id,
        )


async def row(email_id: uuid.UUID) -> OutboxEmail:
    async with system_transaction() as session:
        return (
            await session.execute(select(OutboxEmail).where(OutboxEmail.id == email_id))
        ).scalar_one()


async def test_an_email_exists_only_if_its_transaction_commits(
    settings: Settings, booked: BookedAgency
) -> None:
    async def change_that_fails() -> None:
        async with transaction(booked.agency_id) as session:
            queue_booking_email(
                session,
                agency_id=booked.agency_id,
                to=GUEST,
                template=EmailTemplate.BOOKING_CONFIRMED,
                language="de",
                context=context(booked),
                booking_id=booked.booking_id,
            )
            raise RuntimeError("the booking change failed")

    with pytest.raises(RuntimeError, match="the booking change failed"):
        await change_that_fails()
    async with system_transaction() as session:
        assert (await session.execute(select(OutboxEmail))).scalars().all() == []
        assert (
            await session.execute(
                select(OutboxEvent).where(OutboxEvent.event_type == "email.queued")
            )
        ).scalars().all() == []

    email_id = await queue(booked)
    stored = await row(email_id)
    assert stored.status is EmailStatus.QUEUED
    assert stored.attempts == 0
    assert stored.language == "de"
    assert stored.template == "booking_confirmed"
    assert stored.subject.startswith(f"Ihre Buchung {booked.reference}")
    assert "450,00 €" in stored.text
    assert stored.html is not None
    assert "450,00 €" in stored.html
    async with system_transaction() as session:
        event = (
            await session.execute(
                select(OutboxEvent).where(OutboxEvent.event_type == "email.queued")
            )
        ).scalar_one()
    assert event.payload["email_id"] == str(email_id)
    assert event.agency_id == booked.agency_id


@pytest.mark.parametrize("to", ["not-an-address", "a@b.example\r\nBcc: x@y.example"])
async def test_a_recipient_that_is_not_an_address_is_refused(
    settings: Settings, booked: BookedAgency, to: str
) -> None:
    async def queue_to() -> None:
        async with transaction(booked.agency_id) as session:
            queue_booking_email(
                session,
                agency_id=booked.agency_id,
                to=to,
                template=EmailTemplate.REQUEST_RECEIVED,
                language="en",
                context=context(booked),
            )

    with pytest.raises(Unprocessable, match="not an e-mail address"):
        await queue_to()


async def test_another_agency_cannot_see_the_email(
    settings: Settings, booked: BookedAgency
) -> None:
    await queue(booked)
    async with transaction(uuid.uuid4()) as session:
        assert (await session.execute(select(OutboxEmail))).scalars().all() == []
    async with transaction(booked.agency_id) as session:
        assert len((await session.execute(select(OutboxEmail))).scalars().all()) == 1


# --- sending in-process: the claim and the failure rules ---------------------------------------


async def test_a_row_being_sent_is_skipped_by_a_second_sender_and_never_sent_again(
    settings: Settings, booked: BookedAgency
) -> None:
    email_id = await queue(booked)
    started, release = threading.Event(), threading.Event()
    sent: list[EmailMessage] = []

    def slow(message: EmailMessage, _: Settings) -> None:
        started.set()
        release.wait(10)
        sent.append(message)

    first = asyncio.create_task(send_queued_email(email_id, transport=slow))

    async def first_is_sending() -> bool:
        return started.is_set()

    await eventually(first_is_sending, what="the first sender to reach SMTP")
    # While the first holds the row, a second sender skips it instead of sending it too.
    assert (await send_queued_email(email_id, transport=slow)).status == "skipped"
    release.set()
    assert (await first).status == "sent"
    assert (await send_queued_email(email_id, transport=slow)).status == "skipped"
    assert len(sent) == 1
    assert sent[0]["Message-ID"] == f"<{email_id}@pms-webapp.dev>"
    stored = await row(email_id)
    assert stored.status is EmailStatus.SENT
    assert stored.attempts == 1
    assert stored.sent_at is not None


async def test_a_refused_recipient_fails_at_once_and_other_errors_until_the_attempt_limit(
    settings: Settings, booked: BookedAgency
) -> None:
    def refused(message: EmailMessage, _: Settings) -> None:
        raise smtplib.SMTPRecipientsRefused({GUEST: (550, b"5.1.1 no such user")})

    email_id = await queue(booked)
    assert (await send_queued_email(email_id, transport=refused)).status == "failed"
    stored = await row(email_id)
    assert stored.status is EmailStatus.FAILED
    assert stored.last_error == "SMTPRecipientsRefused: [550]"

    def down(message: EmailMessage, _: Settings) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    now = settings.model_copy(update={"email_retry_base_seconds": 0.0, "email_max_attempts": 3})
    email_id = await queue(booked)
    results = [(await send_queued_email(email_id, settings=now, transport=down)) for _ in range(3)]
    assert [r.status for r in results] == ["retry", "retry", "failed"]
    stored = await row(email_id)
    assert stored.status is EmailStatus.FAILED
    assert stored.attempts == 3
    assert "ConnectionRefusedError" in (stored.last_error or "")


async def test_a_retry_waits_for_its_backoff(settings: Settings, booked: BookedAgency) -> None:
    def down(message: EmailMessage, _: Settings) -> None:
        raise TimeoutError("timed out")

    email_id = await queue(booked)
    result = await send_queued_email(email_id, transport=down)
    assert result.status == "retry"
    assert result.retry_in is not None
    # Default backoff: 30 s ± 20 % before the second attempt.
    assert 24 <= result.retry_in <= 36
    sent: list[EmailMessage] = []

    def transport(message: EmailMessage, _: Settings) -> None:
        sent.append(message)

    assert (await send_queued_email(email_id, transport=transport)).status == "skipped"
    assert sent == []


# --- sending through a real worker ------------------------------------------------------------


@pytest.fixture
async def smtp_port(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> int:
    """Point this test's processes at a loopback SMTP port with fast retries."""
    port = free_port()
    for key, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "EMAIL_RETRY_BASE_SECONDS": "0.3",
        "EMAIL_RETRY_MAX_SECONDS": "1",
        "MAIL_FROM": "Direct Infra <bookings@agency.example>",
    }.items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    assert get_settings().smtp_port == port
    return port


@pytest.fixture
def mail_worker(smtp_port: int, settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    import os

    env = {k: v for k, v in os.environ.items() if k.startswith(("SMTP_", "EMAIL_", "MAIL_"))}
    env.update({k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT")})
    env["DATA_DIR"] = os.environ["DATA_DIR"]
    with run_worker(env, tmp_path, settings.require_redis_url()) as w:
        yield w


@pytest.fixture
def sink(smtp_port: int) -> Iterator[SmtpSink]:
    with SmtpSink("127.0.0.1", smtp_port) as s:
        yield s


@pytest.fixture
def tasks(smtp_port: int) -> ModuleType:
    """The task module, imported during set-up (importing Celery inside a test body would
    block its event loop), once the settings point at this test's Redis."""
    from pms.tasks import emails
    from pms.tasks.app import celery_app

    assert celery_app.conf.broker_url == get_settings().require_redis_url()
    return emails


async def _delay(tasks: ModuleType, task_name: str, *args: str) -> None:
    task = {"send": tasks.send_email, "sweep": tasks.sweep_emails}[task_name]
    await asyncio.to_thread(task.delay, *args)


async def _run(tasks: ModuleType, task_name: str, *args: str) -> object:
    task = {"send": tasks.send_email, "sweep": tasks.sweep_emails}[task_name]
    result = await asyncio.to_thread(task.delay, *args)
    return await asyncio.to_thread(result.get, 20)


async def _status_is(email_id: uuid.UUID, status: EmailStatus) -> OutboxEmail | None:
    stored = await row(email_id)
    return stored if stored.status is status else None


async def test_the_worker_sends_queued_emails_to_the_sink_once(
    booked: BookedAgency, sink: SmtpSink, mail_worker: Worker, tasks: ModuleType
) -> None:
    german = await queue(booked, "de")
    english = await queue(booked, "fr")  # no French templates: English
    assert await _run(tasks, "sweep") == 2
    for email_id in (german, english):
        await eventually(partial(_status_is, email_id, EmailStatus.SENT), what="sent")

    mails = sorted(sink.to(GUEST), key=lambda m: m.subject)
    assert [m.subject for m in mails] == [
        f"Ihre Buchung {booked.reference} für Seaside Cottage ist bestätigt",
        f"Your booking {booked.reference} at Seaside Cottage is confirmed",
    ]
    de, en = mails
    assert de.message["From"] == "Direct Infra <bookings@agency.example>"
    assert de.message_id == f"<{german}@agency.example>"
    assert de.text is not None
    assert "450,00 €" in de.text
    assert de.html is not None
    assert '<html lang="de">' in de.html
    assert en.text is not None
    assert "€450.00" in en.text

    # Sending again, by task or by sweep, finds nothing to do.
    assert await _run(tasks, "send", str(german)) == "skipped"
    assert await _run(tasks, "sweep") == 0
    assert len(sink.messages()) == 2


async def test_an_email_is_retried_until_the_smtp_server_is_up(
    booked: BookedAgency, smtp_port: int, mail_worker: Worker, tasks: ModuleType
) -> None:
    email_id = await queue(booked)
    await _delay(tasks, "send", str(email_id))

    async def failed_once() -> bool:
        stored = await row(email_id)
        return stored.attempts >= 1 and stored.last_error is not None

    await eventually(failed_once, what="a failed first attempt")
    assert (await row(email_id)).status is EmailStatus.QUEUED

    sink = SmtpSink("127.0.0.1", smtp_port)
    await asyncio.to_thread(sink.start)
    try:
        stored = await eventually(
            lambda: _status_is(email_id, EmailStatus.SENT), within=30, what="the retry to send"
        )
        assert stored.attempts >= 2
        assert stored.last_error is None
        assert len(sink.messages()) == 1
    finally:
        await asyncio.to_thread(sink.stop)


async def test_a_temporary_smtp_rejection_is_retried(
    booked: BookedAgency, sink: SmtpSink, mail_worker: Worker, tasks: ModuleType
) -> None:
    sink.reject_next(2, "451 4.3.0 Mailbox busy")
    email_id = await queue(booked)
    await _delay(tasks, "send", str(email_id))
    stored = await eventually(
        lambda: _status_is(email_id, EmailStatus.SENT), within=30, what="the third attempt"
    )
    assert stored.attempts == 3
    assert len(sink.messages()) == 1


async def test_smtp_login_works_and_a_refused_password_is_retried_without_being_logged(
    settings: Settings, booked: BookedAgency
) -> None:
    password = "s3cret-smtp-password-123"
    wrong = "wrong-smtp-password-456"
    sink = SmtpSink("127.0.0.1", free_port(), credentials=("pms", password))
    await asyncio.to_thread(sink.start)
    try:
        base = settings.model_copy(
            update={"smtp_port": sink.port, "smtp_username": "pms", "email_retry_base_seconds": 0.0}
        )
        email_id = await queue(booked)
        with capture_logs() as logs:
            refused = await send_queued_email(
                email_id, settings=base.model_copy(update={"smtp_password": SecretStr(wrong)})
            )
        assert refused.status == "retry"
        stored = await row(email_id)
        assert (stored.last_error or "").startswith("SMTPAuthenticationError: 535")
        assert wrong not in (stored.last_error or "")
        assert wrong not in repr(logs)
        assert sink.messages() == []

        accepted = await send_queued_email(
            email_id, settings=base.model_copy(update={"smtp_password": SecretStr(password)})
        )
        assert accepted.status == "sent"
        assert len(sink.messages()) == 1
    finally:
        await asyncio.to_thread(sink.stop)
