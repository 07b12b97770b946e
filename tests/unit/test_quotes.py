"""Quotes: worked examples to the cent, restrictions named by rule, and invariants."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pms.core.ari import AriDay, DayOverride, RatePlanRules, RuleSource, Season, compile_ari
from pms.core.cancellation import CancellationPolicy, RefundRule
from pms.core.dates import Stay
from pms.core.money import Money
from pms.core.quotes import (
    Fee,
    FeeKind,
    Guests,
    LineKind,
    LosDiscount,
    PropertyPricing,
    Quote,
    TaxClass,
    VisitorTax,
    best_los_discount,
    quote,
)
from pms.core.restrictions import BookingWindow, Rule, StayNotBookable, rows_read_by
from tests.unit.strategies import (
    WINDOW_DAYS,
    day_overrides,
    guests,
    plans,
    pricings,
    stays,
    todays,
    window_day,
)

D = Decimal
FRI, SAT = 4, 5
TODAY = date(2026, 1, 15)
VAT7 = TaxClass("vat7", D(7), label="VAT 7 %")
VAT19 = TaxClass("vat19", D(19), label="VAT 19 %")
VAT7_INCL = TaxClass("vat7", D(7), inclusive=True)
VAT19_INCL = TaxClass("vat19", D(19), inclusive=True)
LOS = (LosDiscount(7, D(10)), LosDiscount(28, D(20)))


def jul(day: int) -> date:
    # July 2026: the 1st is a Wednesday, the 3rd a Friday, the 4th a Saturday.
    return date(2026, 7, 1) + timedelta(days=day - 1)


def flat(price_minor: int) -> RatePlanRules:
    return RatePlanRules(base_price_minor=price_minor)


def priced(
    plan: RatePlanRules,
    stay: Stay,
    guests: Guests,
    pricing: PropertyPricing,
    today: date = TODAY,
    occupied: frozenset[date] = frozenset(),
) -> Quote:
    # Exactly the rows the database layer will load for this stay.
    needed = rows_read_by(stay)
    rows = compile_ari(plan, needed.check_in, needed.check_out, occupied)
    return quote(pricing, rows, stay, guests, today=today)


def breakdown(q: Quote) -> dict[str, str]:
    """The quote as {what: amount}: nights and discount summed, fees and taxes by code."""
    out: dict[str, Money] = {}
    for line in q.lines:
        key = {
            LineKind.NIGHT: "nights",
            LineKind.DISCOUNT: "discount",
            LineKind.FEE: line.code,
            LineKind.VAT: f"vat:{line.code}",
            LineKind.VISITOR_TAX: "visitor_tax",
        }[line.kind]
        out[key] = out[key] + line.amount if key in out else line.amount
    for vat in q.vat_included:
        out[f"included:{vat.tax_class}"] = vat.amount
    return {key: f"{money.to_decimal():f}" for key, money in out.items()}


# --- the worked example of domain.md -----------------------------------------------------------


def test_the_worked_example_comes_to_exactly_318_50() -> None:
    pricing = PropertyPricing(
        currency="EUR",
        max_guests=4,
        accommodation_tax_class="vat19",
        tax_classes=[VAT19],
        fees=[
            Fee("cleaning", FeeKind.PER_STAY, 5000, tax_class="vat19"),
            Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, percent=D("10.5")),
        ],
    )
    q = priced(flat(10000), Stay(jul(1), jul(3)), Guests(2), pricing)
    # 2 nights * 100.00 = 200.00; cleaning 50.00; service 10.5 % of 200.00 = 21.00 (no VAT);
    # VAT 19 % on 200.00 + 50.00 = 250.00 -> 47.50. 200.00 + 50.00 + 21.00 + 47.50 = 318.50.
    assert [line.amount.amount_minor for line in q.lines] == [10000, 10000, 5000, 2100, 4750]
    assert q.total == Money.of("318.50", "EUR")
    assert q.bookable
    assert q.reasons == ()


# --- a table of worked examples, each computed by hand -----------------------------------------


@dataclass(frozen=True)
class Example:
    stay: Stay
    expected_total: str
    expected: dict[str, str]
    plan: RatePlanRules = field(default_factory=lambda: flat(10000))
    guests: Guests = field(default_factory=lambda: Guests(2))
    currency: str = "EUR"
    accommodation_tax_class: str | None = None
    tax_classes: tuple[TaxClass, ...] = ()
    fees: tuple[Fee, ...] = ()
    los_discounts: tuple[LosDiscount, ...] = ()
    visitor_tax: VisitorTax | None = None

    def pricing(self) -> PropertyPricing:
        return PropertyPricing(
            currency=self.currency,
            max_guests=8,
            accommodation_tax_class=self.accommodation_tax_class,
            tax_classes=self.tax_classes,
            fees=self.fees,
            los_discounts=self.los_discounts,
            visitor_tax=self.visitor_tax,
        )


EXAMPLES = {
    "season_change_inside_the_stay": Example(
        # Thu 2, Fri 3 in the first season (120.00), Sat 4, Sun 5 in the second (150.00):
        # 2 * 120.00 + 2 * 150.00 = 540.00
        plan=RatePlanRules(
            base_price_minor=10000,
            seasons=[Season(jul(1), jul(4), 12000), Season(jul(4), jul(10), 15000)],
        ),
        stay=Stay(jul(2), jul(6)),
        expected_total="540.00",
        expected={"nights": "540.00"},
    ),
    "stay_runs_from_the_base_price_into_a_season": Example(
        # 1st, 2nd at base 80.00; 3rd, 4th in season 110.00: 160.00 + 220.00 = 380.00
        plan=RatePlanRules(base_price_minor=8000, seasons=[Season(jul(3), jul(31), 11000)]),
        stay=Stay(jul(1), jul(5)),
        expected_total="380.00",
        expected={"nights": "380.00"},
    ),
    "plan_weekday_prices": Example(
        # Wed 100.00, Thu 100.00, Fri 130.00, Sat 140.00, Sun 100.00 = 570.00
        plan=RatePlanRules(base_price_minor=10000, weekday_prices={FRI: 13000, SAT: 14000}),
        stay=Stay(jul(1), jul(6)),
        expected_total="570.00",
        expected={"nights": "570.00"},
    ),
    "season_weekday_price_beats_season_and_plan_weekday_prices": Example(
        # Thu 120.00 (season), Fri 120.00 (season beats the plan's Friday 130.00),
        # Sat 160.00 (the season's Saturday): 400.00
        plan=RatePlanRules(
            base_price_minor=10000,
            weekday_prices={FRI: 13000},
            seasons=[Season(jul(1), jul(31), 12000, weekday_prices={SAT: 16000})],
        ),
        stay=Stay(jul(2), jul(5)),
        expected_total="400.00",
        expected={"nights": "400.00"},
    ),
    "date_override_inside_a_season": Example(
        # 120.00 + 99.99 (override on the 3rd) = 219.99
        plan=RatePlanRules(
            base_price_minor=10000,
            seasons=[Season(jul(1), jul(31), 12000)],
            overrides=[DayOverride(jul(3), price_minor=9999)],
        ),
        stay=Stay(jul(2), jul(4)),
        expected_total="219.99",
        expected={"nights": "219.99"},
    ),
    "seven_nights_ten_percent_rounds_half_up": Example(
        # 7 * 95.55 = 668.85; 10 % = 66.885 -> 66.89 (half up); 668.85 - 66.89 = 601.96
        plan=flat(9555),
        stay=Stay(jul(1), jul(8)),
        los_discounts=LOS,
        expected_total="601.96",
        expected={"nights": "668.85", "discount": "-66.89"},
    ),
    "twenty_eight_nights_take_the_better_twenty_percent": Example(
        # 28 * 50.00 = 1400.00; both rules match, 20 % is best: -280.00 -> 1120.00
        plan=flat(5000),
        stay=Stay(jul(1), jul(29)),
        los_discounts=LOS,
        expected_total="1120.00",
        expected={"nights": "1400.00", "discount": "-280.00"},
    ),
    "six_nights_get_no_discount": Example(
        # 6 * 100.00 = 600.00; the 7-night rule does not match
        stay=Stay(jul(1), jul(7)),
        los_discounts=LOS,
        expected_total="600.00",
        expected={"nights": "600.00"},
    ),
    "discount_tie_rounds_up": Example(
        # 3 * 33.35 = 100.05; 10 % = 10.005 -> 10.01; 100.05 - 10.01 = 90.04
        plan=flat(3335),
        stay=Stay(jul(1), jul(4)),
        los_discounts=(LosDiscount(3, D(10)),),
        expected_total="90.04",
        expected={"nights": "100.05", "discount": "-10.01"},
    ),
    "per_night_and_per_guest_per_night_fees": Example(
        # 3 nights * 100.00 = 300.00; linen 5.00 * 3 nights = 15.00;
        # towels 2.50 * 3 guests (the child counts) * 3 nights = 22.50; 337.50
        stay=Stay(jul(1), jul(4)),
        guests=Guests(2, (5,)),
        fees=(
            Fee("linen", FeeKind.PER_NIGHT, 500),
            Fee("towels", FeeKind.PER_GUEST_PER_NIGHT, 250),
        ),
        expected_total="337.50",
        expected={"nights": "300.00", "linen": "15.00", "towels": "22.50"},
    ),
    "extra_guests_above_the_threshold_per_night": Example(
        # 2 * 100.00 = 200.00; 5 guests, 2 included: 3 extra * 2 nights * 15.00 = 90.00; 290.00
        stay=Stay(jul(1), jul(3)),
        guests=Guests(4, (10,)),
        fees=(Fee("extra_guest", FeeKind.PER_EXTRA_GUEST_PER_NIGHT, 1500, guests_included=2),),
        expected_total="290.00",
        expected={"nights": "200.00", "extra_guest": "90.00"},
    ),
    "no_extra_guest_fee_at_the_threshold": Example(
        # 2 guests, 2 included: no fee line at all; 200.00
        stay=Stay(jul(1), jul(3)),
        guests=Guests(2),
        fees=(Fee("extra_guest", FeeKind.PER_EXTRA_GUEST_PER_NIGHT, 1500, guests_included=2),),
        expected_total="200.00",
        expected={"nights": "200.00"},
    ),
    "pet_fee_is_per_pet_once_per_stay": Example(
        # 3 * 100.00 = 300.00; 2 pets * 25.00 = 50.00 (not per night); 350.00
        stay=Stay(jul(1), jul(4)),
        guests=Guests(2, pets=2),
        fees=(Fee("pet", FeeKind.PER_PET, 2500),),
        expected_total="350.00",
        expected={"nights": "300.00", "pet": "50.00"},
    ),
    "every_fee_type_at_once": Example(
        # 4 * 100.00 = 400.00, no VAT on accommodation; 4 guests (3 adults, child 8), 1 pet.
        # cleaning 60.00 (VAT 19 %); per night 10.00 * 4 = 40.00; per guest per night
        # 1.00 * 4 * 4 = 16.00; extra guests above 2: 12.50 * 2 * 4 = 100.00; pet 20.00;
        # booking 3 % of 400.00 = 12.00; VAT 19 % of 60.00 = 11.40.
        # 400 + 60 + 40 + 16 + 100 + 20 + 12 + 11.40 = 659.40
        stay=Stay(jul(6), jul(10)),
        guests=Guests(3, (8,), pets=1),
        tax_classes=(VAT19,),
        fees=(
            Fee("cleaning", FeeKind.PER_STAY, 6000, tax_class="vat19"),
            Fee("energy", FeeKind.PER_NIGHT, 1000),
            Fee("linen", FeeKind.PER_GUEST_PER_NIGHT, 100),
            Fee("extra_guest", FeeKind.PER_EXTRA_GUEST_PER_NIGHT, 1250, guests_included=2),
            Fee("pet", FeeKind.PER_PET, 2000),
            Fee("booking", FeeKind.PERCENT_OF_ACCOMMODATION, percent=D(3)),
        ),
        expected_total="659.40",
        expected={
            "nights": "400.00",
            "cleaning": "60.00",
            "energy": "40.00",
            "linen": "16.00",
            "extra_guest": "100.00",
            "pet": "20.00",
            "booking": "12.00",
            "vat:vat19": "11.40",
        },
    ),
    "percent_fee_on_the_discounted_accommodation_with_vat": Example(
        # 7 * 100.00 = 700.00; -10 % = -70.00 -> 630.00 (VAT 7 %: 44.10);
        # service 10.5 % of 630.00 = 66.15 (VAT 19 %: 12.5685 -> 12.57);
        # 630.00 + 66.15 + 44.10 + 12.57 = 752.82
        stay=Stay(jul(1), jul(8)),
        los_discounts=LOS,
        accommodation_tax_class="vat7",
        tax_classes=(VAT7, VAT19),
        fees=(
            Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, percent=D("10.5"), tax_class="vat19"),
        ),
        expected_total="752.82",
        expected={
            "nights": "700.00",
            "discount": "-70.00",
            "service": "66.15",
            "vat:vat7": "44.10",
            "vat:vat19": "12.57",
        },
    ),
    "exclusive_vat_per_class_rounded_once_per_class": Example(
        # 3 * 89.90 = 269.70, VAT 7 % = 18.879 -> 18.88 (per line it would be 3 * 6.29 = 18.87);
        # cleaning 60.00, VAT 19 % = 11.40; 269.70 + 60.00 + 18.88 + 11.40 = 359.98
        plan=flat(8990),
        stay=Stay(jul(1), jul(4)),
        accommodation_tax_class="vat7",
        tax_classes=(VAT7, VAT19),
        fees=(Fee("cleaning", FeeKind.PER_STAY, 6000, tax_class="vat19"),),
        expected_total="359.98",
        expected={
            "nights": "269.70",
            "cleaning": "60.00",
            "vat:vat7": "18.88",
            "vat:vat19": "11.40",
        },
    ),
    "inclusive_vat_is_shown_not_added": Example(
        # 2 * 107.00 = 214.00 incl. 7 % -> 214.00 * 7 / 107 = 14.00 included;
        # cleaning 50.00 incl. 19 % -> 50.00 * 19 / 119 = 7.983 -> 7.98 included; total 264.00
        plan=flat(10700),
        stay=Stay(jul(1), jul(3)),
        accommodation_tax_class="vat7",
        tax_classes=(VAT7_INCL, VAT19_INCL),
        fees=(Fee("cleaning", FeeKind.PER_STAY, 5000, tax_class="vat19"),),
        expected_total="264.00",
        expected={
            "nights": "214.00",
            "cleaning": "50.00",
            "included:vat7": "14.00",
            "included:vat19": "7.98",
        },
    ),
    "inclusive_and_exclusive_vat_together": Example(
        # 2 * 100.00 = 200.00 incl. 7 % -> 13.084 -> 13.08 included (not added);
        # cleaning 40.00 + 19 % exclusive = 7.60 added; 200.00 + 40.00 + 7.60 = 247.60
        stay=Stay(jul(1), jul(3)),
        accommodation_tax_class="vat7",
        tax_classes=(VAT7_INCL, VAT19),
        fees=(Fee("cleaning", FeeKind.PER_STAY, 4000, tax_class="vat19"),),
        expected_total="247.60",
        expected={
            "nights": "200.00",
            "cleaning": "40.00",
            "vat:vat19": "7.60",
            "included:vat7": "13.08",
        },
    ),
    "visitor_tax_for_adults_and_children_at_or_above_the_age_limit": Example(
        # 3 * 100.00 = 300.00; age limit 14: children 14 and 16 pay, 13 does not:
        # 4 taxable * 3 nights * 2.80 = 33.60; 333.60
        stay=Stay(jul(1), jul(4)),
        guests=Guests(2, (13, 14, 16)),
        visitor_tax=VisitorTax(280, child_age_limit=14),
        expected_total="333.60",
        expected={"nights": "300.00", "visitor_tax": "33.60"},
    ),
    "visitor_tax_capped_in_nights_and_free_of_vat": Example(
        # 21 * 60.00 = 1260.00, VAT 7 % = 88.20 (not on the visitor tax);
        # age limit 6: adults 2 + child 6 = 3 taxable (child 5 is free), cap 14 nights:
        # 3 * 14 * 1.50 = 63.00; 1260.00 + 88.20 + 63.00 = 1411.20
        plan=flat(6000),
        stay=Stay(jul(1), jul(22)),
        guests=Guests(2, (5, 6)),
        accommodation_tax_class="vat7",
        tax_classes=(VAT7,),
        visitor_tax=VisitorTax(150, child_age_limit=6, max_nights=14),
        expected_total="1411.20",
        expected={"nights": "1260.00", "vat:vat7": "88.20", "visitor_tax": "63.00"},
    ),
    "yen_have_no_minor_unit": Example(
        # 3 * 12345 = 37035 JPY; service 10.5 % = 3888.675 -> 3889;
        # consumption tax 10 % on 37035 = 3703.5 -> 3704; 37035 + 3889 + 3704 = 44628
        plan=flat(12345),
        currency="JPY",
        stay=Stay(jul(1), jul(4)),
        accommodation_tax_class="ct10",
        tax_classes=(TaxClass("ct10", D(10)),),
        fees=(Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, percent=D("10.5")),),
        expected_total="44628",
        expected={"nights": "37035", "service": "3889", "vat:ct10": "3704"},
    ),
    "kuwaiti_dinar_has_three_decimals": Example(
        # 2 * 25.125 = 50.250 KWD; cleaning 5.000; service 5 % of 50.250 = 2.5125 -> 2.513;
        # 50.250 + 5.000 + 2.513 = 57.763
        plan=flat(25125),
        currency="KWD",
        stay=Stay(jul(1), jul(3)),
        fees=(
            Fee("cleaning", FeeKind.PER_STAY, 5000),
            Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, percent=D(5)),
        ),
        expected_total="57.763",
        expected={"nights": "50.250", "cleaning": "5.000", "service": "2.513"},
    ),
}


@pytest.mark.parametrize("example", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_worked_examples_to_the_cent(example: Example) -> None:
    q = priced(example.plan, example.stay, example.guests, example.pricing())
    assert breakdown(q) == example.expected
    assert q.total == Money.of(example.expected_total, example.currency)
    assert q.currency == example.currency
    assert q.bookable


def test_inclusive_vat_is_reported_apart_from_the_lines() -> None:
    example = EXAMPLES["inclusive_vat_is_shown_not_added"]
    q = priced(example.plan, example.stay, example.guests, example.pricing())
    assert not q.lines_of(LineKind.VAT)
    assert [(v.tax_class, v.gross.amount_minor, v.amount.amount_minor) for v in q.vat_included] == [
        ("vat7", 21400, 1400),
        ("vat19", 5000, 798),
    ]


def test_nightly_lines_carry_their_date_and_price() -> None:
    example = EXAMPLES["season_change_inside_the_stay"]
    q = priced(example.plan, example.stay, example.guests, example.pricing())
    assert [(line.day, line.amount.amount_minor) for line in q.lines_of(LineKind.NIGHT)] == [
        (jul(2), 12000),
        (jul(3), 12000),
        (jul(4), 15000),
        (jul(5), 15000),
    ]


# --- cancellation schedule on a quote ------------------------------------------------------------


def test_a_quote_carries_its_refund_schedule_by_date() -> None:
    pricing = PropertyPricing(
        currency="EUR",
        max_guests=4,
        cancellation=CancellationPolicy(
            [RefundRule(30, D(100)), RefundRule(14, D(50)), RefundRule(7, D(12))]
        ),
    )
    q = priced(flat(4999), Stay(jul(31), date(2026, 8, 2)), Guests(1), pricing)
    # total 2 * 49.99 = 99.98; 50 % = 49.99; 12 % = 11.9976 -> 12.00
    assert q.total == Money(9998, "EUR")
    assert [(s.first_day, s.last_day, s.refund.amount_minor) for s in q.cancellation] == [
        (None, jul(1), 9998),
        (jul(2), jul(17), 4999),
        (jul(18), jul(24), 1200),
        (jul(25), None, 0),
    ]


# --- restrictions, each reason naming its rule ----------------------------------------------------

SUMMER_MIN_7 = RatePlanRules(
    base_price_minor=10000, seasons=[Season(jul(4), jul(31), 12000, min_stay=7, name="Summer")]
)
OPEN = PropertyPricing(currency="EUR", max_guests=4)


def rules_of(q: Quote) -> list[Rule]:
    return [reason.rule for reason in q.reasons]


def test_the_seasons_min_stay_is_named() -> None:
    q = priced(SUMMER_MIN_7, Stay(jul(4), jul(7)), Guests(2), OPEN)
    assert rules_of(q) == [Rule.MIN_STAY]
    reason = q.reasons[0]
    assert (reason.source, reason.limit, reason.actual) == (RuleSource.SEASON, 7, 3)
    assert "season" in reason.detail
    assert not q.bookable
    # Still priced, so the guest sees what the stay would cost: 3 * 120.00
    assert q.total == Money(36000, "EUR")


def test_min_stay_is_the_check_in_dates_not_a_later_nights() -> None:
    # Arriving before the season (min 1) and staying into it is fine.
    assert priced(SUMMER_MIN_7, Stay(jul(2), jul(6)), Guests(2), OPEN).bookable


def test_max_stay_of_the_check_in_date() -> None:
    plan = RatePlanRules(base_price_minor=10000, overrides=[DayOverride(jul(1), max_stay=3)])
    q = priced(plan, Stay(jul(1), jul(5)), Guests(2), OPEN)
    assert rules_of(q) == [Rule.MAX_STAY]
    assert (q.reasons[0].limit, q.reasons[0].actual) == (3, 4)
    assert priced(plan, Stay(jul(2), jul(8)), Guests(2), OPEN).bookable


def test_closed_to_arrival_only_matters_on_the_check_in_date() -> None:
    plan = RatePlanRules(
        base_price_minor=10000, overrides=[DayOverride(jul(3), closed_to_arrival=True)]
    )
    assert rules_of(priced(plan, Stay(jul(3), jul(5)), Guests(2), OPEN)) == [Rule.CLOSED_TO_ARRIVAL]
    assert priced(plan, Stay(jul(2), jul(5)), Guests(2), OPEN).bookable


def test_closed_to_departure_applies_to_the_check_out_date() -> None:
    plan = RatePlanRules(
        base_price_minor=10000, overrides=[DayOverride(jul(5), closed_to_departure=True)]
    )
    q = priced(plan, Stay(jul(3), jul(5)), Guests(2), OPEN)
    assert rules_of(q) == [Rule.CLOSED_TO_DEPARTURE]
    assert q.reasons[0].dates == (jul(5),)
    # Staying over the 5th is fine: no one departs that day.
    assert priced(plan, Stay(jul(3), jul(7)), Guests(2), OPEN).bookable


def test_too_many_guests() -> None:
    q = priced(flat(10000), Stay(jul(1), jul(3)), Guests(3, (1, 4)), OPEN)
    assert rules_of(q) == [Rule.MAX_GUESTS]
    assert (q.reasons[0].limit, q.reasons[0].actual) == (4, 5)


@pytest.mark.parametrize(
    ("today", "ok"),
    [
        (jul(1) - timedelta(days=2), True),  # exactly the minimum lead
        (jul(1) - timedelta(days=1), False),  # too short notice
        (jul(2), False),  # arrival in the past
        (jul(1) - timedelta(days=180), True),  # exactly the maximum advance
        (jul(1) - timedelta(days=181), False),  # too far ahead
    ],
)
def test_booking_window(today: date, ok: bool) -> None:
    pricing = PropertyPricing(currency="EUR", max_guests=4, booking_window=BookingWindow(2, 180))
    q = priced(flat(10000), Stay(jul(1), jul(3)), Guests(2), pricing, today=today)
    assert rules_of(q) == ([] if ok else [Rule.BOOKING_WINDOW])


def test_unavailable_dates_are_listed() -> None:
    plan = RatePlanRules(base_price_minor=10000, overrides=[DayOverride(jul(4), closed=True)])
    q = priced(plan, Stay(jul(1), jul(6)), Guests(2), OPEN, occupied=frozenset({jul(2)}))
    assert rules_of(q) == [Rule.UNAVAILABLE]
    assert q.reasons[0].dates == (jul(2), jul(4))


def test_a_stay_may_start_on_the_day_another_ends() -> None:
    # The previous guest's nights are the 1st and 2nd; the 3rd is free for arrival.
    q = priced(
        flat(10000), Stay(jul(3), jul(5)), Guests(2), OPEN, occupied=frozenset({jul(1), jul(2)})
    )
    assert q.bookable


def test_nights_without_rows_are_unavailable_and_unpriced() -> None:
    rows = compile_ari(flat(10000), jul(1), jul(3))
    q = quote(OPEN, rows, Stay(jul(1), jul(5)), Guests(2), today=TODAY)
    assert rules_of(q) == [Rule.UNAVAILABLE]
    assert q.reasons[0].dates == (jul(3), jul(4))
    assert q.total == Money(20000, "EUR")


def test_every_broken_rule_is_reported_at_once() -> None:
    plan = RatePlanRules(
        base_price_minor=10000,
        default_min_stay=3,
        overrides=[
            DayOverride(jul(1), closed=True, closed_to_arrival=True),
            DayOverride(jul(2), closed_to_departure=True),
        ],
    )
    pricing = PropertyPricing(currency="EUR", max_guests=4, booking_window=BookingWindow(2))
    q = priced(plan, Stay(jul(1), jul(2)), Guests(5), pricing, today=jul(1))
    assert rules_of(q) == [
        Rule.UNAVAILABLE,
        Rule.MIN_STAY,
        Rule.CLOSED_TO_ARRIVAL,
        Rule.CLOSED_TO_DEPARTURE,
        Rule.MAX_GUESTS,
        Rule.BOOKING_WINDOW,
    ]
    assert q.reasons[1].source is RuleSource.PLAN


def test_a_refused_booking_carries_every_reason_as_a_422() -> None:
    q = priced(SUMMER_MIN_7, Stay(jul(4), jul(7)), Guests(5), OPEN)
    error = StayNotBookable(q.reasons)
    assert error.status == 422
    assert error.errors == [
        {
            "rule": "min_stay",
            "message": q.reasons[0].detail,
            "dates": ["2026-07-04"],
            "limit": 7,
            "actual": 3,
            "source": "season",
        },
        {
            "rule": "max_guests",
            "message": q.reasons[1].detail,
            "dates": [],
            "limit": 4,
            "actual": 5,
            "source": None,
        },
    ]


def test_a_quote_whose_lines_do_not_add_up_cannot_exist() -> None:
    q = priced(flat(10000), Stay(jul(1), jul(3)), Guests(2), OPEN)
    with pytest.raises(ValueError, match="add up"):
        dataclasses.replace(q, total=Money(20001, "EUR"))


def test_unknown_tax_class_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown tax classes"):
        PropertyPricing(currency="EUR", max_guests=2, accommodation_tax_class="vat7")


def test_the_visitor_tax_is_one_line_counted_in_guest_nights() -> None:
    # domain.md, quotes 5: per taxable guest per night, shown as its own line, no VAT.
    # Adults 2 + the child of 14 (the one of 13 is under the limit) = 3 taxable, 4 nights.
    tax = VisitorTax(250, child_age_limit=14, label="Kurtaxe Sylt")
    q = priced(
        flat(10000),
        Stay(jul(1), jul(5)),
        Guests(2, (13, 14)),
        PropertyPricing(currency="EUR", max_guests=4, visitor_tax=tax),
    )
    [line] = [line for line in q.lines if line.kind is LineKind.VISITOR_TAX]
    assert (line.code, line.quantity, line.label) == ("visitor_tax", 12, "Kurtaxe Sylt")
    assert line.amount == Money(3000, "EUR")
    assert line.tax_class is None
    untitled = VisitorTax(250, child_age_limit=14, max_nights=3)
    q = priced(
        flat(10000),
        Stay(jul(1), jul(5)),
        Guests(1),
        PropertyPricing(currency="EUR", max_guests=4, visitor_tax=untitled),
    )
    [line] = [line for line in q.lines if line.kind is LineKind.VISITOR_TAX]
    assert (line.quantity, line.label, line.amount) == (3, "Visitor tax", Money(750, "EUR"))


@pytest.mark.parametrize("rate", [D(0), D("0.01"), D(7), D("99.99"), D(100)])
def test_a_vat_rate_may_be_anything_from_0_to_100_percent(rate: Decimal) -> None:
    assert TaxClass("vat", rate).rate_percent == rate


@pytest.mark.parametrize("rate", [D("-0.01"), D("100.01"), D("100.5"), D(101), D(190)])
def test_a_vat_rate_outside_0_to_100_percent_is_refused_by_name(rate: Decimal) -> None:
    with pytest.raises(ValueError, match=rf"^VAT rate must be 0\.\.100 %, got {rate}$"):
        TaxClass("vat", rate)


@pytest.mark.parametrize("percent", [D(0), D("10.5"), D(100)])
def test_a_percent_fee_takes_a_percent_from_0_to_100(percent: Decimal) -> None:
    fee = Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, percent=percent)
    assert (fee.percent, fee.amount_minor) == (percent, 0)


@pytest.mark.parametrize(
    ("percent", "amount_minor"),
    [
        (None, 0),  # no percent
        (None, 500),  # an amount instead of a percent
        (D(10), 500),  # a percent and an amount as well
        (D("-0.5"), 0),
        (D("100.01"), 0),
        (D("100.5"), 0),
        (D(101), 0),
    ],
)
def test_a_percent_fee_needs_a_percent_from_0_to_100_and_nothing_else(
    percent: Decimal | None, amount_minor: int
) -> None:
    with pytest.raises(
        ValueError, match=r"^fee service: a percent fee needs a percent 0\.\.100 only$"
    ):
        Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, amount_minor, percent=percent)


@pytest.mark.parametrize("kind", [k for k in FeeKind if k is not FeeKind.PERCENT_OF_ACCOMMODATION])
@pytest.mark.parametrize(("percent", "amount_minor"), [(D(10), 0), (D(10), 500), (None, -1)])
def test_a_fixed_fee_needs_a_non_negative_amount_and_no_percent(
    kind: FeeKind, percent: Decimal | None, amount_minor: int
) -> None:
    with pytest.raises(
        ValueError, match=r"^fee cleaning: needs a non-negative amount and no percent$"
    ):
        Fee("cleaning", kind, amount_minor, percent=percent)
    assert Fee("cleaning", kind, 0).amount_minor == 0


@pytest.mark.parametrize(
    ("adults", "children", "pets", "why"),
    [
        (0, (), 0, "a stay needs at least one adult"),
        (-1, (), 0, "a stay needs at least one adult"),
        (1, (4, -1), 0, "a child's age cannot be negative"),
        (1, (), -1, "pets cannot be negative"),
    ],
)
def test_a_party_needs_an_adult_and_no_negative_ages_or_pets(
    adults: int, children: tuple[int, ...], pets: int, why: str
) -> None:
    with pytest.raises(ValueError, match=f"^{why}$"):
        Guests(adults, children, pets)


def test_a_party_counts_its_people_but_not_its_pets() -> None:
    party = Guests(1, [0, 17], pets=2)  # type: ignore[arg-type]  # a list, as JSON gives it
    assert party.children_ages == (0, 17)
    assert party.count == 3
    assert Guests(1).count == 1


@pytest.mark.parametrize(("min_nights", "percent"), [(1, D(0)), (7, D(10)), (28, D(100))])
def test_a_length_of_stay_discount_from_one_night_and_0_to_100_percent(
    min_nights: int, percent: Decimal
) -> None:
    assert LosDiscount(min_nights, percent) == LosDiscount(min_nights, percent)


@pytest.mark.parametrize(
    ("min_nights", "percent"), [(0, D(10)), (-7, D(10)), (7, D("-0.5")), (7, D("100.5"))]
)
def test_a_length_of_stay_discount_outside_its_limits_is_refused(
    min_nights: int, percent: Decimal
) -> None:
    with pytest.raises(
        ValueError, match=r"^a discount needs min_nights >= 1 and a percent 0\.\.100$"
    ):
        LosDiscount(min_nights, percent)


def test_the_best_discount_is_the_largest_the_stay_qualifies_for() -> None:
    week, month = LosDiscount(7, D(10)), LosDiscount(28, D(20))
    assert best_los_discount((week, month), 6) is None
    assert best_los_discount((week, month), 7) is week
    assert best_los_discount((month, week), 27) is week
    assert best_los_discount((week, month), 28) is month
    # A longer rule with a smaller percent never wins over a larger one the stay qualifies for,
    # and of two equal percents the longer rule is named.
    assert best_los_discount((LosDiscount(14, D(5)), month), 30) is month
    fortnight = LosDiscount(14, D(10))
    assert best_los_discount((week, fortnight), 20) is fortnight
    assert best_los_discount((fortnight, week), 20) is fortnight


@pytest.mark.parametrize(
    ("tax", "why"),
    [
        (lambda: VisitorTax(-1, 14), "visitor tax amount and age limit cannot be negative"),
        (lambda: VisitorTax(100, -1), "visitor tax amount and age limit cannot be negative"),
        (lambda: VisitorTax(100, 14, max_nights=-1), "visitor tax max nights cannot be negative"),
    ],
)
def test_a_visitor_tax_cannot_be_negative(tax: Callable[[], VisitorTax], why: str) -> None:
    with pytest.raises(ValueError, match=f"^{why}$"):
        tax()


def test_a_visitor_tax_may_be_free_from_birth_and_capped_at_zero_nights() -> None:
    tax = VisitorTax(0, 0, max_nights=0)
    assert (tax.amount_minor, tax.child_age_limit, tax.max_nights) == (0, 0, 0)


@pytest.mark.parametrize(
    ("pricing", "why"),
    [
        (
            lambda: PropertyPricing(currency="EUR", max_guests=0),
            "a property sleeps at least one guest",
        ),
        (
            lambda: PropertyPricing(currency="EUR", max_guests=2, tax_classes=(VAT7, VAT7_INCL)),
            "two tax classes with the same code",
        ),
        (
            lambda: PropertyPricing(
                currency="EUR",
                max_guests=2,
                tax_classes=(VAT7,),
                accommodation_tax_class="vat7",
                fees=(Fee("cleaning", FeeKind.PER_STAY, 100, tax_class="vat19"),),
            ),
            r"unknown tax classes: \['vat19'\]",
        ),
        (
            lambda: PropertyPricing(currency="XXY", max_guests=2),
            "unknown or unsupported currency 'XXY'",
        ),
    ],
)
def test_a_property_pricing_must_be_consistent(
    pricing: Callable[[], PropertyPricing], why: str
) -> None:
    with pytest.raises(ValueError, match=f"^{why}$"):
        pricing()


def test_a_property_pricing_holds_its_lists_as_tuples_and_finds_tax_classes_by_code() -> None:
    pricing = PropertyPricing(
        currency="EUR",
        max_guests=1,
        accommodation_tax_class="vat7",
        tax_classes=[VAT7, VAT19],
        fees=[Fee("cleaning", FeeKind.PER_STAY, 100, tax_class="vat19")],
        los_discounts=[LosDiscount(7, D(10))],
    )
    assert isinstance(pricing.tax_classes, tuple)
    assert isinstance(pricing.fees, tuple)
    assert isinstance(pricing.los_discounts, tuple)
    assert pricing.tax_class("vat7") is VAT7
    assert pricing.tax_class("vat19") is VAT19


@pytest.mark.parametrize("included", [-1, 1])
@pytest.mark.parametrize("kind", [k for k in FeeKind if k is not FeeKind.PER_EXTRA_GUEST_PER_NIGHT])
def test_guests_included_belongs_to_the_extra_guest_fee_only(kind: FeeKind, included: int) -> None:
    percent = D(5) if kind is FeeKind.PERCENT_OF_ACCOMMODATION else None
    with pytest.raises(ValueError, match=r"^fee f: guests_included is for extra-guest fees only$"):
        Fee("f", kind, percent=percent, guests_included=included)
    with pytest.raises(ValueError, match="guests_included"):
        Fee("f", FeeKind.PER_EXTRA_GUEST_PER_NIGHT, 100, guests_included=-1)
    assert Fee("f", FeeKind.PER_EXTRA_GUEST_PER_NIGHT, 100, guests_included=2).guests_included == 2


def test_each_fee_line_carries_its_quantity_rate_label_and_tax_class() -> None:
    # 3 nights, 2 adults + 1 child, 2 pets; 2 guests included in the extra-guest fee.
    pricing = PropertyPricing(
        currency="EUR",
        max_guests=4,
        tax_classes=(VAT19,),
        fees=(
            Fee("cleaning", FeeKind.PER_STAY, 5000, tax_class="vat19", label="Cleaning"),
            Fee("energy", FeeKind.PER_NIGHT, 300, label="Energy"),
            Fee("linen", FeeKind.PER_GUEST_PER_NIGHT, 100, label="Linen"),
            Fee("extra", FeeKind.PER_EXTRA_GUEST_PER_NIGHT, 1000, guests_included=2, label="Extra"),
            Fee("pets", FeeKind.PER_PET, 1500, label="Pets"),
            Fee("service", FeeKind.PERCENT_OF_ACCOMMODATION, percent=D(5), label="Service"),
        ),
    )
    q = priced(flat(10000), Stay(jul(1), jul(4)), Guests(2, (8,), pets=2), pricing)
    fees = {
        line.code: (
            line.quantity,
            line.percent,
            line.label,
            line.tax_class,
            line.amount.amount_minor,
        )
        for line in q.lines_of(LineKind.FEE)
    }
    assert fees == {
        "cleaning": (1, None, "Cleaning", "vat19", 5000),
        "energy": (3, None, "Energy", None, 900),
        "linen": (9, None, "Linen", None, 900),
        "extra": (3, None, "Extra", None, 3000),
        "pets": (2, None, "Pets", None, 3000),
        "service": (1, D(5), "Service", None, 1500),
    }


def test_the_accommodation_is_the_nights_after_the_length_of_stay_discount() -> None:
    pricing = PropertyPricing(
        currency="EUR",
        max_guests=2,
        los_discounts=LOS,
        fees=(Fee("cleaning", FeeKind.PER_STAY, 5000),),
    )
    q = priced(flat(10000), Stay(jul(1), jul(8)), Guests(2), pricing)
    assert q.sum_of(LineKind.NIGHT) == Money(70000, "EUR")
    assert q.sum_of(LineKind.DISCOUNT) == Money(-7000, "EUR")
    assert q.sum_of(LineKind.FEE) == Money(5000, "EUR")
    assert q.sum_of(LineKind.VAT) == Money(0, "EUR")
    assert q.accommodation == Money(63000, "EUR")
    nights = q.lines_of(LineKind.NIGHT)
    assert [line.day for line in nights] == [jul(d) for d in range(1, 8)]
    assert {(line.code, line.amount.amount_minor, line.quantity) for line in nights} == {
        ("night", 10000, 1)
    }
    [discount] = q.lines_of(LineKind.DISCOUNT)
    assert (discount.code, discount.percent, discount.label) == ("los_discount", D(10), "7+ nights")


def test_a_vat_line_names_its_class_rate_and_label_and_a_class_at_zero_adds_none() -> None:
    # A 100 % length-of-stay discount brings the accommodation (VAT 7 %, the first class to
    # appear) to zero: no VAT line for it, and the cleaning's VAT 19 % is still charged.
    pricing = PropertyPricing(
        currency="EUR",
        max_guests=2,
        accommodation_tax_class="vat7",
        tax_classes=(VAT7, VAT19),
        los_discounts=(LosDiscount(1, D(100)),),
        fees=(Fee("cleaning", FeeKind.PER_STAY, 5000, tax_class="vat19"),),
    )
    q = priced(flat(10000), Stay(jul(1), jul(3)), Guests(2), pricing)
    [vat] = q.lines_of(LineKind.VAT)
    assert (vat.code, vat.percent, vat.label, vat.tax_class) == ("vat19", D(19), "VAT 19 %", None)
    assert vat.amount == Money(950, "EUR")
    assert q.total == Money(5950, "EUR")


# --- properties -----------------------------------------------------------------------------------


@given(
    plan=plans(),
    pricing=pricings(),
    stay=stays(),
    party=guests,
    today=todays,
    occupied=st.sets(st.integers(0, WINDOW_DAYS - 1), max_size=15),
)
def test_lines_always_add_up_to_a_non_negative_total(
    plan: RatePlanRules,
    pricing: PropertyPricing,
    stay: Stay,
    party: Guests,
    today: date,
    occupied: set[int],
) -> None:
    rows = compile_ari(
        plan, window_day(0), window_day(WINDOW_DAYS), {window_day(o) for o in occupied}
    )
    q = quote(pricing, rows, stay, party, today=today)
    assert sum(line.amount.amount_minor for line in q.lines) == q.total.amount_minor
    assert q.total.amount_minor >= 0
    assert all(line.amount.currency == q.currency for line in q.lines)
    for line in q.lines:
        assert (
            (line.amount.amount_minor <= 0)
            if line.kind is LineKind.DISCOUNT
            else (line.amount.amount_minor >= 0)
        )
    for vat in q.vat_included:
        assert 0 <= vat.amount.amount_minor <= vat.gross.amount_minor
    assert all(0 <= step.refund.amount_minor <= q.total.amount_minor for step in q.cancellation)
    # Rows of other dates make no difference: the database layer may load just the stay's.
    own_rows = [row for row in rows if stay.check_in <= row.day <= stay.check_out]
    assert quote(pricing, own_rows, stay, party, today=today) == q


@given(
    plan=plans(),
    pricing=pricings(),
    stay=stays(),
    party=guests,
    offset=st.integers(0, WINDOW_DAYS - 1),
    data=st.data(),
)
def test_changing_one_dates_override_changes_only_stays_touching_that_date(
    plan: RatePlanRules,
    pricing: PropertyPricing,
    stay: Stay,
    party: Guests,
    offset: int,
    data: st.DataObject,
) -> None:
    day = window_day(offset)
    changed = dataclasses.replace(
        plan,
        overrides=[o for o in plan.overrides if o.day != day] + [data.draw(day_overrides(day))],
    )
    before = compile_ari(plan, window_day(0), window_day(WINDOW_DAYS))
    after = compile_ari(changed, window_day(0), window_day(WINDOW_DAYS))
    today = window_day(0) - timedelta(days=30)
    q_before = quote(pricing, before, stay, party, today=today)
    q_after = quote(pricing, after, stay, party, today=today)
    # A stay "touches" a date it has a night on, or departs on (closed to departure).
    if not stay.check_in <= day <= stay.check_out:
        assert q_after == q_before
    elif day in stay and before[offset].price_minor != after[offset].price_minor:
        night = next(line for line in q_after.lines_of(LineKind.NIGHT) if line.day == day)
        assert night.amount.amount_minor == after[offset].price_minor


def rows_by_day(rows: list[AriDay]) -> dict[date, AriDay]:
    return {row.day: row for row in rows}


@given(
    plan=plans(),
    pricing=pricings(),
    stay=stays(),
    party=guests,
    today=todays,
    occupied=st.sets(st.integers(0, WINDOW_DAYS - 1), max_size=15),
)
def test_reasons_are_consistent_with_the_rows(
    plan: RatePlanRules,
    pricing: PropertyPricing,
    stay: Stay,
    party: Guests,
    today: date,
    occupied: set[int],
) -> None:
    rows = rows_by_day(
        compile_ari(plan, window_day(0), window_day(WINDOW_DAYS), {window_day(o) for o in occupied})
    )
    q = quote(pricing, rows.values(), stay, party, today=today)
    reasons = {reason.rule: reason for reason in q.reasons}
    assert len(reasons) == len(q.reasons)  # each rule at most once

    unavailable = tuple(d for d in stay.dates() if d not in rows or not rows[d].available)
    assert (Rule.UNAVAILABLE in reasons) == bool(unavailable)
    if unavailable:
        assert reasons[Rule.UNAVAILABLE].dates == unavailable

    arrival = rows.get(stay.check_in)
    assert arrival is not None  # stays start inside the window
    assert (Rule.MIN_STAY in reasons) == (stay.nights < arrival.min_stay)
    if Rule.MIN_STAY in reasons:
        assert reasons[Rule.MIN_STAY].source is arrival.min_stay_source
    too_long = arrival.max_stay is not None and stay.nights > arrival.max_stay
    assert (Rule.MAX_STAY in reasons) == too_long
    assert (Rule.CLOSED_TO_ARRIVAL in reasons) == arrival.closed_to_arrival
    departure = rows.get(stay.check_out)
    ctd = departure is not None and departure.closed_to_departure
    assert (Rule.CLOSED_TO_DEPARTURE in reasons) == ctd

    assert (Rule.MAX_GUESTS in reasons) == (party.count > pricing.max_guests)
    lead = (stay.check_in - today).days
    window = pricing.booking_window
    outside = lead < window.min_lead_days or (
        window.max_advance_days is not None and lead > window.max_advance_days
    )
    assert (Rule.BOOKING_WINDOW in reasons) == outside
    assert q.bookable == (not reasons)
