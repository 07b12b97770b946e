"""`quote_totals.total_minor` is `quotes.quote(...).total` computed from the nightly sum alone:
the search prices many properties with it, so every amount it shows must be the quote's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pms.core import quote_totals
from pms.core.ari import compile_ari
from pms.core.dates import Stay
from pms.core.money import round_half_up
from pms.core.quote_totals import Tariff, total_minor
from pms.core.quotes import Guests, PropertyPricing, quote
from pms.core.restrictions import rows_read_by
from tests.unit.strategies import WINDOW_DAYS, guests, plans, pricings, stays, window_day


@settings(max_examples=400)
@given(plan=plans(), pricing=pricings(), stay=stays(max_nights=20), party=guests)
def test_total_from_the_nightly_sum_is_the_quotes_total(
    plan: object, pricing: PropertyPricing, stay: Stay, party: Guests
) -> None:
    rows = compile_ari(plan, window_day(0), window_day(WINDOW_DAYS + 40), frozenset())  # type: ignore[arg-type]
    read = rows_read_by(stay)
    own = [r for r in rows if read.check_in <= r.day < read.check_out]
    expected = quote(pricing, own, stay, party, today=date(2026, 1, 1)).total.amount_minor
    subtotal = sum(r.price_minor for r in own if r.day < stay.check_out)
    assert total_minor(Tariff.of(pricing), subtotal, stay.nights, party) == expected


def test_a_worked_example_with_every_kind_of_charge() -> None:
    """domain.md's example: 2 nights at 100.00, cleaning 50.00 with 19 % VAT, service fee 10.5 %
    untaxed, VAT 19 % on the accommodation: 318.50."""
    from decimal import Decimal

    from pms.core.quotes import Fee, FeeKind, TaxClass

    tariff = Tariff(
        accommodation_tax_class="std",
        tax_classes={"std": TaxClass("std", Decimal(19))},
        fees=(
            Fee("cleaning", FeeKind.PER_STAY, amount_minor=5000, tax_class="std"),
            Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, percent=Decimal("10.5")),
        ),
        los_discounts=(),
        visitor_tax=None,
    )
    assert total_minor(tariff, 20000, 2, Guests(2)) == 31850


@given(p=st.integers(-(10**9), 10**9), q=st.integers(1, 10**6))
def test_the_integer_rounding_is_round_half_up_of_the_exact_quotient(p: int, q: int) -> None:
    # Negative amounts too (a discount line): halves away from zero, like money.round_half_up.
    assert quote_totals._rounded(p, q) == round_half_up(Decimal(p) / Decimal(q))


def test_negative_halves_round_away_from_zero() -> None:
    assert [quote_totals._rounded(p, q) for p, q in ((-5, 2), (-1, 4), (-3, 4), (-7, 1))] == [
        -3,
        0,
        -1,
        -7,
    ]


def test_a_percent_fee_taxed_in_a_class_of_its_own() -> None:
    """The VAT base of a class that only a percent fee falls in starts at zero: 10 % of 104.90
    is 10.49, whose 19 % VAT is 1.9931, so 1.99 (a base that started at 0.01 would give 2.00)."""
    from pms.core.quotes import Fee, FeeKind, TaxClass

    tariff = Tariff(
        accommodation_tax_class="std",
        tax_classes={"std": TaxClass("std", Decimal(19)), "svc": TaxClass("svc", Decimal(19))},
        fees=(
            Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, percent=Decimal(10), tax_class="svc"),
        ),
        los_discounts=(),
        visitor_tax=None,
    )
    # 104.90 + 19.93 VAT on it + 10.49 fee + 1.99 VAT on the fee
    assert total_minor(tariff, 10490, 1, Guests(2)) == 10490 + 1993 + 1049 + 199
