"""An entity read as plain columns of a Core statement, then built as if the ORM had loaded it.

Loading entities through the ORM sets up its row processing anew on every execution (for each
entity, a getter per column). On a request that reads a few dozen columns in one statement
that set-up cost more than the statement's round trip. A `Plain` names the columns to select,
in the mapper's order, and builds the object from them the way the ORM's loader fills one:
the values go into the instance's dict, and the object is detached with its identity key, as
a loaded object is after its session closes. Relationships are not loaded (nor were they by
the statements this replaces); reading one lazy-loads through a session it is added to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, FromClause, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict

from pms.models.base import Base

E = TypeVar("E", bound=Base)


class Plain(Generic[E]):
    """The columns of ``entity`` (of ``source``, an alias of its table, when given) and the
    entity built from their values."""

    def __init__(self, entity: type[E], source: FromClause | None = None) -> None:
        mapper = inspect(entity)
        table = source if source is not None else mapper.local_table
        self.source: FromClause = table
        attrs = list(mapper.column_attrs)
        self._manager = mapper.class_manager
        self._keys = tuple(a.key for a in attrs)
        self._known = frozenset(self._keys)
        self.columns: tuple[ColumnElement[Any], ...] = tuple(
            table.c[a.columns[0].key] for a in attrs
        )

    def __len__(self) -> int:
        return len(self._keys)

    def build(self, values: Sequence[Any]) -> E:
        """The entity of ``values`` (the selected columns' values, in order), detached."""
        obj = self.new(dict(zip(self._keys, values, strict=True)))
        make_transient_to_detached(obj)
        return obj

    def new(self, values: dict[str, Any]) -> E:
        """A new (transient) entity with ``values`` for its column attributes, filled as the
        loader fills one rather than through the constructor's attribute events (a caller that
        writes it itself makes it detached with ``make_transient_to_detached``)."""
        if not values.keys() <= self._known:
            raise KeyError(f"not column attributes: {sorted(values.keys() - self._known)}")
        obj = cast(E, self._manager.new_instance())
        instance_dict(obj).update(values)
        return obj
