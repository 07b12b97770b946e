"""Rates: rate plans, seasons and per-date overrides of a property, and the agency's fees, tax
classes, visitor-tax locations and cancellation policies with their assignment to properties.
One module per resource.

Every change to what compiles into ARI rows recomputes exactly the affected dates (through
``core.ari_store``) in the same transaction."""

from pms.core.rates import (
    assignment,
    config,
    days,
    fees,
    plans,
    policies,
    seasons,
    visitor_taxes,
    writes,
)

__all__ = [
    "assignment",
    "config",
    "days",
    "fees",
    "plans",
    "policies",
    "seasons",
    "visitor_taxes",
    "writes",
]
