// After checkout (and back from Stripe's page): confirmed, request sent, or still waiting for
// the payment's confirmation (the page refreshes itself, no JavaScript needed), or the payment
// did not go through (try again, or let the dates go).
import type { Metadata } from "next";
import { getTranslations } from "next-intl/server";
import Link from "next/link";
import { BookingSummary } from "@/site/BookingSummary";
import { bookingByToken, siteOrigin } from "@/site/server";
import css from "@/site/site.module.css";

type Props = { params: Promise<{ agency: string; token: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("site"))("confirmationTitle"), robots: { index: false } };
}

export default async function Confirmation({ params, searchParams }: Props) {
  const { agency, token } = await params;
  const sp = await searchParams;
  const t = await getTranslations("site");
  const b = await bookingByToken(token);
  const redirect = typeof sp.redirect_status === "string" ? sp.redirect_status : null;
  const pay = typeof sp.pay === "string" && /^https?:\/\//.test(sp.pay) ? sp.pay : null;
  const secret = typeof sp.payment_intent_client_secret === "string" ? sp.payment_intent_client_secret : null;
  const waiting = b.status === "hold" && redirect === "succeeded";
  const unpaid = b.status === "hold" && redirect !== "succeeded";
  const back = `${await siteOrigin()}/${agency}/confirmation/${token}?${new URLSearchParams(pay ? { pay } : {})}`;
  const retry = pay && secret ? `${pay}?${new URLSearchParams({ client_secret: secret, return_url: back })}` : null;
  return (
    <>
      {waiting && <meta httpEquiv="refresh" content="2" />}
      <h1>
        {b.status === "confirmed" ? t("confirmedTitle") : b.status === "requested" ? t("requestSentTitle") : waiting ? t("waitingTitle") : unpaid ? t("unpaidTitle") : t("confirmationTitle")}
      </h1>
      {b.status === "confirmed" && (
        <p className={css.ok} role="status" data-testid="confirmed">
          {t("confirmedText")}
        </p>
      )}
      {b.status === "requested" && (
        <p className={css.ok} role="status" data-testid="request-sent">
          {t("requestSentText")}
        </p>
      )}
      {waiting && (
        <p className={css.note} role="status">
          {t("waitingText")}
        </p>
      )}
      {unpaid && (
        <div className={css.alert} role="alert" data-testid="unpaid">
          <p>{t("unpaidText")}</p>
          {retry && (
            <p>
              <a className={css.button} href={retry}>
                {t("payAgain")}
              </a>
            </p>
          )}
        </div>
      )}
      {(b.status === "expired" || b.status === "cancelled") && (
        <p className={css.alert} role="alert" data-testid="hold-gone">
          {t("holdGoneText")}
        </p>
      )}
      <BookingSummary b={b} />
      <p>
        <Link href={`/${agency}/manage/${token}`} className={css.button} data-testid="manage-link">
          {t("manageLink")}
        </Link>
      </p>
    </>
  );
}
