// The refund a cancellation would bring today, from the booking's stored quote (its steps of
// the cancellation policy, computed by the API: [first_day, last_day] inclusive, null = open).
import type { IsoDate } from "./dates";

export type RefundStep = {
  first_day: IsoDate | null;
  last_day: IsoDate | null;
  refund_percent: string;
  refund: { amount_minor: number; currency: string };
};

export function refundOn(steps: RefundStep[] | undefined, day: IsoDate): RefundStep | null {
  for (const s of steps ?? []) {
    if ((s.first_day === null || s.first_day <= day) && (s.last_day === null || day <= s.last_day)) return s;
  }
  return null;
}
