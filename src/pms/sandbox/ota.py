"""OpenTravel (OTA 2003/05) response building shared by the Booking.com and Google simulators."""

from __future__ import annotations

import base64
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from pms.sandbox import xmlsafe

OTA_NS = "http://www.opentravel.org/OTA/2003/05"


def q(name: str) -> str:
    """A qualified OTA tag for ``find``/``findall`` on parsed requests."""
    return f"{{{OTA_NS}}}{name}"


@dataclass(frozen=True)
class OtaError:
    """An OTA ``Error``: ``Type`` from the EWT list, ``Code`` from the ERR list."""

    type: int
    code: int
    short_text: str
    text: str = ""
    record_id: str | None = None


def root(name: str, now: datetime, **attrs: str) -> ET.Element:
    # The default namespace is written as a plain attribute so children stay unprefixed.
    return ET.Element(
        name,
        {"xmlns": OTA_NS, "TimeStamp": now.isoformat(timespec="seconds"), **attrs},
    )


def add_errors(parent: ET.Element, errors: list[OtaError]) -> None:
    container = ET.SubElement(parent, "Errors")
    for err in errors:
        attrs = {"Type": str(err.type), "Code": str(err.code)}
        if err.record_id is not None:
            attrs["RecordID"] = err.record_id
        attrs |= {"Status": "NotProcessed", "ShortText": err.short_text}
        el = ET.SubElement(container, "Error", attrs)
        el.text = err.text or None


def ruid_comment() -> str:
    """Booking.com ends every response with a support id in an XML comment."""
    return f"\n<!-- RUID: [{base64.b64encode(os.urandom(20)).decode()}] -->\n"


def render(element: ET.Element, ruid: bool) -> bytes:
    return xmlsafe.to_bytes(element, ruid_comment() if ruid else "")
