"""The demo data prints an iCal export URL that works, and the same one on every start."""

from __future__ import annotations

import httpx

from pms import demo
from pms.settings import Settings


async def test_demo_prints_a_working_export_url_on_every_start(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = await demo._seed()
    again = await demo._seed()
    [line] = [x for x in first if "iCal export" in x]
    assert [x for x in again if "iCal export" in x] == [line]
    url = httpx.URL(line.rsplit(" ", 1)[-1])
    assert url.path.startswith("/ical/")
    r = await client.get(url.path)
    assert r.status_code == 200
    assert r.text.startswith("BEGIN:VCALENDAR")
