"""Quotes: a stay's price, line by line, computed from the daily ARI rows.

Order of computation (domain.md, "Quotes"):

1. one line per night at the row's price; their sum is the accommodation subtotal;
2. the best matching length-of-stay discount, a negative line on the subtotal;
3. fees; a percent fee is a percent of the accommodation *after* the discount, since that is
   what the guest pays for the accommodation;
4. VAT per tax class on the sum of the lines in that class (rounded once per class, not per
   line). Exclusive VAT is a line of its own; inclusive VAT is already inside the lines and is
   reported separately in `Quote.vat_included`, never added to the total;
5. visitor tax, its own line, without VAT.

The total is the sum of `Quote.lines`, exactly; `Quote` refuses to exist otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pms.core.ari import AriDay
from pms.core.cancellation import CancellationPolicy, RefundStep, refund_schedule
from pms.core.dates import Stay
from pms.core.money import Money, minor_unit_exponent, percent_of, vat_included_in
from pms.core.restrictions import BookingWindow, Reason, stay_restrictions
from pms.models.rates import FeeKind as FeeKind

# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class Guests:
    """Who stays. Children's ages are whole years on the check-in date (from birth dates by the
    calendar, never days // 365), which is what a visitor tax age limit is measured against."""

    adults: int
    children_ages: tuple[int, ...] = ()
    pets: int = 0

    def __post_init__(self) -> None:
        if self.adults < 1:
            raise ValueError("a stay needs at least one adult")
        if any(age < 0 for age in self.children_ages):
            raise ValueError("a child's age cannot be negative")
        if self.pets < 0:
            raise ValueError("pets cannot be negative")
        object.__setattr__(self, "children_ages", tuple(self.children_ages))

    @property
    def count(self) -> int:
        """People, children included; pets are not guests."""
        return self.adults + len(self.children_ages)


@dataclass(frozen=True, slots=True)
class TaxClass:
    """A VAT rate; `inclusive` means prices in this class already contain the VAT."""

    code: str
    rate_percent: Decimal
    inclusive: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.rate_percent <= 100:
            raise ValueError(f"VAT rate must be 0..100 %, got {self.rate_percent}")


@dataclass(frozen=True, slots=True)
class Fee:
    """A charge besides the nights: `amount_minor` for fixed kinds, `percent` for the percent."""

    code: str
    kind: FeeKind
    amount_minor: int = 0
    percent: Decimal | None = None
    tax_class: str | None = None  # None: not subject to VAT
    guests_included: int = 0  # only for PER_EXTRA_GUEST_PER_NIGHT
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind is FeeKind.PERCENT_OF_ACCOMMODATION:
            if self.percent is None or not 0 <= self.percent <= 100 or self.amount_minor:
                raise ValueError(f"fee {self.code}: a percent fee needs a percent 0..100 only")
        elif self.percent is not None or self.amount_minor < 0:
            raise ValueError(f"fee {self.code}: needs a non-negative amount and no percent")
        if self.guests_included < 0 or (
            self.guests_included and self.kind is not FeeKind.PER_EXTRA_GUEST_PER_NIGHT
        ):
            raise ValueError(f"fee {self.code}: guests_included is for extra-guest fees only")


@dataclass(frozen=True, slots=True)
class LosDiscount:
    """`percent` % off the accommodation for stays of at least `min_nights` nights."""

    min_nights: int
    percent: Decimal

    def __post_init__(self) -> None:
        if self.min_nights < 1 or not 0 <= self.percent <= 100:
            raise ValueError("a discount needs min_nights >= 1 and a percent 0..100")


@dataclass(frozen=True, slots=True)
class VisitorTax:
    """Visitor tax (Kurtaxe) of a location, per taxable person and night."""

    amount_minor: int
    child_age_limit: int  # children of this age and older pay
    max_nights: int | None = None  # nights beyond this are free
    label: str = "Visitor tax"

    def __post_init__(self) -> None:
        if self.amount_minor < 0 or self.child_age_limit < 0:
            raise ValueError("visitor tax amount and age limit cannot be negative")
        if self.max_nights is not None and self.max_nights < 0:
            raise ValueError("visitor tax max nights cannot be negative")


