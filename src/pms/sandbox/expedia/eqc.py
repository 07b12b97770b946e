"""EQC wire details: namespaces, documented limits, error and warning codes, response building."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

BASE = "http://www.expediaconnect.com/EQC"
AR_RQ = (f"{BASE}/AR/2011/06", f"{BASE}/AR/2007/02")  # 2007/02 is still accepted
AR_RS = f"{BASE}/AR/2007/02"
BR = f"{BASE}/BR/2014/01"
BC_RQ, BC_RS = f"{BASE}/BC/2007/09", f"{BASE}/BC/2007/08"
PARR = f"{BASE}/PAR/2013/07"

MAX_AR_BYTES = 100 * 1024
MAX_BR_BOOKINGS = 125
MAX_WARNINGS_PER_CODE = 20

# Codes: the 1000s (authentication), 2000s/3000s (parsing, business) and >= 4000 (retry) ranges
# are documented; the exact number for each case below is the simulator's choice unless noted.
AUTH_FAILED = 1001
NOT_AUTHORIZED_FOR_HOTEL = 1002
PARSE_ERROR = 2002
TOO_LARGE = 2010
MISSING_OR_INVALID = 3010
INVALID_DATES = 3015
UNKNOWN_HOTEL = 3202
ROOM_NOT_IN_HOTEL = 3203  # documented example: "The following RoomTypeIDs do not belong…"
RATE_NOT_IN_ROOM = 3204
CONCURRENT_CONNECTION = 4100
RATE_LIMITED = 4201
SYSTEM_ERROR = 4000
BC_UPDATE_REFUSED = 10081  # documented BC warning: "Update refused…"

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([^\"']+)[\"']")


@dataclass(frozen=True)
class EqcError:
    code: int
    text: str


class EqcRefused(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.error = EqcError(code, text)


def check_encoding(body: bytes) -> None:
    """Documented: the encoding must be written ``UTF-8`` (upper case)."""
    match = _DECLARATION.match(body)
    if match and match.group(1) != b"UTF-8":
        raise EqcRefused(
            PARSE_ERROR,
            f"encoding must be written UTF-8, not {match.group(1).decode(errors='replace')}",
        )


def rs(name: str, namespace: str) -> ET.Element:
    return ET.Element(name, {"xmlns": namespace})


def error_rs(name: str, namespace: str, error: EqcError) -> ET.Element:
    root = rs(name, namespace)
    ET.SubElement(root, "Error", {"code": str(error.code)}).text = error.text
    return root
