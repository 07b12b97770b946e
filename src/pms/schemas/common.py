"""Shapes shared by every collection: one list envelope, one pagination convention."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Number of items matching the filters, over all pages.")
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[Any], total: int, paging: PageParams) -> Self:
        """One page from model rows (read through the item schema's ``from_attributes``)."""
        return cls.model_validate(
            {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset},
            from_attributes=True,
        )


class PageParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    limit: int = 50
    offset: int = 0


async def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


def _reject_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, list):
        for item in value:
            _reject_nul(item)
    return value


class Input(BaseModel):
    """Base of every request body: unknown fields are refused, and so is text PostgreSQL cannot
    store (NUL characters), each with a per-field error."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
