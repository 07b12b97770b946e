"""When `pms dev --web` (and the web e2e test) reinstall and rebuild the web app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pms.embedded import web


def _touch(path: Path, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    os.utime(path, (mtime, mtime))


@pytest.fixture
def app(tmp_path: Path) -> Path:
    _touch(tmp_path / "package-lock.json", 100)
    _touch(tmp_path / "next.config.ts", 100)
    _touch(tmp_path / "src" / "app" / "page.tsx", 100)
    return tmp_path


def test_a_fresh_checkout_needs_install_and_build(app: Path) -> None:
    assert web.needs_install(app)
    assert web.needs_build(app)


def test_nothing_to_do_when_install_and_build_are_newer(app: Path) -> None:
    _touch(app / "node_modules" / ".package-lock.json", 200)
    _touch(app / ".next" / "BUILD_ID", 200)
    assert not web.needs_install(app)
    assert not web.needs_build(app)


def test_a_changed_source_rebuilds_and_a_changed_lockfile_reinstalls(app: Path) -> None:
    _touch(app / "node_modules" / ".package-lock.json", 200)
    _touch(app / ".next" / "BUILD_ID", 200)
    _touch(app / "src" / "calendar" / "Grid.tsx", 300)
    assert web.needs_build(app)
    assert not web.needs_install(app)
    _touch(app / "package-lock.json", 300)
    assert web.needs_install(app)


def test_start_runs_next_by_node_in_the_app_directory(app: Path) -> None:
    argv = web.start_argv("127.0.0.1", 3123, app)
    assert argv[1].endswith("node_modules/next/dist/bin/next")
    assert argv[2:] == ["start", str(app), "-H", "127.0.0.1", "-p", "3123"]


def test_without_node_the_web_app_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.shutil, "which", lambda _: None)
    with pytest.raises(web.WebUnavailable, match=r"Node\.js"):
        web.prepare()
