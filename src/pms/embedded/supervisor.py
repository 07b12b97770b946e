"""``pms dev``: embedded services, migrations, demo data and every process: a process that dies
is started again (with backoff), and everything stops cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from pms.embedded.lock import DataDirLock
from pms.embedded.postgres import EmbeddedPostgres
from pms.embedded.process import port_in_use, spawn, stop
from pms.embedded.redis import EmbeddedRedis
from pms.embedded.status import StatusBoard
from pms.embedded.web import prepare as prepare_web
from pms.embedded.web import start_argv as web_argv
from pms.sandbox.stripe_fake import dev_environment as stripe_dev_environment
from pms.settings import Settings, get_settings, reset_settings_cache


@dataclass
class Services:
    """Embedded PostgreSQL/Redis for whichever of DATABASE_URL/REDIS_URL is unset."""

    settings: Settings
    durable: bool = True
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    _lock: DataDirLock | None = None
    exported: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        s = self.settings
        need_pg = not s.database_url
        need_redis = not s.redis_url
        if need_pg or need_redis:
            self._lock = DataDirLock(s.data_dir)
            self._lock.acquire()
        try:
            if need_pg:
                _require_free_port(s.embedded_postgres_port, "EMBEDDED_POSTGRES_PORT")
                self.postgres = EmbeddedPostgres(s.data_dir, s.embedded_postgres_port, self.durable)
                self.postgres.start()
                self.exported["DATABASE_URL"] = s.embedded_database_url
            if need_redis:
                _require_free_port(s.embedded_redis_port, "EMBEDDED_REDIS_PORT")
                self.redis = EmbeddedRedis(s.data_dir, s.embedded_redis_port, self.durable)
                self.redis.start()
                self.exported["REDIS_URL"] = s.embedded_redis_url
        except BaseException:
            self.stop()
            raise
        os.environ.update(self.exported)
        reset_settings_cache()
        self.settings = get_settings()

    def stop(self) -> None:
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _require_free_port(port: int, setting: str) -> None:
    if port_in_use(port):
        raise PortBusy(f"port {port} on 127.0.0.1 is already in use; set {setting} to another port")


class PortBusy(RuntimeError):
    pass


def _python() -> str:
    return sys.executable


# A crashed process is started again after 1 s, then 2, 4 … at most 30 s while it keeps
# crashing; one that ran for a minute counts as recovered and starts the series again.
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
STABLE_SECONDS = 60.0


def backoff(streak: int) -> float:
    """Seconds before the restart after the ``streak``-th crash in a row."""
    return float(min(BACKOFF_FIRST_SECONDS * 2.0 ** max(streak - 1, 0), BACKOFF_MAX_SECONDS))


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    streak: int = 0  # crashes in a row, each soon after its start
    restart_at: float | None = None  # set while waiting out a backoff
    last_exit_code: int | None = None
    last_exit_at: str | None = None

    def status(self) -> dict[str, object]:
        return {
            "state": "restarting" if self.restart_at is not None else "running",
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "last_exit_at": self.last_exit_at,
        }


class Supervisor:
    """Runs the long-lived processes of ``pms dev``: restarts one that dies (with backoff,
    logged, published for ``/health/ready``) and stops them all, in reverse order, only when
    asked to (Ctrl-C, SIGTERM, SIGHUP)."""

    def __init__(
        self, log_dir: Path, echo: Callable[[str], None], board: StatusBoard | None = None
    ) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        self.echo = echo
        self.board = board
        self._stopping = threading.Event()

    def start(self, name: str, argv: list[str]) -> Child:
        child = Child(name, argv)
        self.children.append(child)
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        child.proc = spawn(
            child.argv, log_path=self.log_dir / f"{child.name}.log", env=dict(os.environ)
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        self._publish(child)

    def _publish(self, child: Child) -> None:
        if self.board is not None:
            self.board.publish(child.name, child.status())

    def watch(self, poll_seconds: float = 0.5) -> None:
        """Until a stop is requested: restart every child that exits, after its backoff."""
        while not self._stopping.is_set():
            self.check(time.monotonic())
            self._stopping.wait(poll_seconds)

    def check(self, now: float) -> None:
        for c in self.children:
            if c.restart_at is not None:
                if now >= c.restart_at and not self._stopping.is_set():
                    self._spawn(c)
                    self.echo(f"{_clock()} {c.name} started again (restart {c.restarts})")
                continue
            if c.proc is None or (code := c.proc.poll()) is None:
                continue
            c.streak = 1 if now - c.started_at >= STABLE_SECONDS else c.streak + 1
            c.restarts += 1
            c.last_exit_code = code
            c.last_exit_at = datetime.now(UTC).isoformat(timespec="seconds")
            delay = backoff(c.streak)
            c.restart_at = now + delay
            self._publish(c)
            self.echo(
                f"{_clock()} {c.name} exited with code {code}; restarting in {delay:g} s "
                f"(see {self.log_dir / c.name}.log)"
            )

    def request_stop(self) -> None:
        self._stopping.set()

    def stop_all(self) -> None:
        for c in reversed(self.children):
            if c.proc is not None:
                stop(c.proc, signal.SIGTERM, timeout=20)
        self.children.clear()
        if self.board is not None:
            self.board.clear()
            self.board.close()


def _clock() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def wait_ready(url: str, timeout: float, tick: Callable[[float], None] | None = None) -> bool:
    """Poll ``url`` until it answers 200; ``tick`` runs between polls (restarts meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick is not None:
            tick(time.monotonic())
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


def run_dev(
    echo: Callable[[str], None],
    *,
    seed: Callable[[], Iterable[str]] | None = None,
    after_ready: Callable[[str, str], Iterable[str]] | None = None,
    web: bool = False,
    web_note: str = "",
) -> int:
    """``seed`` loads demo data after the migrations; ``after_ready(sandbox_url, api_url)``
    runs once the API is ready (the demo's channel connections). ``web``: also the team's web
    app on WEB_PORT; ``web_note`` is printed beside its URL (the demo login)."""
    from pms import migrate

    settings = get_settings()
    ports = [(settings.api_port, "API_PORT"), (settings.sandbox_port, "SANDBOX_PORT")]
    if web:
        ports.append((settings.web_port, "WEB_PORT"))
    for port, name in ports:
        _require_free_port(port, name)
    if web:
        # Before any service starts: a failed install or build leaves nothing running.
        log = settings.data_dir / "logs" / "web-build.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        echo(f"web app: installing and building if needed (log: {log})")
        try:
            prepare_web(log=log)
        except subprocess.CalledProcessError:
            echo(f"the web app did not build; see {log}")
            return 1

    services = Services(settings)
    supervisor = Supervisor(settings.data_dir / "logs", echo)

    def on_signal(signum: int, _: object) -> None:
        supervisor.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    with ExitStack() as stack:
        services.start()
        stack.callback(services.stop)
        stack.callback(supervisor.stop_all)
        s = services.settings
        db_url = s.require_database_url()
        admin_url = s.database_admin_url or db_url
        migrate.ensure_database(admin_url)
        migrate.upgrade(admin_url)
        echo("migrations: up to date")
        if seed is not None:
            for line in seed():
                echo(line)
        py = _python()
        sandbox_url = f"http://{s.api_host}:{s.sandbox_port}"
        # Payments go to the sandbox's fake Stripe unless real Stripe settings are given.
        for key, value in stripe_dev_environment(sandbox_url).items():
            os.environ.setdefault(key, value)
        # E-mails link to the guests' booking site that this same web app serves.
        os.environ.setdefault("BOOKING_SITE_URL", f"http://{s.api_host}:{s.web_port}")
        reset_settings_cache()
        s = get_settings()
        supervisor.board = StatusBoard(s.require_redis_url())
        supervisor.board.clear()  # left over if a previous run was killed
        local_mail = s.smtp_host in ("127.0.0.1", "localhost")
        if local_mail:
            _require_free_port(s.smtp_port, "SMTP_PORT")
            supervisor.start("smtp-sink", [py, "-m", "pms", "smtp-sink"])
        supervisor.start("sandbox", [py, "-m", "pms", "sandbox"])
        supervisor.start("api", [py, "-m", "pms", "api"])
        supervisor.start("worker", [py, "-m", "pms", "worker"])
        supervisor.start("beat", [py, "-m", "pms", "beat"])
        supervisor.start("relay", [py, "-m", "pms", "relay"])
        base = f"http://{s.api_host}:{s.api_port}"
        web_url = f"http://{s.api_host}:{s.web_port}"
        if web:
            os.environ["API_URL"] = base
            os.environ.setdefault("NEXT_TELEMETRY_DISABLED", "1")
            supervisor.start("web", web_argv(s.api_host, s.web_port))
        if not wait_ready(f"{base}/health/ready", 60, supervisor.check):
            echo(f"the system did not become ready; see the logs in {s.data_dir / 'logs'}")
            return 1
        if after_ready is not None:
            try:
                for line in after_ready(sandbox_url, base):
                    echo(line)
            except Exception as exc:  # noqa: BLE001 (the demo runs on without its channel)
                echo(f"demo Airbnb connection skipped: {type(exc).__name__}")
        echo("")
        echo("PMS-Webapp is running.")
        if web:
            if not wait_ready(f"{web_url}/login", 60):
                echo(f"the web app did not answer; see {s.data_dir / 'logs' / 'web.log'}")
                return 1
            echo(f"  web app      {web_url}   {web_note}".rstrip())
            echo(f"  guest site   {web_url}/<agency slug>   (each agency's booking site)")
        echo(f"  API          {base}")
        echo(f"  API docs     {base}/docs")
        echo(f"  readiness    {base}/health/ready")
        echo(f"  metrics      {base}/metrics")
        echo(f"  sandbox      {sandbox_url}  (fake Stripe at {sandbox_url}/stripe)")
        if local_mail:
            mail_dir = s.smtp_sink_dir or s.data_dir / "mail"
            echo(f"  mail sink    smtp://{s.smtp_host}:{s.smtp_port} -> {mail_dir}")
        if services.postgres:
            echo(f"  PostgreSQL   {s.embedded_database_url}")
        if services.redis:
            echo(f"  Redis        {s.embedded_redis_url}")
        echo(f"  logs         {s.data_dir / 'logs'}")
        echo("Press Ctrl-C to stop.")
        supervisor.watch()
        echo("stopping...")
    echo("stopped.")
    return 0
