// A booking as the guest sees it (confirmation and self-service pages).
import { getLocale, getTranslations } from "next-intl/server";
import { formatMoney } from "@/lib/money";
import type { PublicBooking } from "./server";
import css from "./site.module.css";

type Line = { label: string; amount: { amount_minor: number; currency: string }; quantity?: number };

export async function BookingSummary({ b }: { b: PublicBooking }) {
  const t = await getTranslations("site");
  const locale = await getLocale();
  const dateText = (d: string) => new Intl.DateTimeFormat(locale, { dateStyle: "full", timeZone: "UTC" }).format(new Date(`${d}T00:00:00Z`));
  const quote = b.quote as { lines?: Line[]; total?: { amount_minor: number; currency: string } } | null;
  return (
    <section className={css.panel} aria-labelledby="booking-heading">
      <h2 id="booking-heading">{b.property_name}</h2>
      <dl>
        <dt>{t("reference")}</dt>
        <dd data-testid="reference">{b.reference}</dd>
        <dt>{t("status")}</dt>
        <dd data-testid="booking-status">{t(`statuses.${b.status}`)}</dd>
        <dt>{t("dates")}</dt>
        <dd>
          {dateText(b.check_in)} – {dateText(b.check_out)} ({t("nights", { count: b.nights })})
        </dd>
        <dt>{t("guests")}</dt>
        <dd>{t("adultsCount", { count: b.adults })}</dd>
        {b.guest_name && (
          <>
            <dt>{t("guestName")}</dt>
            <dd>{b.guest_name}</dd>
          </>
        )}
      </dl>
      {quote?.lines && quote.total && (
        <table className={css.lines}>
          <tbody>
            {quote.lines.map((l, i) => (
              <tr key={i}>
                <th scope="row">{l.label}</th>
                <td>{formatMoney(l.amount.amount_minor, l.amount.currency, locale)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{t("total")}</th>
              <td data-testid="booking-total">{formatMoney(quote.total.amount_minor, quote.total.currency, locale)}</td>
            </tr>
          </tfoot>
        </table>
      )}
      {b.refund && (
        <p className={css.ok} data-testid="refund-given">
          {t("refundGiven", { amount: formatMoney(b.refund.amount_minor, b.refund.currency, locale) })}
        </p>
      )}
    </section>
  );
}
