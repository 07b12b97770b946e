"use client";
// Properties as rows, nights as columns, rows virtualised. Free nights are selected with the
// pointer or the keyboard (arrows move, Shift+arrows extend, Enter opens the selection); bars
// are dragged to move a stay (also onto another property's row) or by an edge to change its
// dates (Alt+arrows by keyboard; Alt+Up/Down to the property above or below). Open requests to
// book are drawn dashed; the rates overlay shows each free night's price and minimum stay.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useFormatter, useTranslations } from "next-intl";
import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import { addDays, weekday, type IsoDate } from "@/lib/dates";
import { minorDigits } from "@/lib/money";
import { barsOf, colorKey, moved, requestBarsOf, rowAfterDrag, SOURCE_COLORS, type Bar, type Booking, type DayRate } from "./model";
import css from "./Calendar.module.css";
import type { components } from "@/api/schema";

export const CELL = 40;
export const ROW = 44;
export const NAME = 180;

type PropertyCalendar = components["schemas"]["PropertyCalendar"];
export type Row = { id: string; name: string; currency: string; cal: PropertyCalendar };
export type Selection = { propertyId: string; start: IsoDate; end: IsoDate };
/** A stay's new dates, and its new property when it was dragged to another row. */
export type Move = { booking: Booking; check_in: IsoDate; check_out: IsoDate; property_id?: string };
type Drag = { key: string; mode: "move" | "start" | "end"; x0: number; y0: number; row: number; days: number; rows: number; moved: boolean };
type Pending = { key: string; days: number; rows: number; mode: Drag["mode"] };

type Props = {
  start: IsoDate;
  dates: IsoDate[];
  today: IsoDate;
  rows: Row[];
  bookings: Map<string, Booking>;
  /** The rates overlay: per property, each night's price, minimum stay and closedness. */
  rates?: Map<string, Map<IsoDate, DayRate>>;
  /** Told which properties' rows are on screen (the overlay loads only those). */
  onVisible?: (propertyIds: string[]) => void;
  canSelect: boolean;
  canMove: boolean;
  onSelect: (s: Selection) => void;
  onMove: (m: Move) => Promise<unknown>;
  onOpen: (booking: Booking) => void;
  /** The window's days and bookings are loaded (the bench and tests wait for it). */
  ready?: boolean;
};

