"""``make mutation``: mutmut over the modules that hold the rules, one module at a time, each
mutant tested by the tests mapped to its module (tests/mutation/modules.py); then the score per
module and the surviving mutants.

Each module gets a work directory under .data/mutation/ (the sources, migrations and tests
linked in, and a pyproject.toml whose ``[tool.mutmut]`` names that module and its tests), so
mutmut's first pass, which runs every selected test once to learn which tests call which
function, runs only that module's tests. One embedded PostgreSQL and Redis serve every
mutant's pytest run (mutmut forks one per mutant), with one migrated template database, so a
mutant costs its tests and not a server start and a migration.

    python -m tests.mutation [MODULE ...] [--tests DIR] [--label NAME]
        [--keep | --survivors | --not-run | --mutants PATTERN ...]

``--tests`` tests another tests directory (e.g. an older one, for a before/after table);
``--label`` keeps its results apart; ``--keep`` resumes an interrupted run (mutmut keeps each
mutant's result but does not notice a changed test, so by default every run starts afresh);
``--survivors`` keeps the results and runs again only the mutants not caught (after new tests:
mutmut first learns which of the new tests call which function); ``--not-run`` keeps the
results and runs only the mutants an interrupted run did not reach (survivors are not run
again); ``--mutants`` keeps the results and runs only the mutants named (mutmut's names, ``*``
globs allowed, e.g. ``'pms.core.tokens.x_verify_access_token__mutmut_*'``), with
``--not-run`` too if given. A kept run of a changed source re-runs by itself the mutants of the
functions whose text changed (mutmut compares each function's hash and forgets their results),
and keeps the others' results."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pms import migrate
from pms.embedded.postgres import EmbeddedPostgres
from pms.embedded.process import free_port
from pms.embedded.redis import EmbeddedRedis
from tests.mutation.modules import DESELECTED, TESTS_BY_MODULE, source_file
from tests.services import REPO, with_database

DATA = REPO / ".data" / "mutation"
TEMPLATE = "pms_template_mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")
TARGET = 90.0

# mutmut's exit codes: 1 and 3 (a failing test, a pytest error) kill, and so does running out
# of time; 0 survived; 5 and 33 mean that no test runs the mutated code; 37 is mutmut's "caught
# by type check": mypy (strict, as in ``make test``) rejects the mutated function, so the
# project's checks catch it without running a test.
KILLED = {1, 3}
TIMED_OUT = {24, -24, 36, 152, 255}
UNTESTED = {5, 33}
REJECTED_BY_MYPY = 37
# mutmut runs this in the mutants directory, whose pyproject.toml is the project's: mypy strict
# over ``pms``, with the mutated module in it. mutmut's generated module-level lines carry
# ``# type: ignore`` comments that strict mypy would call unused (they are not the mutants').
# mutmut recognises mypy's JSON by the word "mypy" in the command.
TYPE_CHECK = [sys.executable, "-m", "mypy", "--output", "json", "--no-warn-unused-ignores"]


@dataclass
class Score:
    killed: int = 0
    rejected_by_mypy: int = 0
    # Ran out of mutmut's time: counted as caught (a mutant that hangs fails the tests' own
    # timeout too), but shown apart, and run again by --survivors: under load it can also be
    # the machine's slowness.
    timed_out: list[str] = field(default_factory=list)
    survived: list[str] = field(default_factory=list)
    untested: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    not_run: int = 0
    not_run_names: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        caught = self.killed + self.rejected_by_mypy + len(self.timed_out)
        return caught + len(self.survived) + len(self.untested) + len(self.other) + self.not_run

    @property
    def percent(self) -> float:
        caught = self.killed + self.rejected_by_mypy + len(self.timed_out)
        return 100.0 * caught / self.total if self.total else 0.0


def workdir(label: str, module: str) -> Path:
    return DATA / label / module


def prepare(work: Path, module: str, tests_dir: Path, keep: bool) -> None:
    """The work directory: links to the sources, and a pyproject.toml that is the project's
    with a ``[tool.mutmut]`` for this module and its tests."""
    work.mkdir(parents=True, exist_ok=True)
    for name, target in (
        ("src", REPO / "src"),
        ("migrations", REPO / "migrations"),
        ("alembic.ini", REPO / "alembic.ini"),
        ("tests", tests_dir),
    ):
        link = work / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target.resolve())
    tests = [
        t
        for t in TESTS_BY_MODULE[module]
        if (tests_dir / t.split("::")[0].removeprefix("tests/")).exists()
    ]
    config = {
        "source_paths": ["src"],
        "only_mutate": [source_file(module)],
        "also_copy": ["migrations", "alembic.ini"],
        "pytest_add_cli_args": [
            "-p",
            "no:cacheprovider",
            "--hypothesis-profile=mutation",
            *[f"--deselect={t}" for t in DESELECTED if t.split("::")[0] in tests],
        ],
        "pytest_add_cli_args_test_selection": tests,
        "use_git_change_detection": False,
        "type_check_command": TYPE_CHECK,
        # mutmut's time limit is (its estimate + this) * 15, and its estimate counts only the
        # tests' bodies, not their fixtures (a database, an app, sign-ups): a minute for those.
        "timeout_constant": 60.0,
    }
    lines = ["", "[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in config.items()]
    (work / "pyproject.toml").write_text(
        (REPO / "pyproject.toml").read_text() + "\n".join(lines) + "\n"
    )
    # mutmut keeps results, but does not notice a changed test: start afresh unless resuming.
    shutil.rmtree(work / "mutants" if not keep else work / "mutants" / "tests", ignore_errors=True)


def score(work: Path, module: str) -> Score:
    result = Score()
    meta = work / "mutants" / (source_file(module) + ".meta")
    if not meta.exists():
        return result
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    for name, code in sorted(codes.items()):
        if code in KILLED:
            result.killed += 1
        elif code in TIMED_OUT:
            result.timed_out.append(name)
        elif code == REJECTED_BY_MYPY:
            result.rejected_by_mypy += 1
        elif code == 0:
            result.survived.append(name)
        elif code in UNTESTED:
            result.untested.append(name)
        elif code is None:
            result.not_run += 1
            result.not_run_names.append(name)
        else:
            result.other.append(f"{name} (exit {code})")
    return result


def report(label: str, table: dict[str, Score]) -> bool:
    print(
        f"\n{'module':<32} {'killed by tests':>15} {'rejected by mypy':>16} {'timed out':>9}"
        f" {'survived':>8}"
        f" {'total':>6} {'score':>7} {'seconds':>8}"
    )
    for module, s in table.items():
        print(
            f"{module:<32} {s.killed:>15} {s.rejected_by_mypy:>16} {len(s.timed_out):>9}"
            f" {len(s.survived):>8}"
            f" {s.total:>6} {s.percent:>6.1f}% {s.seconds:>8.0f}"
        )
    for module, s in table.items():
        if s.not_run:
            print(f"\n--- {module}: {s.not_run} mutants not run (see mutmut's output above)")
        named = [(n, "survived") for n in s.survived] + [(n, "no test") for n in s.untested]
        named += [(n, "not run to the end") for n in s.other]
        for name, why in named:
            shown = subprocess.run(
                [str(MUTMUT), "show", name.split(" ")[0]],
                cwd=workdir(label, module),
                capture_output=True,
                text=True,
                check=False,
            )
            print(f"\n--- {why}: {name}\n{shown.stdout.strip()}")
    return all(s.percent >= TARGET for s in table.values())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation")
    parser.add_argument("modules", nargs="*", help="default: all of tests/mutation/modules.py")
    parser.add_argument("--tests", type=Path, default=REPO / "tests")
    parser.add_argument("--label", default="current")
    parser.add_argument(
        "--keep", action="store_true", help="resume: keep the results of an earlier run"
    )
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="keep the earlier run's results and run again only the mutants that were not "
        "caught or not run yet (after adding tests: mutmut learns which new tests call what "
        "first)",
    )
    parser.add_argument(
        "--not-run",
        action="store_true",
        help="keep the earlier run's results and run only the mutants it did not reach",
    )
    parser.add_argument(
        "--mutants",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="keep the earlier run's results and run only these mutants (mutmut's names, "
        "* globs allowed)",
    )
    args = parser.parse_args(argv)
    if sum(map(bool, (args.keep, args.survivors, args.not_run or args.mutants))) > 1:
        parser.error("--keep, --survivors and --not-run/--mutants go one at a time")
    modules: list[str] = args.modules or list(TESTS_BY_MODULE)
    unknown = [m for m in modules if m not in TESTS_BY_MODULE]
    if unknown:
        parser.error(f"not a listed module: {', '.join(unknown)} (see tests/mutation/modules.py)")
    DATA.mkdir(parents=True, exist_ok=True)
    # Stopped with SIGTERM: still stop the servers (the ``finally`` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Servers of this run only (another run, of another module, may be going on).
    servers = DATA / f"servers-{os.getpid()}"
    pg = EmbeddedPostgres(servers / "pg", free_port(), durable=False)
    redis = EmbeddedRedis(servers / "redis", free_port(), durable=False)
    table: dict[str, Score] = {}
    pg.start()
    try:
        redis.start()
        template_url = with_database(pg.url, TEMPLATE)
        migrate.ensure_database(template_url)
        migrate.upgrade(template_url)
        env = {
            **os.environ,
            "TEST_DATABASE_URL": pg.url,
            "TEST_REDIS_URL": redis.url,
            "TEST_TEMPLATE_DATABASE": TEMPLATE,
            # Mutated code runs through mutmut's trampolines, on a shared machine: the
            # loop-blocking check would fail tests for the tool's slowness, not the mutant's.
            "PMS_TEST_SLOW_CALLBACK_MS": "10000",
        }
        for module in modules:
            work = workdir(args.label, module)
            again: list[str] = list(args.mutants)
            selective = args.survivors or args.not_run or bool(args.mutants)
            if args.survivors or args.not_run:
                earlier = score(work, module)
                again += earlier.not_run_names  # an interrupted run: its remaining mutants
            if args.survivors:
                again += [*earlier.survived, *earlier.untested, *earlier.timed_out]
                again += [name.split(" ")[0] for name in earlier.other]
            prepare(work, module, args.tests.resolve(), args.keep or selective)
            print(f"\n=== {module}", flush=True)
            if selective and not again:
                print("nothing to run again")
                table[module] = score(work, module)
                continue
            started = time.monotonic()
            # One pytest at a time: every mutant's run shares the one Redis (tests flush it).
            subprocess.run(
                [str(MUTMUT), "run", "--max-children", "1", *again], cwd=work, env=env, check=False
            )
            table[module] = score(work, module)
            table[module].seconds = time.monotonic() - started
    finally:
        redis.stop()
        pg.stop()
        shutil.rmtree(servers, ignore_errors=True)
    return 0 if report(args.label, table) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
