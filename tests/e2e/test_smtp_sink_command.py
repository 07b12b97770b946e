"""``pms smtp-sink`` listens on SMTP_HOST:SMTP_PORT and writes what it receives as .eml files."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import sys
from email.message import EmailMessage
from pathlib import Path

from pms.direct.smtp_sink import SmtpSink
from pms.embedded.process import free_port, spawn, stop
from tests.services import REPO, wait_for


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_command_stores_received_mail_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    mail_dir = tmp_path / "mail"
    env = {**os.environ, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "LOG_JSON": "true"}
    proc = spawn(
        [sys.executable, "-m", "pms", "smtp-sink", "--dir", str(mail_dir)],
        log_path=tmp_path / "sink.log",
        env=env,
        cwd=REPO,
    )
    try:
        wait_for(lambda: proc.poll() is not None or _listening(port), 30, "the sink to listen")
        assert proc.poll() is None, (tmp_path / "sink.log").read_text()
        msg = EmailMessage()
        msg["From"] = "no-reply@pms.test"
        msg["To"] = "guest@example.com"
        msg["Subject"] = "Booking confirmed"
        msg.set_content("See you soon.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(msg)
        mails = wait_for(lambda: SmtpSink.read_directory(mail_dir), 10, "the .eml file")
        assert [m.subject for m in mails] == ["Booking confirmed"]
    finally:
        stop(proc, signal.SIGTERM, timeout=10)
    assert proc.returncode == 0
    assert f"smtp://127.0.0.1:{port}" in (tmp_path / "sink.log").read_text()
