"""Booking.com reservations as the PMS pulls them: new and modify queues, each acknowledged apart.

A message may be acknowledged only once it was delivered in its latest version: acknowledging a
stale one is the documented 400 "transaction message of the wrong type".

Acknowledgements are counted per revision (``acks``: version -> accepted acknowledgements naming
it). The first takes the revision off its queue; a later one of a revision already acknowledged
is answered with success and changes nothing (a PMS whose ack response was lost may send it
again), but it is counted, so a test can hold the PMS to "acknowledged exactly once".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pms.sandbox.days import stay_nights

Queue = Literal["new", "modify"]
# [GUESS] how a message says what happened: ResStatus on HotelReservation / HotelResModify.
RES_STATUS = {"booked": "Commit", "modified": "Modify", "cancelled": "Cancel"}
DECIMAL_PLACES = 2


@dataclass
class Reservation:
    id: str
    hotel_id: str
    room_id: str
    rate_id: str
    arrival: date
    departure: date
    adults: int
    children: int
    first_name: str
    last_name: str
    email: str
    phone: str
    # The price of each night, as loaded for the room rate when the guest booked (or as given).
    prices: dict[date, Decimal]
    currency: str
    room_name: str
    created_at: datetime
    status: Literal["booked", "modified", "cancelled"] = "booked"
    version: int = 1
    # queue -> version waiting there; delivered -> version last handed out by a GET
    pending: dict[Queue, int] = field(default_factory=dict)
    delivered: dict[Queue, int] = field(default_factory=dict)
    # version -> acknowledgements accepted for it (the first one took it off its queue)
    acks: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.prices.values(), Decimal(0))


def _scaled(amount: Decimal) -> str:
    """Documented quirk: ``Rate/Total`` is an integer scaled by ``DecimalPlaces``."""
    return str(int(amount * 10**DECIMAL_PLACES))


def render_into(parent: ET.Element, res: Reservation, element: str) -> None:
    """One ``HotelReservation`` (new) or ``HotelResModify`` (modification/cancellation)."""
    node = ET.SubElement(
        parent,
        element,
        {
            "ResStatus": RES_STATUS[res.status],
            "CreateDateTime": res.created_at.isoformat(timespec="seconds"),
        },
    )
    stays = ET.SubElement(node, "RoomStays")
    stay = ET.SubElement(stays, "RoomStay", {"IndexNumber": "1"})
    types = ET.SubElement(stay, "RoomTypes")
    room_type = ET.SubElement(types, "RoomType", {"RoomTypeCode": res.room_id})
    # 1..1 in the platform's reference: the room's name as the guest saw it.
    description = ET.SubElement(room_type, "RoomDescription", {"Name": res.room_name})
    ET.SubElement(description, "Text").text = res.room_name
    plans = ET.SubElement(stay, "RatePlans")
    ET.SubElement(plans, "RatePlan", {"RatePlanCode": res.rate_id})
    rates = ET.SubElement(stay, "RoomRates")
    for night in stay_nights(res.arrival, res.departure):
        room_rate = ET.SubElement(
            rates,
            "RoomRate",
            {
                "EffectiveDate": night.isoformat(),
                "RatePlanCode": res.rate_id,
            },
        )
        rate = ET.SubElement(ET.SubElement(room_rate, "Rates"), "Rate")
        ET.SubElement(
            rate,
            "Total",
            {
                "AmountAfterTax": _scaled(res.prices[night]),
                "DecimalPlaces": str(DECIMAL_PLACES),
                "CurrencyCode": res.currency,
            },
        )
    counts = ET.SubElement(stay, "GuestCounts")
    ET.SubElement(counts, "GuestCount", {"AgeQualifyingCode": "10", "Count": str(res.adults)})
    if res.children:
        ET.SubElement(counts, "GuestCount", {"AgeQualifyingCode": "8", "Count": str(res.children)})
    total = {"AmountAfterTax": f"{res.total:.2f}", "CurrencyCode": res.currency}
    ET.SubElement(stay, "Total", total)
    ET.SubElement(stay, "BasicPropertyInfo", {"HotelCode": res.hotel_id})
    rphs = ET.SubElement(stay, "ResGuestRPHs")
    ET.SubElement(rphs, "ResGuestRPH", {"RPH": "1"})
    guests = ET.SubElement(node, "ResGuests")
    guest = ET.SubElement(guests, "ResGuest", {"ResGuestRPH": "1"})
    _person(
        ET.SubElement(
            ET.SubElement(
                ET.SubElement(ET.SubElement(guest, "Profiles"), "ProfileInfo"), "Profile"
            ),
            "Customer",
        ),
        res,
        contact=False,
    )
    info = ET.SubElement(node, "ResGlobalInfo")
    ET.SubElement(info, "Total", total)
    ids = ET.SubElement(info, "HotelReservationIDs")
    ET.SubElement(
        ids,
        "HotelReservationID",
        {
            "ResID_Value": res.id,
            "ResID_Date": res.created_at.isoformat(timespec="seconds"),
        },
    )
    profile = ET.SubElement(
        ET.SubElement(ET.SubElement(info, "Profiles"), "ProfileInfo"), "Profile"
    )
    _person(ET.SubElement(profile, "Customer"), res, contact=True)


def _person(customer: ET.Element, res: Reservation, contact: bool) -> None:
    name = ET.SubElement(customer, "PersonName")
    ET.SubElement(name, "GivenName").text = res.first_name
    ET.SubElement(name, "Surname").text = res.last_name
    if contact:
        ET.SubElement(customer, "Telephone", {"PhoneNumber": res.phone})
        ET.SubElement(customer, "Email").text = res.email
