"""The suite hashes passwords at argon2id's lowest cost (tests/conftest.py); production must
not. A process that imports the module fresh hashes with the library's recommended parameters
(RFC 9106's second recommendation: 64 MiB, 3 passes, 4 lanes)."""

from __future__ import annotations

import subprocess
import sys


def test_production_hashes_passwords_at_the_recommended_cost() -> None:
    code = (
        "import asyncio; from pms.core import passwords;"
        "print(asyncio.run(passwords.hash_password('correct horse battery')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), out