export function CalendarGrid(props: Props) {
  const { dates, rows, start } = props;
  const t = useTranslations("calendar");
  const format = useFormatter();
  const scroller = useRef<HTMLDivElement>(null);
  const [focus, setFocus] = useState<{ row: number; col: number }>({ row: 0, col: 0 });
  const [anchor, setAnchor] = useState<{ row: number; col: number } | null>(null);
  const [selecting, setSelecting] = useState(false);
  const [drag, setDrag] = useState<Drag | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const end = addDays(start, dates.length);

  // eslint-disable-next-line react-hooks/incompatible-library -- the grid is not memoised by the compiler
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 6,
  });

  const barsByRow = useMemo(() => rows.map((r) => barsOf(r.cal, start, end)), [rows, start, end]);
  const requestsByRow = useMemo(() => {
    const all = [...props.bookings.values()];
    return rows.map((r) => requestBarsOf(all, r.id, start, end));
  }, [rows, props.bookings, start, end]);

  const selection = useMemo(() => {
    if (!anchor) return null;
    if (anchor.row !== focus.row) return null;
    const a = Math.min(anchor.col, focus.col);
    const b = Math.max(anchor.col, focus.col);
    return { row: anchor.row, from: a, to: b };
  }, [anchor, focus]);

  const free = useCallback((row: number, col: number) => rows[row]?.cal.days[col]?.status === "free", [rows]);
  const selectionFree = useCallback(
    (row: number, from: number, to: number) => {
      for (let c = from; c <= to; c++) if (!free(row, c)) return false;
      return true;
    },
    [free],
  );

  const focusCell = useCallback((row: number, col: number) => {
    const r = Math.max(0, Math.min(rows.length - 1, row));
    const c = Math.max(0, Math.min(dates.length - 1, col));
    setFocus({ row: r, col: c });
    virtualizer.scrollToIndex(r, { align: "auto" });
    // Focus now when the cell is rendered (fast key repeats must each move one cell); a row
    // that the virtualiser has still to render gets focus on the next frame.
    const cell = () => scroller.current?.querySelector<HTMLElement>(`[data-cell="${r}:${c}"]`);
    const now = cell();
    if (now) now.focus();
    else requestAnimationFrame(() => cell()?.focus());
  }, [rows.length, dates.length, virtualizer]);

  const commitSelection = useCallback((row: number, from: number, to: number) => {
    const r = rows[row];
    if (!r || !props.canSelect || !selectionFree(row, from, to)) return;
    props.onSelect({ propertyId: r.id, start: dates[from]!, end: addDays(dates[to]!, 1) });
  }, [rows, dates, props, selectionFree]);

  const onCellKey = (e: KeyboardEvent<HTMLButtonElement>, row: number, col: number) => {
    const moves: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0], Home: [0, -col], End: [0, dates.length - 1 - col], PageDown: [10, 0], PageUp: [-10, 0] };
    const delta = moves[e.key];
    if (delta) {
      e.preventDefault();
      if (e.shiftKey && delta[0] === 0) {
        if (!anchor || anchor.row !== row) setAnchor({ row, col });
      } else setAnchor(null);
      focusCell(row + delta[0], col + delta[1]);
      return;
    }
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      if (selection && selection.row === row) commitSelection(row, selection.from, selection.to);
      else commitSelection(row, col, col);
    }
    if (e.key === "Escape") setAnchor(null);
  };

  // Pointer selection: press on a free night, drag along the row, release.
  const onCellDown = (e: PointerEvent<HTMLButtonElement>, row: number, col: number) => {
    if (e.button !== 0 || !free(row, col)) return;
    setAnchor({ row, col });
    setFocus({ row, col });
    setSelecting(true);
  };
  const onCellEnter = (row: number, col: number) => {
    if (selecting && anchor && anchor.row === row) setFocus({ row, col });
  };
  useEffect(() => {
    if (!selecting) return;
    const up = () => {
      setSelecting(false);
      setAnchor((a) => {
        if (a) {
          setFocus((f) => {
            if (f.row === a.row) commitSelection(a.row, Math.min(a.col, f.col), Math.max(a.col, f.col));
            return f;
          });
        }
        return null;
      });
    };
    window.addEventListener("pointerup", up, { once: true });
    return () => window.removeEventListener("pointerup", up);
  }, [selecting, commitSelection]);

  const tryMove = async (bar: Bar, mode: Drag["mode"], days: number, fromRow: number, rowDelta = 0) => {
    const booking = bar.bookingId ? props.bookings.get(bar.bookingId) : undefined;
    if (!booking) return;
    const target = mode === "move" ? rows[rowAfterDrag(fromRow, rowDelta * ROW, ROW, rows.length)] : undefined;
    const otherProperty = target && target.id !== booking.property_id ? target.id : undefined;
    const next = moved(booking, mode, days, addDays) ?? (otherProperty ? { check_in: booking.check_in, check_out: booking.check_out } : null);
    if (!next) return;
    setPending({ key: bar.key, days, rows: otherProperty ? rowDelta : 0, mode });
    try {
      await props.onMove({ booking, ...next, ...(otherProperty ? { property_id: otherProperty } : {}) });
    } finally {
      setPending(null);
    }
  };

  const onBarDown = (e: PointerEvent<HTMLElement>, bar: Bar, row: number) => {
    if (e.button !== 0) return;
    e.stopPropagation();
    const rect = e.currentTarget.getBoundingClientRect();
    const offset = e.clientX - rect.left;
    const mode: Drag["mode"] = offset < 8 ? "start" : offset > rect.width - 8 ? "end" : "move";
    e.currentTarget.setPointerCapture(e.pointerId);
    setDrag({ key: bar.key, mode, x0: e.clientX, y0: e.clientY, row, days: 0, rows: 0, moved: false });
  };
  const onBarMove = (e: PointerEvent<HTMLElement>) => {
    if (!drag) return;
    const dx = e.clientX - drag.x0;
    const dy = e.clientY - drag.y0;
    const days = Math.round(dx / CELL);
    // Only a whole stay changes property; an edge changes dates only.
    const rowsMoved = drag.mode === "move" ? rowAfterDrag(drag.row, dy, ROW, rows.length) - drag.row : 0;
    const far = Math.abs(dx) > 4 || Math.abs(dy) > 4;
    if (days !== drag.days || rowsMoved !== drag.rows || (!drag.moved && far)) setDrag({ ...drag, days, rows: rowsMoved, moved: drag.moved || far });
  };
  const onBarUp = (bar: Bar) => {
    if (!drag) return;
    const d = drag;
    setDrag(null);
    if (!d.moved) {
      const booking = bar.bookingId ? props.bookings.get(bar.bookingId) : undefined;
      if (booking) props.onOpen(booking);
      return;
    }
    if ((d.days !== 0 || d.rows !== 0) && props.canMove) void tryMove(bar, d.mode, d.days, d.row, d.rows);
  };
  const onBarKey = (e: KeyboardEvent<HTMLElement>, bar: Bar, row: number) => {
    const booking = bar.bookingId ? props.bookings.get(bar.bookingId) : undefined;
    if (!booking) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      props.onOpen(booking);
    } else if (props.canMove && e.altKey && (e.key === "ArrowLeft" || e.key === "ArrowRight")) {
      e.preventDefault();
      void tryMove(bar, e.shiftKey ? "end" : "move", e.key === "ArrowLeft" ? -1 : 1, row);
    } else if (props.canMove && e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown") && bar.kind !== "request") {
      e.preventDefault();
      void tryMove(bar, "move", 0, row, e.key === "ArrowUp" ? -1 : 1);
    }
  };

  const describe = (bar: Bar, booking: Booking | undefined) =>
    describeBar(bar, booking, t, (d) => format.dateTime(new Date(`${d}T00:00:00Z`), { dateStyle: "medium", timeZone: "UTC" }));
  // Rows get one stable set of handlers that call the latest ones, so a scroll re-renders only
  // the rows that appear, not every visible row.
  const latest = useRef<Handlers | null>(null);
  useEffect(() => {
    latest.current = {
      onCellDown, onCellEnter, onCellKey, onBarDown, onBarMove, onBarUp, onBarKey, onOpen: props.onOpen, describe,
      onCellFocus: (row, col) => setFocus({ row, col }),
    };
  });
  const handlers = useMemo<Handlers>(() => ({
    onCellDown: (...a) => latest.current?.onCellDown(...a),
    onCellEnter: (...a) => latest.current?.onCellEnter(...a),
    onCellKey: (...a) => latest.current?.onCellKey(...a),
    onCellFocus: (...a) => latest.current?.onCellFocus(...a),
    onBarDown: (...a) => latest.current?.onBarDown(...a),
    onBarMove: (...a) => latest.current?.onBarMove(...a),
    onBarUp: (...a) => latest.current?.onBarUp(...a),
    onBarKey: (...a) => latest.current?.onBarKey(...a),
    onOpen: (...a) => latest.current?.onOpen(...a),
    describe: (...a) => latest.current?.describe(...a) ?? "",
  }), []);

  const width = NAME + dates.length * CELL;
  const items = virtualizer.getVirtualItems();
  const visibleIds = items.map((vi) => rows[vi.index]?.id ?? "").join(",");
  const onVisible = props.onVisible;
  useEffect(() => {
    onVisible?.(visibleIds ? visibleIds.split(",") : []);
  }, [visibleIds, onVisible]);

  return (
    <div
      ref={scroller}
      className={css.scroller}
      role="region"
      aria-label={t("gridLabel")}
      aria-describedby="calendar-help"
      data-testid="calendar-grid"
      data-ready={props.ready ? "1" : undefined}
    >
      <div style={{ width, height: virtualizer.getTotalSize() + 48, position: "relative" }}>
        <Header dates={dates} today={props.today} width={width} />
        {items.map((vi) => {
          const row = rows[vi.index]!;
          return (
            <CalendarRow
              key={row.id}
              index={vi.index}
              top={vi.start + 48}
              row={row}
              dates={dates}
              bars={barsByRow[vi.index] ?? []}
              requests={requestsByRow[vi.index] ?? NO_BARS}
              bookings={props.bookings}
              rates={props.rates?.get(row.id)}
              focus={focus.row === vi.index ? focus.col : -1}
              selection={selection && selection.row === vi.index ? selection : null}
              drag={drag}
              pending={pending}
              canMove={props.canMove}
              width={width}
              h={handlers}
            />
          );
        })}
      </div>
    </div>
  );
}

