"""Shared benchmark machinery: services, a fresh migrated database, uvicorn servers in
subprocesses served the way ``pms api`` serves the app, and a lean keep-alive HTTP load generator.

The load generator speaks HTTP/1.1 over raw asyncio streams instead of going through httpx: on a
2-core machine the client shares the cores with the servers, and a heavy client would flatten the
difference between a cheap and an expensive endpoint.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from pms import migrate
from pms.embedded.postgres import EmbeddedPostgres
from pms.embedded.process import free_port, spawn, stop
from pms.embedded.redis import EmbeddedRedis

REPO = Path(__file__).resolve().parents[1]
BENCH_DATA = REPO / ".data" / "bench"


def say(line: str = "") -> None:
    print(line, flush=True)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def plain(url: str) -> str:
    """The URL asyncpg accepts (``postgresql://``), whatever dialect prefix it came with."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --------------------------------------------------------------------------- services


@dataclass
class Services:
    database_url: str  # the fresh, migrated bench database (as the owner)
    server_url: str  # same server, database "postgres"
    redis_url: str
    notes: list[str] = field(default_factory=list)
    postgres_pid: int | None = None  # the embedded postmaster (None for an external server)


async def _create_db(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(plain(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_db(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(plain(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextmanager
def services(keep_db: bool = False) -> Iterator[Services]:
    """Embedded PostgreSQL/Redis under .data/bench (free ports, non-durable) unless
    DATABASE_URL/REDIS_URL are set; a fresh database migrated to head, dropped afterwards."""
    notes: list[str] = []
    with ExitStack() as stack:
        external_db = os.environ.get("DATABASE_URL")
        postgres_pid: int | None = None
        if external_db:
            server_url = with_database(external_db, "postgres")
            notes.append("PostgreSQL: external (DATABASE_URL)")
        else:
            pg = EmbeddedPostgres(BENCH_DATA, free_port(), durable=False)
            pg.start()
            postgres_pid = pg.pid
            stack.callback(pg.stop)
            server_url = pg.url
            notes.append(
                f"PostgreSQL: embedded on port {pg.port}, durable=False "
                "(fsync, synchronous_commit and full_page_writes off)"
            )
        external_redis = os.environ.get("REDIS_URL")
        if external_redis:
            redis_url = external_redis
            notes.append("Redis: external (REDIS_URL)")
        else:
            rd = EmbeddedRedis(BENCH_DATA, free_port(), durable=False)
            rd.start()
            stack.callback(rd.stop)
            redis_url = rd.url
            notes.append(f"Redis: embedded on port {rd.port}, no persistence")
        name = f"pms_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_create_db(server_url, name))
        if not keep_db:
            stack.callback(lambda: asyncio.run(_drop_db(server_url, name)))
        database_url = with_database(server_url, name)
        migrate.upgrade(database_url)
        notes.append(f"database: {name} (fresh, migrated to head)")
        yield Services(database_url, server_url, redis_url, notes, postgres_pid)


def server_env(svc: Services) -> dict[str, str]:
    """The environment every bench serves the app (and its reference) with: these services,
    quiet logs, long-lived tokens, and no per-address limits (the load generator is one address,
    and the set-up signs up many agencies)."""
    env = {
        **os.environ,
        "DATABASE_URL": svc.database_url,
        "REDIS_URL": svc.redis_url,
        "ACCESS_TOKEN_TTL_SECONDS": "86400",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "PUBLIC_REQUESTS_PER_MINUTE_PER_IP": "100000000",
        "PUBLIC_REQUESTS_PER_MINUTE_PER_AGENCY": "100000000",
        "SIGNUP_ATTEMPTS_PER_IP": "100000",
    }
    env.pop("DATABASE_ADMIN_URL", None)
    return env


# --------------------------------------------------------------------------- CPU accounting

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, user + system CPU seconds, those of its children that have exited and been
    waited for) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    own = (int(fields[11]) + int(fields[12])) / _TICK
    reaped = (int(fields[13]) + int(fields[14])) / _TICK
    return int(fields[1]), own, reaped


def process_cpu(pid: int) -> float:
    st = _stat(pid)
    return st[1] if st else 0.0


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its children (a postmaster and its backends): the live ones,
    and those that exited, which the kernel adds to the parent's count once it has waited for
    them. (Counting only the live ones, a backend or autovacuum worker that exited during a
    measured window took its whole past CPU out of the sum.)"""
    st = _stat(root)
    total = st[1] + st[2] if st else 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _stat(int(entry.name))
            if child and child[0] == root:
                total += child[1]
    return total


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _wait_http(server: Server, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{server.name} exited (code {server.proc.returncode}):\n{tail}")
        try:
            if httpx.get(server.base + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{server.name} did not answer {path} within {timeout:.0f}s")


@contextmanager
def serve(
    name: str,
    argv: list[str],
    env: dict[str, str],
    port: int,
    ready_path: str,
    cwd: Path = REPO,
) -> Iterator[Server]:
    log_path = BENCH_DATA / "logs" / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_bytes(b"")
    proc = spawn(argv, log_path=log_path, env=env, cwd=cwd)
    server = Server(name, port, proc, log_path)
    try:
        _wait_http(server, ready_path)
        yield server
    finally:
        # uvicorn shuts down gracefully, then re-raises the signal: SIGINT becomes a
        # KeyboardInterrupt, so a cProfile wrapper still writes its file (SIGTERM would not).
        stop(proc, signal.SIGINT, timeout=30)


def python() -> str:
    return sys.executable


# --------------------------------------------------------------------------- HTTP client


class HttpError(RuntimeError):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; requests on it are sequential."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=1 << 22
            )
        return self._reader, self._writer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        """``head`` is the request line and headers without the final blank line."""
        reader, writer = await self._open()
        writer.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)
        status_line = await reader.readline()
        if not status_line:
            await self.close()
            raise HttpError("connection closed by the server")
        status = int(status_line.split(b" ", 2)[1])
        length = -1
        chunked = False
        close = False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.partition(b":")
            key = key.strip().lower()
            if key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif key == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            data = b"".join(parts)
        elif length >= 0:
            data = await reader.readexactly(length)
        else:
            data = await reader.read()
            close = True
        if close:
            await self.close()
        return status, data


def request_head(method: str, path: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n").encode()


# A request maker gets (client number, that client's request count) and returns (head, body).
RequestMaker = Callable[[int, int], tuple[bytes, bytes]]


@dataclass
class LoadResult:
    name: str
    seconds: float
    latencies: list[float]  # seconds, requests started inside the measured window
    statuses: Counter[int]
    errors: int
    expected: int
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds used in the window

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50_ms(self) -> float:
        return self.pct(50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.pct(99) * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def unexpected(self) -> int:
        return self.errors + sum(n for s, n in self.statuses.items() if s != self.expected)

    def merged(self, other: LoadResult) -> LoadResult:
        """This line's figures and another slice's of the same line, as one measurement."""
        cpu = dict(self.cpu)
        for who, sec in other.cpu.items():
            cpu[who] = cpu.get(who, 0.0) + sec
        return LoadResult(
            self.name,
            self.seconds + other.seconds,
            self.latencies + other.latencies,
            self.statuses + other.statuses,
            self.errors + other.errors,
            self.expected,
            cpu,
        )

    def cpu_line(self) -> str:
        if not self.cpu or not self.count:
            return ""
        parts = [
            f"{who} {sec / self.count * 1000:.2f} ms/req ({sec / self.seconds:.2f} cores)"
            for who, sec in self.cpu.items()
        ]
        return f"{'':<18} CPU: " + ", ".join(parts)

    def line(self) -> str:
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"{self.name:<18} {self.rps:9.1f} req/s   p50 {self.p50_ms:8.2f} ms   "
            f"p99 {self.p99_ms:8.2f} ms   n={self.count}   status {{{codes}}}"
            + (f"   transport errors: {self.errors}" if self.errors else "")
        )


RAMP_GAP = 0.01  # seconds between the starts of two clients of `run_load`


async def run_load(
    name: str,
    port: int,
    make: RequestMaker,
    *,
    clients: int,
    warmup: float,
    seconds: float,
    expected: int,
    probe: Callable[[], dict[str, float]] | None = None,
) -> LoadResult:
    """``clients`` concurrent keep-alive connections, each sending its next request as soon as
    the previous answer is in. The first ``warmup`` seconds are not counted; then every request
    started within ``seconds`` is timed (those in flight at the end are awaited).

    The clients start one after another, ``RAMP_GAP`` seconds apart (all within the first
    half of the warm-up). Connections that all arrive in the same instant go to whichever
    worker process of the server wakes first, which accepts every pending one: measured with
    two workers, 42 of 50 connections went to one of them, and one slice gave all 50 to one,
    leaving the other idle and the figures a matter of chance. Arriving one by one, as real
    clients do, each connection goes to whichever worker is free to take it first."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    measure_from = t0 + warmup
    measure_to = measure_from + seconds
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0

    gap = min(RAMP_GAP, warmup / 2 / clients)

    async def client(c: int) -> None:
        nonlocal errors
        conn = Connection("127.0.0.1", port)
        k = 0
        await asyncio.sleep(max(0.0, t0 + c * gap - loop.time()))
        try:
            while True:
                start = loop.time()
                if start >= measure_to:
                    return
                head, body = make(c, k)
                k += 1
                try:
                    status, _ = await conn.request(head, body)
                except (OSError, HttpError, asyncio.IncompleteReadError, ValueError):
                    if start >= measure_from:
                        errors += 1
                    await conn.close()
                    continue
                if start >= measure_from:
                    latencies.append(loop.time() - start)
                    statuses[status] += 1
        finally:
            await conn.close()

    cpu: dict[str, float] = {}

    async def sample() -> None:
        if probe is None:
            return
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        before = probe()
        await asyncio.sleep(max(0.0, measure_to - loop.time()))
        after = probe()
        cpu.update({k: after[k] - before[k] for k in after})

    await asyncio.gather(sample(), *(client(c) for c in range(clients)))
    return LoadResult(name, seconds, latencies, statuses, errors, expected, cpu)
