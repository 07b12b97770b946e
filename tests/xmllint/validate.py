"""Run by the tool venv's Python (``.tools/xmllint``, which has lxml): reads
``[{"name", "xsds": [path, …], "xml"}, …]`` as JSON on stdin and validates each document
against its schemas in order. A message is OK when one of them accepts it (the platforms'
messages mix releases: Booking.com calls its endpoints "OTA 2003B" but documents fields that
came later); otherwise every schema's errors are printed. Exit status 1 when any message is
invalid. Kept to the standard library and lxml: it never imports the project."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

_schemas: dict[str, Any] = {}


def schema(path: str) -> Any:
    if path not in _schemas:
        _schemas[path] = etree.XMLSchema(etree.parse(path))
    return _schemas[path]


def label(path: str) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.name}"


def main() -> int:
    items: list[dict[str, Any]] = json.load(sys.stdin)
    bad = 0
    width = max(len(i["name"]) for i in items)
    for item in items:
        doc = etree.fromstring(item["xml"].encode())
        errors: dict[str, list[str]] = {}
        for path in item["xsds"]:
            s = schema(path)
            if s.validate(doc):
                notes = "; ".join(f"{len(e)} errors against {label(p)}" for p, e in errors.items())
                print(
                    f"OK    {item['name']:<{width}}  {label(path)}"
                    + (f"  ({notes})" if notes else "")
                )
                break
            errors[path] = [f"line {e.line}: {e.message}" for e in s.error_log]
        else:
            bad += 1
            print(f"FAIL  {item['name']}")
            for path, found in errors.items():
                print(f"      {label(path)}:")
                for line in dict.fromkeys(found):  # the same error on many elements: once
                    print(f"        {line}")
    print(f"{len(items) - bad} of {len(items)} message types valid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
