"""Typing for documented error responses in route decorators."""

from __future__ import annotations

from typing import Any

Responses = dict[int | str, dict[str, Any]]
