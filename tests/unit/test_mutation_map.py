"""`make mutation`'s map names modules and tests that exist (a rename would otherwise only show
as an error hours into a run)."""

from __future__ import annotations

import importlib

from tests.mutation.modules import DESELECTED, TESTS_BY_MODULE, source_file
from tests.services import REPO


def test_every_mapped_module_and_test_file_exists() -> None:
    for module, tests in TESTS_BY_MODULE.items():
        importlib.import_module(module)
        assert (REPO / source_file(module)).is_file(), module
        assert tests, f"{module} has no tests"
        for test in tests:
            # A file, or one test of it (``file.py::test_name``): both must exist.
            path, _, name = test.partition("::")
            assert (REPO / path).is_file(), f"{module}: {test}"
            assert not name or f"def {name}(" in (REPO / path).read_text(), f"{module}: {test}"


def test_every_deselected_test_is_in_a_mapped_file() -> None:
    mapped = {t.partition("::")[0] for tests in TESTS_BY_MODULE.values() for t in tests}
    for node in DESELECTED:
        path, _, name = node.partition("::")
        assert path in mapped, node
        assert f"def {name}(" in (REPO / path).read_text(), node
