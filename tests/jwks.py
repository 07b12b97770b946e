"""A JWKS endpoint on loopback (Supabase's signing keys, as ``SUPABASE_JWKS_URL`` names them):
the test sets the keys it serves and reads how often it was asked."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt


@dataclass
class Jwks:
    url: str
    keys: list[dict[str, Any]]
    hits: list[str] = field(default_factory=list)
    body: dict[str, Any] | None = None  # served instead of {"keys": keys}


@contextmanager
def serve_jwks(keys: list[dict[str, Any]] | None = None) -> Iterator[Jwks]:
    served = Jwks("", list(keys or []))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.hits.append(self.path)
            body = json.dumps(served.body or {"keys": served.keys}).encode()
            self.send_response(200 if self.path.endswith("/jwks.json") else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_port}/auth/v1/.well-known/jwks.json"
    try:
        yield served
    finally:
        server.shutdown()


def public_jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    """The public half of ``key`` as a JWK, as Supabase publishes it."""
    algorithm = jwt.get_algorithm_by_name(alg)
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg=alg, use="sig")
    return jwk
