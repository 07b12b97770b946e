"""State-based reconciliation of one import feed: which blocks to add and remove, or hold.

A feed is a *state* (the nights it marks occupied), not a stream of changes, so each successful
fetch replaces the feed's previous blocks. Matching is on dates: the feed's events are merged into
maximal ranges and a previous block survives only if a new range has exactly its dates. UIDs are
ignored because some platforms (Booking.com) change them between fetches for the same stay.

Only ranges that still matter are reconciled: a range ending on or before ``today`` (its last
night is over) is neither added nor removed, so feeds that drop their history do not rewrite ours.
The same window is used for the safety rule: a feed that used to hold current or future nights and
now holds none is treated as broken and held, because wrongly freeing nights causes double bookings
while a wrongly kept block only costs a sale until someone looks at the alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from pms.channel.ical.fetch import FetchError, NotModified
from pms.channel.ical.parse import ParsedFeed, ParseError
from pms.channel.ical.ranges import NightRange, merge_ranges

BlockId = UUID | int | str


@dataclass(frozen=True)
class FeedBlock:
    """A block this feed created earlier."""

    id: BlockId
    nights: NightRange


@dataclass(frozen=True)
class SyncPlan:
    """What to write in one transaction; ``past`` blocks are history and stay as they are."""

    add: tuple[NightRange, ...] = ()
    remove: tuple[FeedBlock, ...] = ()
    unchanged: tuple[FeedBlock, ...] = ()
    past: tuple[FeedBlock, ...] = ()

    @property
    def is_noop(self) -> bool:
        return not self.add and not self.remove


class HoldReason(StrEnum):
    FETCH_FAILED = "fetch_failed"
    UNPARSEABLE = "unparseable"
    SUDDENLY_EMPTY = "suddenly_empty"


@dataclass(frozen=True)
class Apply:
    plan: SyncPlan


@dataclass(frozen=True)
class Hold:
    """Keep every previous block and raise an alert; ``detail`` is safe to show (no URL)."""

    reason: HoldReason
    detail: str


Decision = Apply | Hold
FeedOutcome = ParsedFeed | NotModified | FetchError | ParseError


def decide(
    previous: Sequence[FeedBlock],
    outcome: FeedOutcome,
    *,
    today: date,
    accept_empty: bool = False,
) -> Decision:
    """The decision for one sync attempt.

    ``accept_empty`` is for a person who confirmed that the feed really is empty now (listing
    removed); the scheduler never sets it.
    """
    if isinstance(outcome, FetchError):
        return Hold(HoldReason.FETCH_FAILED, f"{outcome.kind}: {outcome.detail}")
    if isinstance(outcome, ParseError):
        return Hold(HoldReason.UNPARSEABLE, str(outcome))
    if isinstance(outcome, NotModified):
        # Nothing changed upstream, so nothing is rewritten (not even duplicates we might hold).
        current = tuple(b for b in previous if _is_current(b.nights, today))
        past = tuple(b for b in previous if not _is_current(b.nights, today))
        return Apply(SyncPlan(unchanged=current, past=past))
    current_previous = [b for b in previous if _is_current(b.nights, today)]
    current_new = [r for r in outcome.ranges if _is_current(r, today)]
    if current_previous and not current_new and not accept_empty:
        nights = sum(b.nights.nights for b in current_previous)
        return Hold(
            HoldReason.SUDDENLY_EMPTY,
            f"feed has no current events but held {len(current_previous)} range(s), "
            f"{nights} night(s); {outcome.vevents_seen} event(s) in the body",
        )
    return Apply(plan_sync(previous, outcome.ranges, today=today))


def plan_sync(
    previous: Sequence[FeedBlock], ranges: Iterable[NightRange], *, today: date
) -> SyncPlan:
    """Diff the previous blocks against the feed's ranges, keyed on exact dates."""
    wanted = [r for r in merge_ranges(ranges) if _is_current(r, today)]
    open_ranges = set(wanted)
    unchanged: list[FeedBlock] = []
    remove: list[FeedBlock] = []
    past: list[FeedBlock] = []
    for block in sorted(previous, key=lambda b: (b.nights, str(b.id))):
        if not _is_current(block.nights, today):
            past.append(block)
        elif block.nights in open_ranges:
            open_ranges.discard(block.nights)  # a duplicate block with the same dates is removed
            unchanged.append(block)
        else:
            remove.append(block)
    add = tuple(r for r in wanted if r in open_ranges)
    return SyncPlan(add=add, remove=tuple(remove), unchanged=tuple(unchanged), past=tuple(past))


def _is_current(nights: NightRange, today: date) -> bool:
    """Tonight or later is still sellable; a range whose checkout is today or earlier is over."""
    return nights.end > today
