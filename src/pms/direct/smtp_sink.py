"""A local SMTP server for development and tests that delivers nothing: it keeps every message
in memory and, if given a directory, writes each one there as an ``.eml`` file.

``pms smtp-sink`` runs it on ``SMTP_HOST:SMTP_PORT`` (the address the worker sends to), writing
to ``SMTP_SINK_DIR`` (default ``<DATA_DIR>/mail``). Tests start one in-process and read
``messages()``; ``reject_next()`` makes it answer with a temporary failure to exercise retries.
"""

from __future__ import annotations

import email
import email.policy
import hmac
import os
import threading
import time
import uuid
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    received_at: float

    @cached_property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"] or "")

    def _part(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return None
        content = part.get_content()
        return content if isinstance(content, str) else None

    @cached_property
    def text(self) -> str | None:
        return self._part("plain")

    @cached_property
    def html(self) -> str | None:
        return self._part("html")

    def parse(self) -> ReceivedMail:
        """Parse now (on the sink's thread), so readers on an event loop need not."""
        _ = (self.message, self.text, self.html)
        return self


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        rejection = self.sink._take_rejection()
        if rejection is not None:
            return rejection
        raw = envelope.original_content or envelope.content
        self.sink._store(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(str(r) for r in envelope.rcpt_tos),
                raw=bytes(raw),
                received_at=time.time(),
            )
        )
        return "250 2.0.0 OK: stored by the PMS SMTP sink"


class SmtpSink:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8025,
        directory: Path | None = None,
        *,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        """``credentials``: require SMTP AUTH (PLAIN/LOGIN, without TLS: a local test server)."""
        self.host = host
        self.port = port
        self.directory = directory
        self._credentials = credentials
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._rejections: list[str] = []
        self._controller: Controller | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> SmtpSink:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        auth: dict[str, Any] = {}
        if self._credentials is not None:
            # Deliberate for a loopback test server; aiosmtpd warns on every connection otherwise.
            warnings.filterwarnings(
                "ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning
            )
            auth = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,
            }
        controller = Controller(_Handler(self), hostname=self.host, port=self.port, **auth)
        controller.start()  # its own thread and event loop; returns once it accepts connections
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- reading ---------------------------------------------------------------------------

    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[ReceivedMail]:
        wanted = address.lower()
        return [m for m in self.messages() if wanted in (r.lower() for r in m.rcpt_tos)]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def reject_next(self, count: int = 1, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next ``count`` messages with ``reply`` (a 4xx makes senders retry)."""
        with self._lock:
            self._rejections.extend([reply] * count)

    @staticmethod
    def read_directory(directory: Path) -> list[ReceivedMail]:
        """The messages a sink (maybe in another process) wrote to ``directory``, oldest first."""
        out = []
        for path in sorted(directory.glob("*.eml")):
            out.append(ReceivedMail("", (), path.read_bytes(), path.stat().st_mtime))
        return out

    # --- called on the server's thread -----------------------------------------------------

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self._credentials is not None
        user, password = self._credentials
        ok = (
            isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, user.encode())
            and hmac.compare_digest(auth_data.password, password.encode())
        )
        return AuthResult(success=ok, handled=False)

    def _take_rejection(self) -> str | None:
        with self._lock:
            return self._rejections.pop(0) if self._rejections else None

    def _store(self, mail: ReceivedMail) -> None:
        mail.parse()
        with self._lock:
            self._messages.append(mail)
            sequence = len(self._messages)
        if self.directory is not None:
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{sequence:06d}-{uuid.uuid4().hex[:8]}.eml"
            tmp = self.directory / f".{name}.tmp"
            tmp.write_bytes(mail.raw)
            os.replace(tmp, self.directory / name)
