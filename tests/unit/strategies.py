"""Hypothesis strategies for rate plans, property pricing, guests and stays."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from pms.core.ari import DayOverride, RatePlanRules, Season
from pms.core.cancellation import CancellationPolicy, RefundRule
from pms.core.dates import Stay
from pms.core.quotes import (
    Fee,
    FeeKind,
    Guests,
    LosDiscount,
    PropertyPricing,
    TaxClass,
    VisitorTax,
)
from pms.core.restrictions import BookingWindow

WINDOW_START = date(2026, 6, 1)
WINDOW_DAYS = 92

prices = st.integers(min_value=0, max_value=100_000)
# Percentages with up to two decimals, 0.00 to 100.00, as a manager would type them.
percents = st.integers(0, 10_000).map(lambda hundredths: Decimal(hundredths) / 100)


def window_day(offset: int) -> date:
    return WINDOW_START + timedelta(days=offset)


@st.composite
def day_overrides(draw: st.DrawFn, day: date) -> DayOverride:
    min_stay = draw(st.none() | st.integers(1, 10))
    return DayOverride(
        day,
        price_minor=draw(st.none() | prices),
        min_stay=min_stay,
        max_stay=draw(st.none() | st.integers(min_stay or 1, 30)),
        closed=draw(st.booleans()),
        closed_to_arrival=draw(st.booleans()),
        closed_to_departure=draw(st.booleans()),
    )


@st.composite
def plans(draw: st.DrawFn) -> RatePlanRules:
    # Pairs of sorted distinct boundaries give seasons that never overlap (some are adjacent).
    boundaries = sorted(draw(st.sets(st.integers(0, WINDOW_DAYS), max_size=6)))
    seasons = [
        Season(
            window_day(a),
            window_day(b),
            draw(prices),
            draw(st.none() | st.integers(1, 10)),
            draw(st.dictionaries(st.integers(0, 6), prices, max_size=3)),
        )
        for a, b in zip(boundaries[::2], boundaries[1::2], strict=False)
    ]
    override_days = draw(st.sets(st.integers(0, WINDOW_DAYS - 1), max_size=10))
    return RatePlanRules(
        base_price_minor=draw(prices),
        default_min_stay=draw(st.integers(1, 5)),
        default_max_stay=draw(st.none() | st.integers(5, 30)),
        weekday_prices=draw(st.dictionaries(st.integers(0, 6), prices, max_size=3)),
        seasons=seasons,
        overrides=[draw(day_overrides(window_day(offset))) for offset in sorted(override_days)],
    )


@st.composite
def fees(draw: st.DrawFn, code: str, tax_classes: list[str]) -> Fee:
    kind = draw(st.sampled_from(FeeKind))
    tax_class = draw(st.none() | st.sampled_from(tax_classes))
    if kind is FeeKind.PERCENT_OF_ACCOMMODATION:
        return Fee(code, kind, percent=draw(percents), tax_class=tax_class)
    return Fee(
        code,
        kind,
        amount_minor=draw(st.integers(0, 20_000)),
        tax_class=tax_class,
        guests_included=draw(st.integers(0, 6)) if kind is FeeKind.PER_EXTRA_GUEST_PER_NIGHT else 0,
    )


@st.composite
def pricings(draw: st.DrawFn, currency: str = "EUR") -> PropertyPricing:
    tax_classes = [
        TaxClass(code, draw(percents.filter(lambda p: p <= 30)), inclusive=draw(st.booleans()))
        for code in ("reduced", "standard")
    ]
    codes = [tax_class.code for tax_class in tax_classes]
    refund_days = draw(st.sets(st.integers(0, 60), max_size=4))
    max_lead = draw(st.none() | st.integers(10, 400))
    return PropertyPricing(
        currency=currency,
        max_guests=draw(st.integers(1, 10)),
        accommodation_tax_class=draw(st.none() | st.sampled_from(codes)),
        tax_classes=tax_classes,
        fees=[draw(fees(f"fee{i}", codes)) for i in range(draw(st.integers(0, 6)))],
        los_discounts=draw(
            st.lists(st.builds(LosDiscount, st.integers(1, 30), percents), max_size=3)
        ),
        visitor_tax=draw(
            st.none()
            | st.builds(
                VisitorTax,
                st.integers(0, 500),
                st.integers(0, 18),
                st.none() | st.integers(0, 30),
            )
        ),
        booking_window=BookingWindow(draw(st.integers(0, 10)), max_lead),
        cancellation=CancellationPolicy([RefundRule(d, draw(percents)) for d in refund_days])
        if draw(st.booleans())
        else None,
    )


guests = st.builds(
    Guests,
    st.integers(1, 6),
    st.lists(st.integers(0, 17), max_size=4).map(tuple),
    st.integers(0, 3),
)


@st.composite
def stays(draw: st.DrawFn, max_nights: int = 30) -> Stay:
    """Stays starting inside the window; some run past its end, where no rows exist."""
    check_in = window_day(draw(st.integers(0, WINDOW_DAYS - 1)))
    return Stay(check_in, check_in + timedelta(days=draw(st.integers(1, max_nights))))


todays = st.integers(-120, WINDOW_DAYS).map(window_day)
