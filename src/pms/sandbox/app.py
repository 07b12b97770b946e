"""The sandbox server: one ASGI app, a path prefix per simulated platform."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI(title="PMS-Webapp channel sandbox", redirect_slashes=False)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
