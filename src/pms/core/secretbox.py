"""Encryption at rest for secrets we must read back (e.g. an imported feed's URL).

Keys are derived from ``SECRET_KEY``; ``SECRET_KEY_PREVIOUS`` (comma-separated) still decrypts
after a rotation, so rotating the key never loses a stored secret.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from pms.settings import Settings

_CONTEXT = b"pms-webapp/secretbox/v1:"


class UndecryptableSecret(Exception):
    """Stored ciphertext that no configured key opens (the key was rotated away)."""


def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(_CONTEXT + secret.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _box(settings: Settings) -> MultiFernet:
    keys = [settings.secret_key.get_secret_value(), *settings.secret_key_previous_list]
    return MultiFernet([_fernet(k) for k in keys])


def encrypt(settings: Settings, plaintext: str) -> str:
    return _box(settings).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(settings: Settings, ciphertext: str) -> str:
    try:
        return _box(settings).decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise UndecryptableSecret(
            "stored secret cannot be decrypted with the current keys"
        ) from None
