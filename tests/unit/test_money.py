"""Money: integer minor units per currency, and the one rounding rule (half up)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pms.core.money import CurrencyError, Money, percent_of, round_half_up, vat_included_in


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [
        # The refund bug of the earlier system: 9999 * 12 % = 1199.88 → 1200, int() gave 1199.
        (9999, 12, 1200),
        # Exact halves go up, not to the even neighbour (banker's rounding would give 2 and 0).
        (250, 1, 3),
        (50, 1, 1),
        (150, 1, 2),
        # 10.5 % of 200.00 = 21.00 (the worked example's service fee).
        (20000, Decimal("10.5"), 2100),
        # 19 % of 66.15 = 12.5685 → 12.57.
        (6615, 19, 1257),
        # 0 % and 100 % are exact.
        (12345, 0, 0),
        (12345, 100, 12345),
        # Negative amounts round away from zero, the mirror image of positive ones.
        (-250, 1, -3),
        (-9999, 12, -1200),
    ],
)
def test_percent_of_rounds_half_up(amount: int, percent: Decimal | int, expected: int) -> None:
    assert percent_of(amount, percent) == expected


@pytest.mark.parametrize(
    ("gross", "rate", "expected"),
    [
        (11900, 19, 1900),  # 119.00 incl. 19 % → 19.00
        (10700, 7, 700),  # 107.00 incl. 7 % → 7.00
        (5000, 19, 798),  # 50.00 * 19/119 = 7.983 → 7.98
        (10000, 19, 1597),  # 100.00 * 19/119 = 15.966 → 15.97
        (20000, 7, 1308),  # 200.00 * 7/107 = 13.084 → 13.08
        (0, 19, 0),
    ],
)
def test_vat_included_in_extracts_the_vat_of_a_gross_amount(
    gross: int, rate: int, expected: int
) -> None:
    assert vat_included_in(gross, rate) == expected


def test_floats_are_refused_as_percentages() -> None:
    with pytest.raises(TypeError):
        percent_of(100, 10.5)  # type: ignore[arg-type]


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    percent_hundredths=st.integers(min_value=0, max_value=10_000),
)
def test_percent_of_equals_exact_rational_rounding(amount: int, percent_hundredths: int) -> None:
    exact = Fraction(amount * percent_hundredths, 100 * 100)
    floor_plus_half = int(exact + Fraction(1, 2))  # half up for non-negative values
    percent = Decimal(percent_hundredths) / 100
    assert percent_of(amount, percent) == floor_plus_half


def test_round_half_up_is_the_rounding_rule() -> None:
    assert round_half_up(Decimal("1199.88")) == 1200
    assert round_half_up(Decimal("0.5")) == 1
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("2.4999")) == 2
    assert round_half_up(Decimal("-2.5")) == -3


@pytest.mark.parametrize(
    ("text", "currency", "minor", "shown"),
    [
        ("318.50", "EUR", 31850, "318.50 EUR"),
        ("318.5", "EUR", 31850, "318.50 EUR"),
        ("44628", "JPY", 44628, "44628 JPY"),
        ("57.763", "KWD", 57763, "57.763 KWD"),
        ("0", "USD", 0, "0.00 USD"),
    ],
)
def test_major_amounts_parse_and_print_with_the_currency_exponent(
    text: str, currency: str, minor: int, shown: str
) -> None:
    money = Money.of(text, currency)
    assert money == Money(minor, currency)
    assert str(money) == shown


@pytest.mark.parametrize(("text", "currency"), [("318.5", "JPY"), ("1.001", "EUR")])
def test_a_major_amount_finer_than_the_currency_is_refused(text: str, currency: str) -> None:
    with pytest.raises(CurrencyError):
        Money.of(text, currency)


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(CurrencyError):
        Money(100, "EURO")


def test_amounts_add_within_one_currency_only() -> None:
    assert Money(100, "EUR") + Money(250, "EUR") == Money(350, "EUR")
    assert Money(100, "EUR") - Money(250, "EUR") == Money(-150, "EUR")
    assert Money(100, "EUR") * 3 == Money(300, "EUR")
    with pytest.raises(CurrencyError):
        Money(100, "EUR") + Money(100, "USD")
    with pytest.raises(CurrencyError):
        _ = Money(100, "EUR") < Money(100, "USD")


def test_total_of_no_amounts_is_zero_in_that_currency() -> None:
    assert Money.total([], "JPY") == Money(0, "JPY")
    assert Money.total([Money(1, "JPY"), Money(2, "JPY")], "JPY") == Money(3, "JPY")


def test_amount_must_be_an_integer_of_minor_units() -> None:
    with pytest.raises(TypeError):
        Money(10.5, "EUR")  # type: ignore[arg-type]


def test_refund_percent_on_money_keeps_the_currency() -> None:
    assert Money(9999, "EUR").percent(12) == Money(1200, "EUR")


def test_each_refusal_says_what_was_wrong() -> None:
    with pytest.raises(CurrencyError, match=r"^unknown or unsupported currency 'EURO'$"):
        Money(100, "EURO")
    with pytest.raises(CurrencyError, match=r"^cannot combine EUR with USD$"):
        Money(100, "EUR") + Money(100, "USD")
    with pytest.raises(CurrencyError, match=r"^318\.5 has more decimals than JPY allows$"):
        Money.of("318.5", "JPY")
    with pytest.raises(TypeError, match=r"^amount_minor must be an int$"):
        Money(10.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^expected Decimal or int, got float$"):
        percent_of(100, 0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^expected Money, got int$"):
        Money.total([1], "EUR")  # type: ignore[list-item]
    with pytest.raises(CurrencyError, match=r"^cannot combine EUR with USD$"):
        Money.total([Money(1, "EUR"), Money(1, "USD")], "EUR")


def test_amounts_compare_and_negate_within_one_currency() -> None:
    low, high = Money(100, "EUR"), Money(250, "EUR")
    assert low < high
    assert not high < low
    assert not low < Money(100, "EUR")
    assert low <= high
    assert low <= Money(100, "EUR")
    assert not high <= low
    with pytest.raises(CurrencyError):
        _ = low <= Money(100, "USD")
    assert -low == Money(-100, "EUR")
    assert -Money(-5, "JPY") == Money(5, "JPY")


def test_money_multiplies_by_whole_numbers_only() -> None:
    assert 3 * Money(100, "EUR") == Money(300, "EUR")
    with pytest.raises(TypeError):
        _ = Money(100, "EUR") * True
    with pytest.raises(TypeError):
        _ = Money(100, "EUR") * 1.5  # type: ignore[operator]
