"""A quote's total from the sum of its nightly prices, without building its lines: what pricing
many properties at once (the guest search) needs.

The arithmetic is `quotes.quote`'s, step for step (discount on the subtotal, fees on the
discounted accommodation, exclusive VAT once per class on the sum of that class's lines, visitor
tax), with the same rounding (`money.round_half_up`) done on exact integer fractions, and
`tests/unit/test_quote_totals.py` checks it against `quotes.quote` on random pricings.
Only the sum of the nights matters to the total: every night line carries the accommodation tax
class, so the VAT base of that class is the same whether the nights are one line or many."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

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


def _fraction(percent: Decimal) -> tuple[int, int]:
    """`percent` % as an exact fraction n/d of 1."""
    n, d = percent.as_integer_ratio()
    return n, 100 * d


def _rounded(p: int, q: int) -> int:
    """p/q (q > 0) to a whole number, halves away from zero: `money.round_half_up` of the exact
    quotient, in integers (a quotient of these sizes is never within Decimal's 60 digits of a
    half without being one)."""
    if p >= 0:
        return (2 * p + q) // (2 * q)
    return -((-2 * p + q) // (2 * q))


def _fixed_fee(fee: Fee, nights: int, guests: Guests) -> int:
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


def pricer(tariff: Tariff, nights: int, guests: Guests) -> Callable[[int], int]:
    """`total_minor` for one tariff, stay length and party, as a function of the nightly sum:
    everything that does not depend on the sum is worked out once."""
    discount = best_los_discount(tariff.los_discounts, nights)
    off = _fraction(discount.percent) if discount is not None and discount.percent else None
    accommodation_class = tariff.accommodation_tax_class
    fixed = 0
    fixed_bases: dict[str, int] = {}
    percent_fees: list[tuple[int, int, str | None]] = []
    for fee in tariff.fees:
        if fee.kind is FeeKind.PERCENT_OF_ACCOMMODATION:
            assert fee.percent is not None  # checked in Fee.__post_init__
            percent_fees.append((*_fraction(fee.percent), fee.tax_class))
            continue
        amount = _fixed_fee(fee, nights, guests)
        fixed += amount
        if fee.tax_class is not None and amount:
            fixed_bases[fee.tax_class] = fixed_bases.get(fee.tax_class, 0) + amount
    vat = {
        code: _fraction(t.rate_percent)
        for code, t in tariff.tax_classes.items()
        if not t.inclusive and t.rate_percent
    }
    tax = tariff.visitor_tax
    visitor = 0
    if tax is not None:
        limit = tax.child_age_limit
        taxable = guests.adults + sum(1 for age in guests.children_ages if age >= limit)
        taxed_nights = nights if tax.max_nights is None else min(nights, tax.max_nights)
        visitor = tax.amount_minor * taxable * taxed_nights

    def total(subtotal: int) -> int:
        accommodation = subtotal
        if off is not None:
            accommodation = subtotal - _rounded(subtotal * off[0], off[1])
        result = accommodation + fixed + visitor
        bases = dict(fixed_bases)
        if accommodation_class is not None:
            bases[accommodation_class] = bases.get(accommodation_class, 0) + accommodation
        for n, d, code in percent_fees:
            amount = _rounded(accommodation * n, d)
            result += amount
            if code is not None:
                bases[code] = bases.get(code, 0) + amount
        for code, base in bases.items():
            rate = vat.get(code)
            if rate is not None:
                result += _rounded(base * rate[0], rate[1])
        return result

    return total


def total_minor(tariff: Tariff, subtotal: int, nights: int, guests: Guests) -> int:
    """`quotes.quote(...).total.amount_minor` for a stay whose nights sum to `subtotal`."""
    return pricer(tariff, nights, guests)(subtotal)
