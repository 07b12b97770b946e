"""Parsing inbound XML with the standard library, refusing entity tricks (XXE, billion laughs)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

# Any DTD at all is refused: none of the simulated platforms documents one, and a DOCTYPE is the
# only way to declare the entities that XXE and entity-expansion attacks need.
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_BODY = 5 * 1024 * 1024


class MalformedXml(ValueError):
    """The body is not a well-formed, DTD-free XML document."""


def parse(body: bytes) -> ET.Element:
    if len(body) > MAX_BODY:
        raise MalformedXml("message too large")
    if _DTD.search(body):
        raise MalformedXml("DOCTYPE and ENTITY declarations are not allowed")
    try:
        return ET.fromstring(body)  # noqa: S314 - DTDs refused above
    except ET.ParseError as exc:
        raise MalformedXml(f"not well-formed XML: {exc}") from exc


def local(tag: str) -> str:
    """The tag name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def parse_date(value: str | None) -> date:
    """Strict ``YYYY-MM-DD`` (the only date form any of the platforms documents)."""
    if value is None or not _DATE.fullmatch(value):
        raise ValueError(f"not a YYYY-MM-DD date: {value!r}")
    return date.fromisoformat(value)


def to_bytes(root: ET.Element, trailer: str = "") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + ET.tostring(root, encoding="unicode").encode()
        + trailer.encode()
    )
