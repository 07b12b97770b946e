"""Booking e-mails render in the guest's language (English fallback), as text and as HTML."""

from __future__ import annotations

from datetime import date

import pytest

from pms.core.money import Money
from pms.direct.emails import (
    BookingEmailContext,
    EmailTemplate,
    format_date,
    format_money,
    render_email,
    resolve_language,
)

CTX = BookingEmailContext(
    booking_reference="PMS-2027-000042",
    property_name="Haus <Seeblick> & Garten",
    check_in=date(2027, 6, 12),
    check_out=date(2027, 6, 19),
    guest_name="Anna Müller",
    total=Money(123450, "EUR"),
    agency_name="Alpen & Meer",
    manage_url="https://book.example/b/tok123?x=1&y=2",
    refund=Money(61725, "EUR"),
    guests=3,
)


@pytest.mark.parametrize("template", list(EmailTemplate))
@pytest.mark.parametrize("language", ["en", "de"])
def test_every_template_renders_text_and_html_with_the_booking_facts(
    template: EmailTemplate, language: str
) -> None:
    r = render_email(template, language, CTX)
    assert r.language == language
    assert r.subject
    assert "\n" not in r.subject
    assert "PMS-2027-000042" in r.subject
    for body in (r.text, r.html):
        assert "PMS-2027-000042" in body
        assert format_money(CTX.total, language) in body
        assert format_date(CTX.check_in, language) in body
        assert format_date(CTX.check_out, language) in body
    assert "Haus <Seeblick> & Garten" in r.text
    assert "Haus &lt;Seeblick&gt; &amp; Garten" in r.html  # escaped in HTML only
    assert "<Seeblick>" not in r.html
    assert r.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{language}">' in r.html
    assert "{{" not in r.text
    assert "{%" not in r.text


@pytest.mark.parametrize(
    "template",
    [
        EmailTemplate.BOOKING_CONFIRMED,
        EmailTemplate.REQUEST_RECEIVED,
        EmailTemplate.REQUEST_APPROVED,
        EmailTemplate.BOOKING_CANCELLED,
    ],
)
def test_guest_mails_carry_the_self_service_link(template: EmailTemplate) -> None:
    r = render_email(template, "en", CTX)
    assert CTX.manage_url is not None
    assert CTX.manage_url in r.text
    assert 'href="https://book.example/b/tok123?x=1&amp;y=2"' in r.html
    assert "Anna Müller" in r.text


def test_the_agency_mail_names_the_guest_and_party_size() -> None:
    r = render_email(EmailTemplate.NEW_BOOKING, "en", CTX)
    assert "Guest:" in r.text
    assert "Anna Müller" in r.text
    assert "Guests:" in r.text
    assert "3" in r.text


def test_german_and_english_differ_and_use_their_own_formats() -> None:
    en = render_email(EmailTemplate.BOOKING_CONFIRMED, "en", CTX)
    de = render_email(EmailTemplate.BOOKING_CONFIRMED, "de", CTX)
    assert en.subject == "Your booking PMS-2027-000042 at Haus <Seeblick> & Garten is confirmed"
    assert de.subject == "Ihre Buchung PMS-2027-000042 für Haus <Seeblick> & Garten ist bestätigt"
    assert "Hello Anna Müller," in en.text
    assert "Hallo Anna Müller," in de.text
    assert "€1,234.50" in en.text
    assert "1.234,50 €" in de.text
    assert "Sat, 12 June 2027" in en.text
    assert "Sa., 12. Juni 2027" in de.text


def test_cancellation_states_the_refund_or_that_none_is_due() -> None:
    en = render_email(EmailTemplate.BOOKING_CANCELLED, "en", CTX)
    assert "refund of €617.25" in en.text
    de = render_email(EmailTemplate.BOOKING_CANCELLED, "de", CTX)
    assert "erhalten Sie 617,25 € zurück" in de.text
    assert "617,25 €" in de.html
    none = BookingEmailContext(**{**_fields(CTX), "refund": Money(0, "EUR")})
    assert "no refund is due" in render_email(EmailTemplate.BOOKING_CANCELLED, "en", none).text
    with pytest.raises(ValueError, match="refund"):
        render_email(
            EmailTemplate.BOOKING_CANCELLED,
            "en",
            BookingEmailContext(**{**_fields(CTX), "refund": None}),
        )


@pytest.mark.parametrize(
    ("asked", "used"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("DE_ch", "de"),
        ("en-GB", "en"),
        ("fr", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_language_falls_back_to_english(asked: str | None, used: str) -> None:
    assert resolve_language(asked) == used
    assert render_email(EmailTemplate.REQUEST_RECEIVED, asked, CTX).language == used


def test_money_formats() -> None:
    assert format_money(Money(5, "EUR"), "en") == "€0.05"
    assert format_money(Money(100000000, "USD"), "de") == "1.000.000,00 $"
    assert format_money(Money(12345, "CHF"), "en") == "123.45 CHF"
    assert format_money(Money(12345, "JPY"), "en") == "12,345 JPY"
    assert format_money(Money(-250, "GBP"), "en") == "-£2.50"


def test_a_missing_link_leaves_no_empty_link_behind() -> None:
    r = render_email(
        EmailTemplate.BOOKING_CONFIRMED,
        "en",
        BookingEmailContext(**{**_fields(CTX), "manage_url": None}),
    )
    assert "View or cancel" not in r.text
    assert "href" not in r.html


def _fields(ctx: BookingEmailContext) -> dict[str, object]:
    return {name: getattr(ctx, name) for name in ctx.__slots__}  # type: ignore[attr-defined]