const NO_BARS: Bar[] = [];

const Header = memo(function Header({ dates, today, width }: { dates: IsoDate[]; today: IsoDate; width: number }) {
  const t = useTranslations("calendar");
  const format = useFormatter();
  return (
    <div className={css.header} style={{ width, height: 48 }}>
      <div className={css.corner} style={{ width: NAME, minWidth: NAME }}>{t("property")}</div>
      {dates.map((d) => {
        const wd = weekday(d);
        return (
          <div
            key={d}
            className={[css.dayHead, wd === 0 || wd === 6 ? css.weekend : "", d === today ? css.today : "", d.endsWith("-01") ? css.monthStart : ""].join(" ")}
            style={{ width: CELL, minWidth: CELL }}
            title={format.dateTime(new Date(`${d}T00:00:00Z`), { dateStyle: "full", timeZone: "UTC" })}
          >
            {format.dateTime(new Date(`${d}T00:00:00Z`), { weekday: "narrow", timeZone: "UTC" })}
            <strong>{Number(d.slice(8, 10))}</strong>
          </div>
        );
      })}
    </div>
  );
});

type Translate = ReturnType<typeof useTranslations<"calendar">>;

function describeBar(bar: Bar, booking: Booking | undefined, t: Translate, date: (d: IsoDate) => string): string {
  const when = `${date(bar.start)} – ${date(bar.end)}`;
  if (bar.kind === "block") return `${bar.label.startsWith("ical") ? t("icalBlock") : t("block")}: ${when}`;
  if (bar.kind === "request") return [t("request"), bar.label, booking?.guest?.last_name, when].filter(Boolean).join(", ");
  const guest = booking?.guest ? [booking.guest.first_name, booking.guest.last_name].filter(Boolean).join(" ") : "";
  const status = booking ? t(`status.${booking.status}`) : bar.kind === "hold" ? t("status.hold") : "";
  const source = booking ? t(`source.${booking.source}`) : "";
  return [bar.label, guest, when, status, source].filter(Boolean).join(", ");
}

