"""Money as integer minor units of one ISO 4217 currency, and the single rounding rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from types import MappingProxyType
from typing import Final

# Minor-unit exponents (ISO 4217). Only currencies we can price in are listed: an unknown code is
# far more likely a typo than a currency we should silently treat as having two decimals.
# fmt: off
MINOR_UNITS: Final[Mapping[str, int]] = MappingProxyType({
    **dict.fromkeys(
        [
            "AED", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EGP", "EUR", "GBP",
            "HKD", "HUF", "ILS", "INR", "MAD", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RON",
            "RSD", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "USD", "ZAR",
        ],
        2,
    ),
    **dict.fromkeys(["CLP", "ISK", "JPY", "KRW", "PYG", "UGX", "VND", "XAF", "XOF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
})
# fmt: on

# Enough digits that no intermediate of a price calculation is ever rounded before the one
# deliberate rounding below (the default context keeps 28).
_PRECISION: Final = 60


class CurrencyError(ValueError):
    """An unknown currency code, or arithmetic across two currencies."""


def minor_unit_exponent(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise CurrencyError(f"unknown or unsupported currency {currency!r}") from None


def round_half_up(value: Decimal) -> int:
    """Round an exact amount of minor units to a whole one, halves away from zero.

    This is the only rounding in pricing: every percentage, discount, VAT and refund goes through
    it. (`int()` truncates, which once turned a 12 % refund of 99.99 into 11.99 instead of 12.00.)
    """
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _exact(value: Decimal | int) -> Decimal:
    # Floats are refused: 10.5 is fine, but 0.1 + 0.2 is how cents go missing.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"expected Decimal or int, got {type(value).__name__}")
    return Decimal(value)


def percent_of(amount_minor: int, percent: Decimal | int) -> int:
    """`percent` % of an amount, in minor units (also: exclusive VAT on a net amount)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_half_up(Decimal(amount_minor) * _exact(percent) / 100)


def vat_included_in(gross_minor: int, rate_percent: Decimal | int) -> int:
    """The VAT contained in a VAT-inclusive amount: gross * rate / (100 + rate)."""
    rate = _exact(rate_percent)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_half_up(Decimal(gross_minor) * rate / (100 + rate))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents, yen, fils) of one currency.

    Only amounts of the same currency add up; there is no conversion anywhere in the system.
    """

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError("amount_minor must be an int")
        minor_unit_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def of(cls, major: str | Decimal | int, currency: str) -> Money:
        """Parse a major-unit amount ("318.50" EUR) that must be exact in that currency."""
        scaled = Decimal(major).scaleb(minor_unit_exponent(currency))
        if scaled != scaled.to_integral_value():
            raise CurrencyError(f"{major} has more decimals than {currency} allows")
        return cls(int(scaled), currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        # The same as adding them one by one to zero (currencies checked the same way), without
        # an intermediate Money per addition: quotes add up their lines several times each.
        minor = 0
        for amount in amounts:
            if not isinstance(amount, Money):
                raise TypeError(f"expected Money, got {type(amount).__name__}")
            if amount.currency != currency:
                raise CurrencyError(f"cannot combine {currency} with {amount.currency}")
            minor += amount.amount_minor
        return cls(minor, currency)

    @property
    def exponent(self) -> int:
        return minor_unit_exponent(self.currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-self.exponent)

    def percent(self, percent: Decimal | int) -> Money:
        return Money(percent_of(self.amount_minor, percent), self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        # Whole quantities only (nights, guests); fractions go through `percent`.
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount_minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor <= other.amount_minor

    def __str__(self) -> str:
        return f"{self.to_decimal():f} {self.currency}"
