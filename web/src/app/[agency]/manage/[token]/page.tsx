// The guest's self-service page (linked from the confirmation page and every e-mail): the
// booking, its .ics, and cancellation with the refund shown before it is confirmed.
import type { Metadata } from "next";
import { getLocale, getTranslations } from "next-intl/server";
import Link from "next/link";
import { formatMoney } from "@/lib/money";
import { refundOn, type RefundStep } from "@/lib/refunds";
import { BookingSummary } from "@/site/BookingSummary";
import { redirectCode } from "@/site/problems";
import { bookingByToken } from "@/site/server";
import css from "@/site/site.module.css";

type Props = { params: Promise<{ agency: string; token: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("site"))("manageTitle"), robots: { index: false } };
}

export default async function Manage({ params, searchParams }: Props) {
  const { agency, token } = await params;
  const sp = await searchParams;
  const t = await getTranslations("site");
  const locale = await getLocale();
  const b = await bookingByToken(token);
  const cancellable = b.status === "confirmed" || b.status === "requested";
  const steps = (b.quote as { cancellation?: RefundStep[] } | null)?.cancellation;
  const step = refundOn(steps, new Date().toISOString().slice(0, 10));
  const refund = step ? formatMoney(step.refund.amount_minor, step.refund.currency, locale) : null;
  const code = redirectCode(sp.error);
  const error = code ? t(`problems.${code}`) : null;
  const self = `/${agency}/manage/${token}`;
  return (
    <>
      <h1>{t("manageTitle")}</h1>
      {error && (
        <p role="alert" className={css.alert}>
          {error}
        </p>
      )}
      <BookingSummary b={b} />
      <p>
        <a href={`/api/v1/public/bookings/${token}/calendar.ics`} download={`${b.reference}.ics`} className={css.secondary} data-testid="ics">
          {t("addToCalendar")}
        </a>
      </p>
      {cancellable && (
        <section className={css.panel} aria-labelledby="cancel-heading">
          <h2 id="cancel-heading">{t("cancelTitle")}</h2>
          <p data-testid="refund-preview">{refund !== null ? t("refundIfCancelled", { amount: refund, percent: Math.round(Number(step!.refund_percent)) }) : t("refundUnknown")}</p>
          {sp.cancel === "confirm" ? (
            <form method="post" action={`${self}/cancel`}>
              <p role="alert" className={css.alert}>
                {t("cancelSure")}
              </p>
              <button type="submit" className={css.danger}>
                {t("cancelConfirm")}
              </button>{" "}
              <Link href={self} className={css.secondary}>
                {t("keepBooking")}
              </Link>
            </form>
          ) : (
            <Link href={`${self}?cancel=confirm`} className={css.secondary}>
              {t("cancelBooking")}
            </Link>
          )}
        </section>
      )}
    </>
  );
}
