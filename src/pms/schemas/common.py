"""Shapes shared by every collection: one list envelope, one pagination convention."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Number of items matching the filters, over all pages.")
    limit: int
    offset: int


class PageParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    limit: int = 50
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
