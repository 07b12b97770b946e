"""``pms dev``: embedded services, migrations, demo data and every process, stopped cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pms.embedded.lock import DataDirLock
from pms.embedded.postgres import EmbeddedPostgres
from pms.embedded.process import port_in_use, spawn, stop
from pms.embedded.redis import EmbeddedRedis
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


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None


class Supervisor:
    """Runs the long-lived processes of ``pms dev`` and stops them in reverse order."""

    def __init__(self, log_dir: Path, echo: Callable[[str], None]) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        self.echo = echo
        self._stopping = threading.Event()

    def start(self, name: str, argv: list[str]) -> Child:
        child = Child(name, argv)
        child.proc = spawn(argv, log_path=self.log_dir / f"{name}.log", env=dict(os.environ))
        self.children.append(child)
        return child

    def wait(self) -> str | None:
        """Block until a signal arrives or a child exits; return the dead child's name if any."""
        while not self._stopping.is_set():
            for c in self.children:
                if c.proc is not None and c.proc.poll() is not None:
                    return c.name
            self._stopping.wait(0.5)
        return None

    def request_stop(self) -> None:
        self._stopping.set()

    def stop_all(self) -> None:
        for c in reversed(self.children):
            if c.proc is not None:
                stop(c.proc, signal.SIGTERM, timeout=20)
        self.children.clear()


def wait_ready(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


def run_dev(echo: Callable[[str], None], *, seed: bool = True) -> int:
    from pms import migrate

    settings = get_settings()
    for port, name in ((settings.api_port, "API_PORT"), (settings.sandbox_port, "SANDBOX_PORT")):
        _require_free_port(port, name)

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
        if seed:
            from pms.demo import seed_demo

            for line in seed_demo():
                echo(line)
        py = _python()
        sandbox_url = f"http://{s.api_host}:{s.sandbox_port}"
        # Payments go to the sandbox's fake Stripe unless real Stripe settings are given.
        for key, value in stripe_dev_environment(sandbox_url).items():
            os.environ.setdefault(key, value)
        reset_settings_cache()
        s = get_settings()
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
        if not wait_ready(f"{base}/health/ready", 60):
            echo(f"the system did not become ready; see the logs in {s.data_dir / 'logs'}")
            return 1
        if seed:
            from pms.demo import connect_demo_channels

            try:
                for line in connect_demo_channels(sandbox_url, base):
                    echo(line)
            except Exception as exc:  # noqa: BLE001 (the demo runs on without its channel)
                echo(f"demo Airbnb connection skipped: {type(exc).__name__}")
        echo("")
        echo("PMS-Webapp is running.")
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
        dead = supervisor.wait()
        if dead:
            echo(f"{dead} exited unexpectedly; stopping (see {s.data_dir / 'logs' / dead}.log)")
        echo("stopping...")
    echo("stopped.")
    return 1 if dead else 0
