"""The ``pms`` command: dev, services, api, worker, beat, relay, sandbox, smtp-sink, migrate,
seed."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from pms.settings import InsecureSettings, Settings, get_settings, reset_settings_cache

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="PMS-Webapp command line.",
)
console = Console(highlight=False)


def _echo(line: str) -> None:
    console.print(line, markup=False, soft_wrap=True)


def _fail(message: str) -> None:
    console.print(f"error: {message}", style="bold red", markup=False)
    raise typer.Exit(2)


@app.command()
def dev(
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Skip the demo data.")] = False,
    web: Annotated[
        bool, typer.Option("--web", help="Also install, build and start the web app (WEB_PORT).")
    ] = False,
) -> None:
    """Everything at once: embedded services, migrations, demo data, API, worker, beat, relay,
    sandbox (and with --web the team's web app)."""
    from pms.embedded.lock import DataDirInUse
    from pms.embedded.supervisor import PortBusy, run_dev
    from pms.embedded.web import WebUnavailable

    try:
        from pms.demo import DEMO_EMAIL, DEMO_PASSWORD, connect_demo_channels, seed_demo

        note = "" if no_seed else f"(demo login: {DEMO_EMAIL} / {DEMO_PASSWORD})"
        code = run_dev(
            _echo,
            seed=None if no_seed else seed_demo,
            after_ready=None if no_seed else connect_demo_channels,
            web=web,
            web_note=note,
        )
    except (DataDirInUse, PortBusy, WebUnavailable) as exc:
        _fail(str(exc))
        return
    raise typer.Exit(code)


@app.command()
def services() -> None:
    """Only the embedded PostgreSQL and Redis (for unset DATABASE_URL/REDIS_URL), until Ctrl-C."""
    from pms import migrate
    from pms.embedded.lock import DataDirInUse
    from pms.embedded.supervisor import PortBusy, Services

    svc = Services(get_settings())
    try:
        svc.start()
    except (DataDirInUse, PortBusy) as exc:
        _fail(str(exc))
    try:
        if svc.postgres:
            migrate.ensure_database(svc.settings.require_database_url())
            _echo(f'PostgreSQL  {svc.settings.require_database_url()}   (psql "<url>")')
        if svc.redis:
            _echo(f"Redis       {svc.settings.require_redis_url()}   (redis-cli -u <url>)")
        if not (svc.postgres or svc.redis):
            _echo("DATABASE_URL and REDIS_URL are both set: nothing to start.")
            return
        _echo("Press Ctrl-C to stop.")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    finally:
        svc.stop()


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Bind address (API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (API_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """The HTTP API (uvicorn)."""
    import uvicorn

    # As if given as API_HOST/API_PORT: the default PUBLIC_BASE_URL (e-mail, self-service, iCal
    # and landing-page links) follows the address the API really listens on.
    if host:
        os.environ["API_HOST"] = host
    if port:
        os.environ["API_PORT"] = str(port)
    reset_settings_cache()
    s = get_settings()
    uvicorn.run(
        "pms.api.app:create_app",
        factory=True,
        host=s.api_host,
        port=s.api_port,
        workers=workers,
        **api_server_options(s),
    )


def api_server_options(s: Settings) -> dict[str, Any]:
    """uvicorn options of the API. Forwarded headers set the client address (per-IP limits) and
    scheme only when they come from a proxy in FORWARDED_ALLOW_IPS; without one, anybody could
    name any address."""
    trusted = s.forwarded_allow_ips.strip()
    return {
        "log_config": None,
        # `RequestContextMiddleware` writes the access line (with the request id and route);
        # uvicorn's own, disabled in `pms.logs`, would still be formatted for every request.
        "access_log": False,
        "server_header": False,
        "proxy_headers": bool(trusted),
        # Given explicitly: uvicorn would otherwise trust 127.0.0.1 by default.
        "forwarded_allow_ips": trusted or "",
    }


def _celery(args: list[str]) -> None:
    from pms.tasks.app import celery_app

    celery_app.start(argv=args)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    queues: Annotated[str, typer.Option(help="Comma-separated queues.")] = (
        "default,channel.airbnb.inbound,channel.airbnb,"
        "channel.booking_com.inbound,channel.booking_com,channel.expedia.inbound,channel.expedia,"
        "channel.fewo_direkt.inbound,channel.fewo_direkt,channel.google.inbound,channel.google"
    ),
    pool: Annotated[
        str, typer.Option(help="Celery's pool: prefork, or solo (one process, for profiling).")
    ] = "prefork",
) -> None:
    """A Celery worker."""
    _celery(
        [
            "worker",
            "--loglevel",
            get_settings().log_level,
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            "-Q",
            queues,
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command()
def beat() -> None:
    """The Celery beat scheduler (one per deployment)."""
    s = get_settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    _celery(["beat", "--loglevel", s.log_level, "-s", str(s.data_dir / "celerybeat-schedule")])


@app.command()
def relay() -> None:
    """The outbox relay: publishes committed events to Celery and the live stream."""
    from pms.tasks.relay import main

    main()


@app.command()
def sandbox(
    port: Annotated[int | None, typer.Option(help="Port (SANDBOX_PORT).")] = None,
) -> None:
    """The channel sandbox: simulators of the five platforms under one port."""
    import uvicorn

    s = get_settings()
    uvicorn.run(
        "pms.sandbox.app:create_app",
        factory=True,
        host=s.api_host,
        port=port or s.sandbox_port,
        log_config=None,
    )


@app.command("smtp-sink")
def smtp_sink(
    host: Annotated[str | None, typer.Option(help="Bind address (SMTP_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (SMTP_PORT).")] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to write .eml files (SMTP_SINK_DIR).")
    ] = None,
) -> None:
    """A local SMTP server that keeps every e-mail as a file instead of delivering it (dev)."""
    from pms.direct.smtp_sink import SmtpSink

    s = get_settings()
    target = directory or s.smtp_sink_dir or s.data_dir / "mail"
    sink = SmtpSink(host or s.smtp_host, port or s.smtp_port, target)
    try:
        sink.start()
    except OSError as exc:
        _fail(f"cannot listen on {sink.host}:{sink.port}: {exc.strerror or exc}")
    _echo(f"SMTP sink   smtp://{sink.host}:{sink.port}   e-mails in {target}")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        sink.stop()


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    down: Annotated[bool, typer.Option("--down", help="Downgrade to REVISION.")] = False,
) -> None:
    """Apply (or with --down, revert) database migrations."""
    from pms import migrate as m

    s = get_settings()
    url = s.database_admin_url or s.require_database_url()
    if down:
        m.downgrade(url, revision)
    else:
        m.ensure_database(url)
        m.upgrade(url, revision)
    _echo(f"migrated {'down' if down else 'up'} to {revision}")


@app.command()
def seed() -> None:
    """Load the demo data (idempotent)."""
    from pms.demo import seed_demo

    for line in seed_demo():
        _echo(line)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        get_settings()
    except InsecureSettings as exc:
        # A published or short secret outside development: name the variable, start nothing.
        console.print(f"error: {exc}", style="bold red", markup=False, soft_wrap=True)
        raise SystemExit(2) from None
    app(prog_name="pms")


if __name__ == "__main__":  # pragma: no cover
    main()