@dataclass(frozen=True, slots=True)
class PropertyPricing:
    """Everything besides the ARI rows that prices a stay at one property."""

    currency: str
    max_guests: int
    accommodation_tax_class: str | None = None
    tax_classes: Sequence[TaxClass] = ()
    fees: Sequence[Fee] = ()
    los_discounts: Sequence[LosDiscount] = ()
    visitor_tax: VisitorTax | None = None
    booking_window: BookingWindow = field(default_factory=BookingWindow)
    cancellation: CancellationPolicy | None = None
    _tax_classes_by_code: Mapping[str, TaxClass] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        minor_unit_exponent(self.currency)
        if self.max_guests < 1:
            raise ValueError("a property sleeps at least one guest")
        by_code = {tax_class.code: tax_class for tax_class in self.tax_classes}
        if len(by_code) != len(self.tax_classes):
            raise ValueError("two tax classes with the same code")
        used = [self.accommodation_tax_class, *(fee.tax_class for fee in self.fees)]
        unknown = {code for code in used if code is not None and code not in by_code}
        if unknown:
            raise ValueError(f"unknown tax classes: {sorted(unknown)}")
        for name in ("tax_classes", "fees", "los_discounts"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "_tax_classes_by_code", by_code)

    def tax_class(self, code: str) -> TaxClass:
        return self._tax_classes_by_code[code]


# ---------------------------------------------------------------------------------------------
# Output


class LineKind(StrEnum):
    NIGHT = "night"
    DISCOUNT = "discount"
    FEE = "fee"
    VAT = "vat"  # exclusive VAT only; inclusive VAT is in Quote.vat_included
    VISITOR_TAX = "visitor_tax"


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One signed amount the guest pays; a quote's total is the sum of its lines.

    `tax_class` is the VAT class the amount belongs to (None: no VAT); `quantity` counts units
    (nights, guest-nights, pets) and `percent` is the rate of a discount, percent fee or VAT line.
    """

    kind: LineKind
    code: str
    amount: Money
    tax_class: str | None = None
    day: date | None = None
    quantity: int = 1
    percent: Decimal | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class IncludedVat:
    """VAT already contained in the lines of an inclusive class. Informational: not a line,
    not added to the total (adding it would charge it twice)."""

    tax_class: str
    rate_percent: Decimal
    gross: Money
    amount: Money


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced stay. Invariant, checked on construction: `total == sum(lines)`, to the minor unit.

    `vat_included` lies outside that sum on purpose: it is a share of lines already counted.
    `cancellation` gives the refund of `total` by cancellation date; `reasons` is empty exactly
    when the stay is bookable. A quote that is not bookable is still priced, so a guest sees what
    the stay would cost once the restriction is lifted.
    """

    stay: Stay
    guests: Guests
    currency: str
    lines: tuple[QuoteLine, ...]
    total: Money
    vat_included: tuple[IncludedVat, ...] = ()
    cancellation: tuple[RefundStep, ...] = ()
    reasons: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        added = Money.total((line.amount for line in self.lines), self.currency)
        if added != self.total:
            raise ValueError(f"lines add up to {added}, not the total {self.total}")

    @property
    def bookable(self) -> bool:
        return not self.reasons

    def lines_of(self, kind: LineKind) -> tuple[QuoteLine, ...]:
        return tuple(line for line in self.lines if line.kind is kind)

    def sum_of(self, kind: LineKind) -> Money:
        return Money.total((line.amount for line in self.lines_of(kind)), self.currency)

    @property
    def accommodation(self) -> Money:
        """Nights after the length-of-stay discount."""
        return self.sum_of(LineKind.NIGHT) + self.sum_of(LineKind.DISCOUNT)


# ---------------------------------------------------------------------------------------------
# Computation


def best_los_discount(discounts: Iterable[LosDiscount], nights: int) -> LosDiscount | None:
    """The largest discount among those the stay qualifies for (longer rule wins a tie)."""
    matching = [d for d in discounts if d.min_nights <= nights]
    return max(matching, key=lambda d: (d.percent, d.min_nights), default=None)


def fee_line(fee: Fee, *, nights: int, guests: Guests, accommodation: Money) -> QuoteLine:
    currency = accommodation.currency
    if fee.kind is FeeKind.PERCENT_OF_ACCOMMODATION:
        assert fee.percent is not None  # checked in Fee.__post_init__
        return QuoteLine(
            LineKind.FEE,
            fee.code,
            accommodation.percent(fee.percent),
            tax_class=fee.tax_class,
            percent=fee.percent,
            label=fee.label,
        )
    quantity = {
        FeeKind.PER_STAY: 1,
        FeeKind.PER_NIGHT: nights,
        FeeKind.PER_GUEST_PER_NIGHT: guests.count * nights,
        FeeKind.PER_EXTRA_GUEST_PER_NIGHT: max(0, guests.count - fee.guests_included) * nights,
        FeeKind.PER_PET: guests.pets,
    }[fee.kind]
    return QuoteLine(
        LineKind.FEE,
        fee.code,
        Money(fee.amount_minor * quantity, currency),
        tax_class=fee.tax_class,
        quantity=quantity,
        label=fee.label,
    )


