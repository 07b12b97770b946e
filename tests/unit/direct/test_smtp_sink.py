"""The SMTP sink keeps what it receives, in memory and as .eml files, and can refuse on demand."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from pms.direct.smtp_sink import SmtpSink
from pms.embedded.process import free_port


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with SmtpSink("127.0.0.1", free_port(), tmp_path / "mail") as s:
        yield s


def send(sink: SmtpSink, to: str, subject: str) -> None:
    msg = EmailMessage()
    msg["From"] = "PMS <no-reply@pms.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Hallo Anna,\nIhre Buchung ist bestätigt.")
    msg.add_alternative("<p>Ihre Buchung ist <b>bestätigt</b>.</p>", subtype="html")
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        smtp.send_message(msg)


def test_messages_are_kept_in_memory_and_written_as_files(sink: SmtpSink) -> None:
    send(sink, "Anna@Example.com", "Bestätigt")
    send(sink, "bob@example.com", "Other")
    [mail] = sink.to("anna@example.com")
    assert mail.subject == "Bestätigt"
    assert mail.mail_from == "no-reply@pms.test"
    assert mail.text is not None
    assert "Ihre Buchung ist bestätigt." in mail.text
    assert mail.html is not None
    assert "<b>bestätigt</b>" in mail.html
    assert sink.directory is not None
    on_disk = SmtpSink.read_directory(sink.directory)
    assert [m.subject for m in on_disk] == ["Bestätigt", "Other"]
    sink.clear()
    assert sink.messages() == []


def test_reject_next_answers_with_the_given_reply_then_accepts(sink: SmtpSink) -> None:
    sink.reject_next(1, "451 4.3.0 Try again later")
    with pytest.raises(smtplib.SMTPDataError) as exc:
        send(sink, "anna@example.com", "First")
    assert exc.value.smtp_code == 451
    send(sink, "anna@example.com", "Second")
    assert [m.subject for m in sink.messages()] == ["Second"]
