"""A quote's total from the sum of its nightly prices, without building its lines: what pricing
many properties at once (the guest search) needs.

The arithmetic is `quotes.quote`'s, step for step (discount on the subtotal, fees on the
discounted accommodation, exclusive VAT once per class on the sum of that class's lines, visitor
tax), and `tests/unit/test_quote_totals.py` checks it against `quotes.quote` on random pricings.
Only the sum of the nights matters to the total: every night line carries the accommodation tax
class, so the VAT base of that class is the same whether the nights are one line or many."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pms.core.money import percent_of
from pms.core.quotes import (
    Fee,
    FeeKind,
    Guests,
    LosDiscount,
    PropertyPricing,
    TaxClass,
    VisitorTax,
    best_los_discount,
)


@dataclass(frozen=True, slots=True)
class Tariff:
    """The parts of a `quotes.PropertyPricing` a total depends on; many properties share one."""

    accommodation_tax_class: str | None
    tax_classes: Mapping[str, TaxClass]
    fees: Sequence[Fee]
    los_discounts: Sequence[LosDiscount]
    visitor_tax: VisitorTax | None

    @classmethod
    def of(cls, pricing: PropertyPricing) -> Tariff:
        return cls(
            accommodation_tax_class=pricing.accommodation_tax_class,
            tax_classes={t.code: t for t in pricing.tax_classes},
            fees=tuple(pricing.fees),
            los_discounts=tuple(pricing.los_discounts),
            visitor_tax=pricing.visitor_tax,
        )


def _fee_amount(fee: Fee, nights: int, guests: Guests, accommodation: int) -> int:
    if fee.kind is FeeKind.PERCENT_OF_ACCOMMODATION:
        assert fee.percent is not None  # checked in Fee.__post_init__
        return percent_of(accommodation, fee.percent)
    if fee.kind is FeeKind.PER_STAY:
        quantity = 1
    elif fee.kind is FeeKind.PER_NIGHT:
        quantity = nights
    elif fee.kind is FeeKind.PER_GUEST_PER_NIGHT:
        quantity = guests.count * nights
    elif fee.kind is FeeKind.PER_EXTRA_GUEST_PER_NIGHT:
        quantity = max(0, guests.count - fee.guests_included) * nights
    else:
        quantity = guests.pets
    return fee.amount_minor * quantity


def total_minor(tariff: Tariff, subtotal: int, nights: int, guests: Guests) -> int:
    """`quotes.quote(...).total.amount_minor` for a stay whose nights sum to `subtotal`."""
    bases: dict[str, int] = {}
    accommodation_class = tariff.accommodation_tax_class
    accommodation = subtotal
    discount = best_los_discount(tariff.los_discounts, nights)
    if discount is not None and discount.percent:
        accommodation = subtotal - percent_of(subtotal, discount.percent)
    total = accommodation
    if accommodation_class is not None:
        bases[accommodation_class] = accommodation
    for fee in tariff.fees:
        amount = _fee_amount(fee, nights, guests, accommodation)
        total += amount
        if fee.tax_class is not None and amount:
            bases[fee.tax_class] = bases.get(fee.tax_class, 0) + amount
    for code, base in bases.items():
        tax_class = tariff.tax_classes[code]
        if base and not tax_class.inclusive:
            total += percent_of(base, tax_class.rate_percent)
    tax = tariff.visitor_tax
    if tax is not None:
        taxable = guests.adults + sum(
            1 for age in guests.children_ages if age >= tax.child_age_limit
        )
        taxed_nights = nights if tax.max_nights is None else min(nights, tax.max_nights)
        total += tax.amount_minor * taxable * taxed_nights
    return total
