// Bulk edit of rates over [from, to) on chosen weekdays: the nights as few half-open ranges.
import { addDays, range, weekday, type IsoDate } from "./dates";

export function weekdayRanges(from: IsoDate, to: IsoDate, weekdays: ReadonlySet<number>): { start: IsoDate; end: IsoDate }[] {
  const out: { start: IsoDate; end: IsoDate }[] = [];
  for (const d of range(from, to)) {
    if (!weekdays.has(weekday(d))) continue;
    const last = out[out.length - 1];
    if (last && last.end === d) last.end = addDays(d, 1);
    else out.push({ start: d, end: addDays(d, 1) });
  }
  return out;
}