def visitor_tax_line(tax: VisitorTax, *, nights: int, guests: Guests, currency: str) -> QuoteLine:
    taxable = guests.adults + sum(1 for age in guests.children_ages if age >= tax.child_age_limit)
    taxed_nights = nights if tax.max_nights is None else min(nights, tax.max_nights)
    person_nights = taxable * taxed_nights
    return QuoteLine(
        LineKind.VISITOR_TAX,
        "visitor_tax",
        Money(tax.amount_minor * person_nights, currency),
        quantity=person_nights,
        label=tax.label,
    )


def _vat(
    pricing: PropertyPricing, lines: Sequence[QuoteLine]
) -> tuple[list[QuoteLine], list[IncludedVat]]:
    # Bases per class in order of first appearance, so accommodation VAT comes first.
    bases: dict[str, int] = {}
    for line in lines:
        if line.tax_class is not None:
            bases[line.tax_class] = bases.get(line.tax_class, 0) + line.amount.amount_minor
    added: list[QuoteLine] = []
    included: list[IncludedVat] = []
    for code, base in bases.items():
        tax_class = pricing.tax_class(code)
        if not base:
            continue
        if tax_class.inclusive:
            amount = vat_included_in(base, tax_class.rate_percent)
            included.append(
                IncludedVat(
                    code,
                    tax_class.rate_percent,
                    Money(base, pricing.currency),
                    Money(amount, pricing.currency),
                )
            )
        else:
            added.append(
                QuoteLine(
                    LineKind.VAT,
                    code,
                    Money(percent_of(base, tax_class.rate_percent), pricing.currency),
                    percent=tax_class.rate_percent,
                    label=tax_class.label,
                )
            )
    return added, included


def quote(
    pricing: PropertyPricing,
    rows: Iterable[AriDay],
    stay: Stay,
    guests: Guests,
    *,
    today: date,
) -> Quote:
    """Price `stay` for `guests` from the plan's daily rows and say whether it can be booked.

    `rows` should cover `restrictions.rows_read_by(stay)`: the nights and the check-out date (for
    closed to departure); rows of other dates are ignored. A night without a row (beyond the
    compiled horizon) is unavailable and has no line.
    """
    currency = pricing.currency
    by_day = {row.day: row for row in rows}
    nights = stay.nights

    lines: list[QuoteLine] = [
        QuoteLine(
            LineKind.NIGHT,
            "night",
            Money(row.price_minor, currency),
            tax_class=pricing.accommodation_tax_class,
            day=day,
        )
        for day in stay.dates()
        if (row := by_day.get(day)) is not None
    ]
    subtotal = Money.total((line.amount for line in lines), currency)

    discount = best_los_discount(pricing.los_discounts, nights)
    accommodation = subtotal
    if discount is not None and discount.percent:
        amount = -subtotal.percent(discount.percent)
        accommodation = subtotal + amount
        lines.append(
            QuoteLine(
                LineKind.DISCOUNT,
                "los_discount",
                amount,
                tax_class=pricing.accommodation_tax_class,
                percent=discount.percent,
                label=f"{discount.min_nights}+ nights",
            )
        )

    for fee in pricing.fees:
        line = fee_line(fee, nights=nights, guests=guests, accommodation=accommodation)
        if line.amount.amount_minor:
            lines.append(line)

    vat_lines, vat_included = _vat(pricing, lines)
    lines.extend(line for line in vat_lines if line.amount.amount_minor)

    if pricing.visitor_tax is not None:
        line = visitor_tax_line(
            pricing.visitor_tax, nights=nights, guests=guests, currency=currency
        )
        if line.amount.amount_minor:
            lines.append(line)

    total = Money.total((line.amount for line in lines), currency)
    reasons = stay_restrictions(
        by_day,
        stay,
        guests=guests.count,
        max_guests=pricing.max_guests,
        window=pricing.booking_window,
        today=today,
    )
    schedule = (
        refund_schedule(pricing.cancellation, total, stay.check_in)
        if pricing.cancellation is not None
        else ()
    )
    return Quote(
        stay=stay,
        guests=guests,
        currency=currency,
        lines=tuple(lines),
        total=total,
        vat_included=tuple(vat_included),
        cancellation=schedule,
        reasons=reasons,
    )
