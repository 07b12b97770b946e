"""The XML lint developer check (``make lint-xml``; issue 15): builds the OpenTravel messages we
send with the adapters' own code and validates each against the OpenTravel XSDs in
``../shared/channel-fixtures/`` (``CHANNEL_FIXTURES`` overrides the folder).

Booking.com documents its OTA endpoints as "OTA 2003B" but uses fields that came later
(``LocatorID`` on ``AvailStatusMessage``, ``BookingLimit="0"``): its messages must be valid
against the 2003B flattened schema or, failing that, 2015B (both results are printed).
Google's messages (Version 3.0) against 2015B. Expedia's EQC
messages have no schema in the fixtures and are not checked.

The schema validator (lxml) lives in its own tool venv (``.tools/xmllint``), never in the
project's dependencies: this module only builds the messages, and ``validate.py`` runs in that
venv. Not part of ``make test``.

    .venv/bin/python -m tests.xmllint [--tool-python .tools/xmllint/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pms.channel.adapters import booking, google, ota
from pms.channel.adapters.base import NightValues, Run

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def fixtures() -> Path:
    given = os.environ.get("CHANNEL_FIXTURES")
    if given:
        return Path(given)
    # The worktree sits next to shared/ (…/wt-x or …/main → …/shared).
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "channel-fixtures").is_dir():
            return base / "shared" / "channel-fixtures"
    return REPO.parent / "shared" / "channel-fixtures"


def runs() -> list[Run]:
    """Every kind of value the adapters send: open and closed, a price, min and max stay (and
    a cleared maximum), closed and open to arrival and departure, a run of one night."""
    d = datetime.now(UTC).date() + timedelta(days=10)

    def run(offset: int, nights: int, **values: Any) -> Run:
        start = d + timedelta(days=offset)
        return Run(start, start + timedelta(days=nights), NightValues(**values))

    return [
        run(0, 3, available=True, price_minor=12050, min_stay=2, max_stay=14),
        run(3, 1, available=False, price_minor=9900, closed_to_arrival=True),
        run(4, 2, available=True, price_minor=10000, min_stay=3, closed_to_departure=True),
        run(6, 4, available=True, price_minor=15000, closed_to_arrival=False),
        run(10, 2, available=True, closed_to_departure=False, max_stay=7),
        run(12, 1, price_minor=1),
    ]


def messages(root: Path) -> list[dict[str, object]]:
    fs = root / "ota-2003B-flattened-xsd"
    v15 = root / "ota-2015B-xsd"
    hotel, room, rate = "1234567", "123456701", "9876543"
    r = runs()

    def item(name: str, xsd: Path, body: bytes) -> dict[str, object]:
        """Booking.com's against 2003B, then 2015B; Google's against 2015B."""
        xsds = [xsd] if xsd.parent == v15 else [xsd, v15 / xsd.name.removeprefix("FS_")]
        return {"name": name, "xsds": [str(x) for x in xsds], "xml": body.decode()}

    avail = ota.avail_notif(hotel, room, rate, r, target="Test")
    rates = ota.rate_amount_notif(hotel, room, rate, r, "EUR", target="Test")
    listing = "pms-listing-1"
    g_rates = google.rate_amounts("partner", listing, "EUR", r, "m-1")
    assert g_rates is not None
    out = [
        item(
            "Booking.com OTA_HotelAvailNotifRQ",
            fs / "FS_OTA_HotelAvailNotifRQ.xsd",
            ota.to_bytes(avail.request),
        ),
        item(
            "Booking.com OTA_HotelRateAmountNotifRQ",
            fs / "FS_OTA_HotelRateAmountNotifRQ.xsd",
            ota.to_bytes(rates.request),
        ),
        item(
            "Booking.com OTA_HotelResNotifRS (ack)",
            fs / "FS_OTA_HotelResNotifRS.xsd",
            ota.to_bytes(booking.acknowledgement("new", ["4711", "4712"])),
        ),
        item(
            "Booking.com OTA_HotelResModifyNotifRS (ack)",
            fs / "FS_OTA_HotelResModifyNotifRS.xsd",
            ota.to_bytes(booking.acknowledgement("modify", ["4711"])),
        ),
        item(
            "Google OTA_HotelRateAmountNotifRQ",
            v15 / "OTA_HotelRateAmountNotifRQ.xsd",
            g_rates,
        ),
        item(
            "Google OTA_HotelAvailNotifRQ",
            v15 / "OTA_HotelAvailNotifRQ.xsd",
            google.availability("partner", listing, r, "m-2"),
        ),
        item(
            "Google OTA_HotelInvCountNotifRQ",
            v15 / "OTA_HotelInvCountNotifRQ.xsd",
            google.inventory("partner", listing, r, "m-3"),
        ),
    ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.xmllint")
    parser.add_argument(
        "--tool-python", default=str(REPO / ".tools" / "xmllint" / "bin" / "python")
    )
    args = parser.parse_args()
    root = fixtures()
    if not root.is_dir():
        print(f"lint-xml: no schemas at {root} (set CHANNEL_FIXTURES)", file=sys.stderr)
        return 2
    print(f"Schemas: {root}")
    print("Expedia EQC (AR/BR): no EQC schema in the fixtures, not checked")
    done = subprocess.run(
        [args.tool_python, str(HERE / "validate.py")],
        input=json.dumps(messages(root)),
        text=True,
        check=False,
    )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
