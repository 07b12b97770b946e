"""Exponential backoff with full jitter that honours the platform's ``Retry-After``."""

from __future__ import annotations

import random


def delay(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds before try ``attempt + 1`` (attempt counts from 1): a random share of
    ``base · 2^(attempt-1)`` capped at ``cap``, but never less than ``Retry-After``."""
    backoff = random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # jitter, not secrecy
    return max(backoff, retry_after or 0.0)
