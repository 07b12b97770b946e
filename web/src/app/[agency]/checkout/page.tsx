// Checkout for held dates (/{agency}/checkout?hold=…&expires=…&property=…&check_in=…): the
// stay and its price, then the guest's details and payment (CheckoutForm).
import type { Metadata } from "next";
import { getLocale, getTranslations } from "next-intl/server";
import { notFound } from "next/navigation";
import { formatMoney } from "@/lib/money";
import { CheckoutForm } from "@/site/CheckoutForm";
import { orNotFound, publicApi } from "@/site/server";
import { stayOf } from "@/site/stay";
import css from "@/site/site.module.css";

type Props = { params: Promise<{ agency: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata(): Promise<Metadata> {
  return { title: (await getTranslations("site"))("checkoutTitle"), robots: { index: false } };
}

export default async function Checkout({ params, searchParams }: Props) {
  const { agency } = await params;
  const sp = await searchParams;
  const t = await getTranslations("site");
  const locale = await getLocale();
  const stay = stayOf(sp);
  const hold = typeof sp.hold === "string" ? sp.hold : "";
  const expires = typeof sp.expires === "string" && !Number.isNaN(Date.parse(sp.expires)) ? sp.expires : "";
  const propertyId = typeof sp.property === "string" ? sp.property : "";
  if (!stay || !hold || !expires || !/^[0-9a-f-]{36}$/.test(propertyId)) notFound();
  const api = publicApi();
  const [p, quote] = await Promise.all([
    orNotFound(api.GET("/api/v1/public/{agency}/properties/{property_id}", { params: { path: { agency, property_id: propertyId } } })),
    api.POST("/api/v1/public/{agency}/quotes", {
      params: { path: { agency } },
      body: { property_id: propertyId, check_in: stay.checkIn, check_out: stay.checkOut, adults: stay.adults },
    }),
  ]);
  const dateText = (d: string) => new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).format(new Date(`${d}T00:00:00Z`));
  return (
    <>
      <h1>{t("checkoutTitle")}</h1>
      <div className={css.columns}>
        <section className={css.panel} aria-labelledby="details-heading">
          <h2 id="details-heading">{t("guestDetails")}</h2>
          <CheckoutForm agency={agency} propertyId={propertyId} checkIn={stay.checkIn} checkOut={stay.checkOut} adults={stay.adults} hold={hold} expires={expires} instantBook={p.instant_book} />
        </section>
        <aside className={css.panel} aria-labelledby="summary-heading">
          <h2 id="summary-heading">{p.name}</h2>
          <p>
            {dateText(stay.checkIn)} – {dateText(stay.checkOut)} · {t("adultsCount", { count: stay.adults })}
          </p>
          {quote.data && (
            <p className={css.price}>
              {t("total")}: <span data-testid="checkout-total">{formatMoney(quote.data.total.amount_minor, quote.data.total.currency, locale)}</span>
            </p>
          )}
        </aside>
      </div>
    </>
  );
}
