"use client";
// The date picker of a property page: the API's 12-month calendar as month grids (closed days
// crossed out, check-in-only days outlined, min stay named), by mouse or keyboard (arrows move a
// day or a week, Home/End the week, Page Up/Down a month, Enter or Space picks). Picking a stay
// puts it in the URL, and the server quotes it. Without JavaScript the date fields remain.
import { useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import { useMemo, useRef, useState, type KeyboardEvent } from "react";
import { addDays } from "./stay";
import css from "./site.module.css";

export type PickerDay = { date: string; available: boolean; can_check_in: boolean; can_check_out: boolean; min_stay: number | null };
type Props = { agency: string; propertyId: string; days: PickerDay[]; checkIn?: string; checkOut?: string; adults: number; locale: string };

function monthsOf(days: PickerDay[]): string[] {
  return [...new Set(days.map((d) => d.date.slice(0, 7)))];
}

export function StayPicker({ agency, propertyId, days, checkIn, checkOut, adults, locale }: Props) {
  const t = useTranslations("site");
  const router = useRouter();
  const byDate = useMemo(() => new Map(days.map((d) => [d.date, d])), [days]);
  const months = useMemo(() => monthsOf(days), [days]);
  const [start, setStart] = useState<string | undefined>(checkIn);
  const [end, setEnd] = useState<string | undefined>(checkOut);
  const [monthIndex, setMonthIndex] = useState(() => Math.max(0, months.indexOf((checkIn ?? days[0]?.date ?? "").slice(0, 7))));
  const [focus, setFocus] = useState<string>(checkIn ?? days.find((d) => d.can_check_in)?.date ?? days[0]?.date ?? "");
  const [message, setMessage] = useState("");
  const grid = useRef<HTMLDivElement>(null);
  const shown = months.slice(monthIndex, monthIndex + 2);

  const fmt = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeZone: "UTC" });
  const monthName = (m: string) => new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }).format(new Date(`${m}-01T00:00:00Z`));
  const weekdays = [...Array(7)].map((_, i) => new Intl.DateTimeFormat(locale, { weekday: "short", timeZone: "UTC" }).format(new Date(Date.UTC(2024, 0, 1 + i))));

  function nightsFree(from: string, to: string): boolean {
    for (let d = from; d < to; d = addDays(d, 1)) if (!byDate.get(d)?.available) return false;
    return true;
  }

  function pick(date: string) {
    const day = byDate.get(date);
    if (!day) return;
    if (start && !end && date > start) {
      const minStay = byDate.get(start)?.min_stay ?? 1;
      const nights = Math.round((Date.parse(date) - Date.parse(start)) / 86_400_000);
      if (!day.can_check_out || !nightsFree(start, date)) return setMessage(t("pickerNoCheckOut"));
      if (nights < minStay) return setMessage(t("pickerMinStay", { count: minStay }));
      setEnd(date);
      setMessage(t("pickerChosen", { from: fmt.format(new Date(`${start}T00:00:00Z`)), to: fmt.format(new Date(`${date}T00:00:00Z`)) }));
      router.replace(`/${agency}/properties/${propertyId}?check_in=${start}&check_out=${date}&adults=${adults}`, { scroll: false });
      return;
    }
    if (!day.available || !day.can_check_in) return setMessage(t("pickerNoCheckIn"));
    setStart(date);
    setEnd(undefined);
    setMessage(t("pickerCheckInSet", { date: fmt.format(new Date(`${date}T00:00:00Z`)) }));
  }

  function move(date: string) {
    if (!byDate.has(date)) return;
    // A day on screen takes the focus at once (its onFocus records it), so quick key presses
    // each start from the day before; a day of another month is focused once it is drawn.
    const shownButton = grid.current?.querySelector<HTMLButtonElement>(`button[data-date="${date}"]`);
    if (shownButton) return shownButton.focus();
    setFocus(date);
    const idx = months.indexOf(date.slice(0, 7));
    if (idx < monthIndex) setMonthIndex(idx);
    else if (idx > monthIndex + 1) setMonthIndex(idx - 1);
    requestAnimationFrame(() => grid.current?.querySelector<HTMLButtonElement>(`button[data-date="${date}"]`)?.focus());
  }

  function onKey(e: KeyboardEvent<HTMLButtonElement>, date: string) {
    const dow = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
    const step: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7, Home: -dow, End: 6 - dow, PageUp: -28, PageDown: 28 };
    if (e.key in step) {
      e.preventDefault();
      move(addDays(date, step[e.key]!));
    }
  }

  return (
    <div className={css.picker} ref={grid}>
      <div className={css.legend} id="picker-help">
        <span>{t("pickerHelp")}</span>
      </div>
      <div>
        <button type="button" className={css.secondary} onClick={() => setMonthIndex((i) => Math.max(0, i - 1))} disabled={monthIndex === 0}>
          {t("previousMonth")}
        </button>{" "}
        <button type="button" className={css.secondary} onClick={() => setMonthIndex((i) => Math.min(months.length - 2, i + 1))} disabled={monthIndex >= months.length - 2}>
          {t("nextMonth")}
        </button>
      </div>
      <div className={css.months}>
        {shown.map((m) => {
          const first = new Date(`${m}-01T00:00:00Z`);
          const lead = (first.getUTCDay() + 6) % 7;
          const inMonth = days.filter((d) => d.date.startsWith(m));
          const cells: (PickerDay | null)[] = [...Array(lead).fill(null), ...inMonth];
          const rows: (PickerDay | null)[][] = [];
          for (let i = 0; i < cells.length; i += 7) rows.push(cells.slice(i, i + 7));
          return (
            <table key={m} className={css.month} role="grid" aria-describedby="picker-help">
              <caption>{monthName(m)}</caption>
              <thead>
                <tr>
                  {weekdays.map((w) => (
                    <th key={w} scope="col">
                      {w}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row, r) => (
                  <tr key={r}>
                    {row.map((d, c) =>
                      d === null ? (
                        <td key={c} />
                      ) : (
                        <td key={d.date} aria-selected={d.date === start || d.date === end}>
                          <button
                            type="button"
                            className={css.day}
                            data-date={d.date}
                            tabIndex={d.date === focus ? 0 : -1}
                            aria-disabled={!d.available && !d.can_check_out}
                            data-selected={d.date === start || d.date === end}
                            data-inrange={!!(start && end && d.date > start && d.date < end)}
                            data-checkin-only={d.available && d.can_check_in && !d.can_check_out}
                            aria-label={[
                              fmt.format(new Date(`${d.date}T00:00:00Z`)),
                              d.available ? (d.can_check_in ? t("dayOpen") : t("dayNoArrival")) : t("dayClosed"),
                              d.min_stay && d.min_stay > 1 ? t("pickerMinStay", { count: d.min_stay }) : "",
                            ]
                              .filter(Boolean)
                              .join(", ")}
                            onClick={() => pick(d.date)}
                            onKeyDown={(e) => onKey(e, d.date)}
                            onFocus={() => setFocus(d.date)}
                          >
                            {Number(d.date.slice(8))}
                          </button>
                        </td>
                      ),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          );
        })}
      </div>
      <p role="status" aria-live="polite" data-testid="picker-status">
        {message}
      </p>
    </div>
  );
}
