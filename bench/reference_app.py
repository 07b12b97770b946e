"""The reference the bench measures the app against: the same framework and server with nothing
of ours in the way. ``GET /bare`` answers a tiny JSON document; ``POST /insert`` runs one raw
single-row asyncpg INSERT (pool made at startup, sized like the app's: 10 + 10 overflow).

Served exactly like ``pms api`` serves the app (``uvicorn.run`` with the same arguments):
``python -m bench.reference_app --port N`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, status
from sqlalchemy.engine import make_url

from pms.logs import configure_logging
from pms.settings import get_settings

TABLE = "bench_reference_inserts"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "id bigserial PRIMARY KEY, payload text NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())"
)


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)  # as the app does
    url = (
        make_url(os.environ["DATABASE_URL"])
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    pool_holder: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            url,
            min_size=settings.db_pool_size,
            max_size=settings.db_pool_size + settings.db_max_overflow,
        )
        pool_holder["pool"] = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/bare")
    async def bare() -> dict[str, Any]:
        return {"status": "ok"}

    @app.post("/insert", status_code=status.HTTP_201_CREATED)
    async def insert(request: Request) -> dict[str, Any]:
        payload = (await request.body()).decode()
        row_id = await pool_holder["pool"].fetchval(
            f"INSERT INTO {TABLE} (payload) VALUES ($1) RETURNING id", payload
        )
        return {"id": row_id}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same arguments as ``pms api`` (src/pms/cli.py).
    uvicorn.run(
        "bench.reference_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )


if __name__ == "__main__":
    main()
