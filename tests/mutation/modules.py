"""The modules that hold the rules, each with the tests that cover it.

mutmut runs once per module, in a work directory of its own whose configuration selects only
that module's tests; of those, a mutant runs only the ones that call the mutated function
(mutmut records which tests call what)."""

from __future__ import annotations

TESTS_BY_MODULE: dict[str, tuple[str, ...]] = {
    "pms.core.booking_status": (
        "tests/integration/test_booking_status_nights.py",
        "tests/integration/test_bookings.py",
    ),
    # Only the tests that state the guard's rules (a clash is a 409 naming it, a block or a
    # request being confirmed clashes too, a clash leaves nothing behind, the occupying
    # statuses, the concurrent writers, a lapsed hold is free): every booking write goes
    # through the guard, and with all of test_bookings.py and the hold limits a survivor ran
    # every API test there. A test file's single tests are named as pytest node ids.
    "pms.core.inventory": (
        "tests/integration/test_inventory.py",
        "tests/integration/test_booking_status_nights.py",
        "tests/integration/test_bookings.py::test_overlap_is_409_naming_the_clash_and_back_to_back_is_fine",
        "tests/integration/test_bookings.py::test_cancelled_nights_can_be_booked_again_at_once",
        "tests/integration/test_bookings.py::test_blocks_occupy_like_bookings",
        "tests/integration/test_bookings.py::test_confirming_a_request_rechecks_availability",
        "tests/integration/test_bookings.py::test_patch_is_guarded_by_version_and_the_calendar",
        "tests/integration/test_bookings.py::test_availability_and_calendar",
        "tests/integration/test_bookings.py::test_a_clash_leaves_nothing_of_the_request_behind",
        "tests/integration/test_booking_races.py",
        "tests/integration/test_hold_expiry.py::test_a_hold_stops_blocking_at_its_expiry_not_after_it",
        "tests/integration/test_hold_expiry.py::test_a_lapsed_hold_frees_its_nights_on_the_calendar",
        "tests/integration/test_hold_expiry.py::test_a_booking_moved_onto_a_stale_holds_nights_is_accepted",
    ),
    # Only the expiry's own tests: every booking POST expires stale holds in passing, so the
    # other booking tests call this module too, but state nothing about expiry; with them a
    # surviving mutant ran some 40 API tests (about 3 minutes here), and mutmut ran the ones
    # with the shortest test body first, whatever their fixtures cost.
    "pms.core.holds": ("tests/integration/test_hold_expiry.py",),
    # The calendar's own tests (both forms), and the two that state what a lapsed hold and a
    # block look like on it; not the hold expiry's or the statuses' other tests, which never
    # read a calendar.
    "pms.core.availability": (
        "tests/integration/test_calendar_days.py",
        "tests/integration/test_calendar_ranges.py",
        "tests/integration/test_bookings.py::test_availability_and_calendar",
        "tests/integration/test_hold_expiry.py::test_a_lapsed_hold_frees_its_nights_on_the_calendar",
    ),
    "pms.core.quotes": ("tests/unit/test_quotes.py",),
    "pms.core.quote_totals": ("tests/unit/test_quote_totals.py", "tests/unit/test_quotes.py"),
    "pms.core.money": ("tests/unit/test_money.py", "tests/unit/test_cancellation.py"),
    "pms.core.cancellation": ("tests/unit/test_cancellation.py",),
    "pms.core.restrictions": (
        "tests/unit/test_restrictions.py",
        "tests/unit/test_quotes.py",
        "tests/unit/test_quote_totals.py",
    ),
    "pms.core.permissions": (
        "tests/unit/test_permissions.py",
        "tests/integration/test_permissions.py",
    ),
    # The rules without a database first (the date picker, the booking window, the filters,
    # the distance), then the search tests: the property test (search offers exactly what
    # booking accepts), back-to-back stays, filters and sorting, restrictions. Not the engine's
    # end-to-end test (its worker runs in another process) nor the other booking-engine tests.
    "pms.direct.search": (
        "tests/unit/direct/test_search_rules.py",
        "tests/integration/direct/test_search_prices.py",
        "tests/integration/direct/test_search_ranking.py",
        "tests/integration/direct/test_search_property.py",
        "tests/integration/direct/test_booking_engine.py::test_search_filters_and_sorting",
        "tests/integration/direct/test_booking_engine.py::test_holds_and_search_respect_restrictions",
        "tests/integration/direct/test_booking_engine.py::"
        "test_a_stay_of_the_max_stay_exactly_or_passing_a_day_closed_to_departure_is_offered",
    ),
    "pms.api.idempotency": (
        "tests/integration/test_idempotency_rules.py",
        "tests/integration/test_idempotency.py",
    ),
    "pms.channel.ical.reconcile": ("tests/unit/ical/test_reconcile.py",),
    "pms.channel.ical.fetch": (
        "tests/integration/ical/test_fetch.py",
        "tests/security/test_ical_feed_urls.py",
    ),
    "pms.direct.payments.signature": ("tests/unit/direct/test_stripe_signature.py",),
    "pms.core.tokens": ("tests/unit/test_tokens.py", "tests/integration/test_auth.py"),
}

# Tests whose rule runs in another process (a Celery worker started by the test): that process
# imports the sources, not mutmut's mutated copy, so these cannot kill a mutant.
DESELECTED: tuple[str, ...] = (
    "tests/integration/test_hold_expiry.py::test_the_scheduled_task_runs_the_job_in_the_worker",
    "tests/integration/direct/test_booking_engine.py::"
    "test_search_calendar_quote_hold_book_mail_link_cancel_refund_free_again",
)


def source_file(module: str) -> str:
    return "src/" + module.replace(".", "/") + ".py"
