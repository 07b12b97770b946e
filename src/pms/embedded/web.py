"""The team's web app (``web/``, Next.js): installed from its lockfile, built when its sources
changed, and started as a child process beside the API (``pms dev --web``, the e2e tests)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parents[3] / "web"
_SOURCES = ("src", "messages", "public")
_CONFIG = ("package-lock.json", "next.config.ts", "tsconfig.json")


class WebUnavailable(RuntimeError):
    pass


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise WebUnavailable("Node.js (node, npm) is not installed: the web app cannot be built")
    return found


def _newest(paths: Iterable[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_dir():
            newest = max([newest, *(f.stat().st_mtime for f in path.rglob("*") if f.is_file())])
        elif path.exists():
            newest = max(newest, path.stat().st_mtime)
    return newest


def needs_install(web: Path = WEB_DIR) -> bool:
    marker = web / "node_modules" / ".package-lock.json"
    return (
        not marker.exists() or marker.stat().st_mtime < (web / "package-lock.json").stat().st_mtime
    )


def needs_build(web: Path = WEB_DIR) -> bool:
    build_id = web / ".next" / "BUILD_ID"
    if not build_id.exists():
        return True
    sources = [web / name for name in (*_SOURCES, *_CONFIG)]
    return build_id.stat().st_mtime < _newest(sources)


def prepare(web: Path = WEB_DIR, *, log: Path | None = None, timeout: float = 600) -> None:
    """``npm ci`` when the lockfile changed, ``next build`` when a source did."""
    node()
    out = log.open("ab") if log else None
    try:
        if needs_install(web):
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=web,
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        if needs_build(web):
            subprocess.run(
                ["npm", "run", "build"],
                cwd=web,
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
    finally:
        if out:
            out.close()


def start_argv(host: str, port: int, web: Path = WEB_DIR) -> list[str]:
    """``next start`` run by node itself (not through npx), so stopping it by PID stops it."""
    next_bin = web / "node_modules" / "next" / "dist" / "bin" / "next"
    return [node(), str(next_bin), "start", str(web), "-H", host, "-p", str(port)]
