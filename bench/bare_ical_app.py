"""A bare FastAPI app with one calendar-shaped endpoint: the floor the iCal figures sit on."""

from __future__ import annotations

from fastapi import FastAPI, Response

_BODY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bare//EN\r\nEND:VCALENDAR\r\n"


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/bare.ics")
    async def bare() -> Response:
        return Response(_BODY, media_type="text/calendar")

    return app