type RowProps = {
  index: number;
  top: number;
  row: Row;
  dates: IsoDate[];
  bars: Bar[];
  requests: Bar[];
  bookings: Map<string, Booking>;
  rates: Map<IsoDate, DayRate> | undefined;
  focus: number;
  selection: { from: number; to: number } | null;
  drag: Drag | null;
  pending: Pending | null;
  canMove: boolean;
  width: number;
  h: Handlers;
};

type Handlers = {
  onCellDown: (e: PointerEvent<HTMLButtonElement>, row: number, col: number) => void;
  onCellEnter: (row: number, col: number) => void;
  onCellKey: (e: KeyboardEvent<HTMLButtonElement>, row: number, col: number) => void;
  onCellFocus: (row: number, col: number) => void;
  onBarDown: (e: PointerEvent<HTMLElement>, bar: Bar, row: number) => void;
  onBarMove: (e: PointerEvent<HTMLElement>) => void;
  onBarUp: (bar: Bar) => void;
  onBarKey: (e: KeyboardEvent<HTMLElement>, bar: Bar, row: number) => void;
  onOpen: (booking: Booking) => void;
  describe: (bar: Bar, booking: Booking | undefined) => string;
};

const CalendarRow = memo(function CalendarRow(p: RowProps) {
  const t = useTranslations("calendar");
  const format = useFormatter();
  const h = p.h;
  const digits = p.rates ? minorDigits(p.row.currency) : 0;
  const rateText = (r: DayRate) =>
    [
      format.number(r.price / 10 ** digits, { style: "currency", currency: p.row.currency }),
      t("minStayLong", { nights: r.minStay }),
      r.closed ? t("closed") : "",
    ].filter(Boolean).join(", ");
  return (
    <div className={css.row} style={{ top: p.top, height: ROW, width: p.width }} data-testid="calendar-row" data-property={p.row.id}>
      <div className={css.name} style={{ width: NAME, minWidth: NAME }} title={p.row.name}>{p.row.name}</div>
      <div className={css.cells} style={{ width: p.dates.length * CELL }}>
        {p.dates.map((d, col) => {
          const wd = weekday(d);
          const day = p.row.cal.days[col];
          const isFree = day?.status === "free";
          const selected = p.selection && col >= p.selection.from && col <= p.selection.to;
          const rate = p.rates?.get(d);
          return (
            <button
              type="button"
              key={d}
              data-cell={`${p.index}:${col}`}
              data-date={d}
              tabIndex={p.focus === col || (p.focus < 0 && p.index === 0 && col === 0) ? 0 : -1}
              aria-label={`${p.row.name}, ${d}, ${isFree ? t("free") : t("taken")}${rate ? `, ${rateText({ ...rate, closed: rate.closed && isFree })}` : ""}`}
              aria-pressed={selected ? true : undefined}
              className={[css.cell, wd === 0 || wd === 6 ? css.cellWeekend : "", selected ? css.selected : "", rate?.closed && isFree ? css.cellClosed : ""].join(" ")}
              data-price={rate?.price}
              data-min-stay={rate?.minStay}
              style={{ width: CELL, minWidth: CELL, height: ROW - 1 }}
              onPointerDown={(e) => h.onCellDown(e, p.index, col)}
              onPointerEnter={() => h.onCellEnter(p.index, col)}
              onKeyDown={(e) => h.onCellKey(e, p.index, col)}
              onFocus={() => h.onCellFocus(p.index, col)}
            >
              {rate && isFree && (
                <span className={css.rate} aria-hidden>
                  <span>{Math.round(rate.price / 10 ** digits)}</span>
                  {rate.minStay > 1 && <span className={css.minStay}>{t("minStayShort", { nights: rate.minStay })}</span>}
                </span>
              )}
            </button>
          );
        })}
        {p.requests.map((bar) => {
          const booking = p.bookings.get(bar.bookingId!);
          const colors = SOURCE_COLORS[colorKey(bar, booking)];
          const text = h.describe(bar, booking);
          return (
            <button
              type="button"
              key={bar.key}
              className={[css.bar, css.barRequest, bar.clippedStart ? css.clipStart : "", bar.clippedEnd ? css.clipEnd : ""].join(" ")}
              data-testid="calendar-request"
              data-booking={bar.bookingId ?? undefined}
              data-status={booking?.status}
              data-start={bar.start}
              data-end={bar.end}
              aria-label={text}
              title={text}
              style={{ left: bar.col * CELL + 2, width: bar.span * CELL - 4, borderColor: colors.bg, color: "#212529" }}
              onClick={() => booking && h.onOpen(booking)}
              onKeyDown={(e) => h.onBarKey(e, bar, p.index)}
            >
              <span style={{ overflow: "hidden", textOverflow: "ellipsis" }}>{booking?.guest?.last_name ?? bar.label}</span>
            </button>
          );
        })}
        {p.bars.map((bar) => {
          const booking = bar.bookingId ? p.bookings.get(bar.bookingId) : undefined;
          const colors = SOURCE_COLORS[colorKey(bar, booking)];
          const live = p.drag?.key === bar.key ? p.drag : p.pending?.key === bar.key ? p.pending : null;
          let col = bar.col;
          let span = bar.span;
          const rowShift = live && "rows" in live ? live.rows : 0;
          if (live && live.days) {
            if (live.mode === "move") col += live.days;
            else if (live.mode === "start") { col += live.days; span -= live.days; }
            else span += live.days;
            span = Math.max(1, span);
          }
          const movable = p.canMove && bar.kind !== "block" && !!booking;
          const cls = [
            css.bar,
            bar.kind === "hold" ? css.barHold : "",
            bar.kind === "block" ? css.barBlock : "",
            booking?.status === "checked_in" ? css.barCheckedIn : "",
            booking?.status === "checked_out" ? css.barCheckedOut : "",
            p.drag?.key === bar.key && p.drag.moved ? css.barDragging : "",
            p.pending?.key === bar.key ? css.barPending : "",
            bar.clippedStart ? css.clipStart : "",
            bar.clippedEnd ? css.clipEnd : "",
          ].join(" ");
          const label = bar.kind === "block"
            ? (bar.label.startsWith("ical") ? t("icalBlock") : t("block"))
            : booking?.guest?.last_name ?? bar.label;
          const text = h.describe(bar, booking);
          return (
            <button
              type="button"
              key={bar.key}
              className={cls}
              data-testid="calendar-bar"
              data-booking={bar.bookingId ?? undefined}
              data-block={bar.blockId ?? undefined}
              data-source={booking?.source ?? (bar.kind === "block" ? "block" : undefined)}
              data-status={booking?.status ?? bar.kind}
              data-start={bar.start}
              data-end={bar.end}
              tabIndex={bar.kind === "block" ? -1 : 0}
              aria-label={text}
              title={text}
              style={{ left: col * CELL + 2, width: span * CELL - 4, background: colors.bg, color: colors.fg, cursor: movable ? undefined : "pointer", transform: rowShift ? `translateY(${rowShift * ROW}px)` : undefined }}
              onPointerDown={(e) => (movable ? h.onBarDown(e, bar, p.index) : undefined)}
              onPointerMove={h.onBarMove}
              onPointerUp={() => h.onBarUp(bar)}
              onClick={() => { if (!movable && booking) h.onOpen(booking); }}
              onKeyDown={(e) => h.onBarKey(e, bar, p.index)}
            >
              {movable && <span className={`${css.edge} ${css.edgeStart}`} aria-hidden />}
              <span style={{ overflow: "hidden", textOverflow: "ellipsis" }}>{label}</span>
              {movable && <span className={`${css.edge} ${css.edgeEnd}`} aria-hidden />}
            </button>
          );
        })}
      </div>
    </div>
  );
});

export function Legend() {
  const t = useTranslations("calendar");
  const keys = ["direct", "airbnb", "booking_com", "expedia", "fewo_direkt", "google", "ical", "manual"] as const;
  return (
    <div style={{ display: "flex", flexWrap: "wrap", gap: 12 }} aria-label={t("legend")} role="list">
      {keys.map((k) => (
        <span key={k} className={css.legend} role="listitem">
          <span className={css.swatch} style={{ background: SOURCE_COLORS[k].bg }} />
          {t(`source.${k}`)}
        </span>
      ))}
      <span className={css.legend} role="listitem"><span className={css.swatch} style={{ background: SOURCE_COLORS.ical_block.bg }} />{t("icalBlock")}</span>
      <span className={css.legend} role="listitem"><span className={css.swatch} style={{ background: SOURCE_COLORS.block.bg }} />{t("block")}</span>
      <span className={css.legend} role="listitem"><span className={css.swatch} style={{ border: "2px dashed #495057", boxSizing: "border-box" }} />{t("request")}</span>
    </div>
  );
}

