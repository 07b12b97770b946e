// A property's page: photos, description, amenities, house rules, the date picker over the
// API's 12-month calendar and, for a stay in the URL (?check_in&check_out&adults, Google
// Vacation Rentals' landing template too), the quote line by line with the cancellation terms
// and a form that holds the dates. schema.org VacationRental markup for crawlers.
import type { Metadata } from "next";
import { getLocale, getTranslations } from "next-intl/server";
import Image from "next/image";
import { formatMoney } from "@/lib/money";
import { ldScript, vacationRental } from "@/site/jsonld";
import { reasonProblems, redirectCode, stayProblems, type Refusal, type SiteProblem } from "@/site/problems";
import { notFound } from "next/navigation";
import { orNotFound, photoPath, publicApi, siteOrigin, type PublicProperty } from "@/site/server";
import { addDays, adultsOf, policyPhrases, stayOf } from "@/site/stay";
import { StayPicker } from "@/site/StayPicker";
import css from "@/site/site.module.css";

type Props = { params: Promise<{ agency: string; id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function property(agency: string, id: string): Promise<PublicProperty> {
  if (!UUID.test(id)) notFound();
  return orNotFound(publicApi().GET("/api/v1/public/{agency}/properties/{property_id}", { params: { path: { agency, property_id: id } } }));
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { agency, id } = await params;
  const p = await property(agency, id);
  return { title: p.name, description: p.description?.slice(0, 160) ?? undefined, alternates: { canonical: `/${agency}/properties/${id}` } };
}

export default async function PropertyPage({ params, searchParams }: Props) {
  const { agency, id } = await params;
  const sp = await searchParams;
  const t = await getTranslations("site");
  const ta = await getTranslations("properties.amenity");
  const locale = await getLocale();
  const api = publicApi();
  const p = await property(agency, id);
  const stay = stayOf(sp);
  const adults = adultsOf(sp);
  const today = new Date().toISOString().slice(0, 10);
  const [calendar, quote] = await Promise.all([
    api.GET("/api/v1/public/{agency}/properties/{property_id}/calendar", {
      params: { path: { agency, property_id: id }, query: { start: today, end: addDays(today, 365) } },
    }),
    stay
      ? api.POST("/api/v1/public/{agency}/quotes", {
          params: { path: { agency } },
          body: { property_id: id, check_in: stay.checkIn, check_out: stay.checkOut, adults: stay.adults },
        })
      : Promise.resolve(null),
  ]);
  const days = calendar.data?.days ?? [];
  const q = quote?.data;
  const quoteProblems = quote && !quote.response.ok ? stayProblems(quote.response.status, quote.error as Refusal) : [];
  const money = (m: { amount_minor: number; currency: string }) => formatMoney(m.amount_minor, m.currency, locale);
  const dateText = (d: string) => new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).format(new Date(`${d}T00:00:00Z`));
  const origin = await siteOrigin();
  const ld = vacationRental(p, `${origin}/${agency}/properties/${id}`, (photo) => `${origin}${photoPath(agency, photo)}`);
  const code = redirectCode(sp.error);
  const error = code ? t(`problems.${code}`) : null;
  const said = (p: SiteProblem) =>
    t(`problems.${p.key}`, { ...p.values, ...(p.values?.day ? { day: dateText(String(p.values.day)) } : {}) });
  const time = (s: string) => s.slice(0, 5);

  return (
    <article>
      <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: ldScript(ld) }} />
      <h1>{p.name}</h1>
      <p className={css.muted}>
        {[p.city, p.country].filter(Boolean).join(", ")} · {t("sleeps", { count: p.max_guests })} · {t("bedrooms", { count: p.bedrooms })}
        {Number(p.bathrooms) > 0 && ` · ${t("bathrooms", { count: Number(p.bathrooms) })}`}
      </p>
      {p.photos.length > 0 && (
        <div className={css.gallery}>
          {p.photos.map((ph, i) => (
            <Image
              key={ph.id}
              src={photoPath(agency, ph.id)}
              alt={ph.caption ?? t("photoOf", { name: p.name, n: i + 1 })}
              width={640}
              height={427}
              sizes="(max-width: 600px) 100vw, (max-width: 1100px) 50vw, 360px"
              priority={i === 0}
            />
          ))}
        </div>
      )}
      <div className={css.columns}>
        <div>
          {p.description && (
            <section>
              <h2>{t("about")}</h2>
              <p style={{ whiteSpace: "pre-line" }}>{p.description}</p>
            </section>
          )}
          {p.amenities.length > 0 && (
            <section>
              <h2>{t("amenities")}</h2>
              <ul data-testid="amenities">
                {p.amenities.map((a) => (
                  <li key={a}>{ta.has(a) ? ta(a) : a}</li>
                ))}
              </ul>
            </section>
          )}
          <section>
            <h2>{t("houseRules")}</h2>
            <ul>
              <li>{t("ruleCheckIn", { time: time(p.check_in_time) })}</li>
              <li>{t("ruleCheckOut", { time: time(p.check_out_time) })}</li>
              <li>{t("ruleGuests", { count: p.max_guests })}</li>
              <li>{p.instant_book ? t("ruleInstant") : t("ruleRequest")}</li>
            </ul>
          </section>
          <section>
            <h2>{t("cancellation")}</h2>
            {q && q.cancellation.length > 0 ? (
              <ul data-testid="policy">
                {policyPhrases(q.cancellation).map((s, i) => (
                  <li key={i}>{s.kind === "always" ? t("policyAlways", { percent: s.percent }) : t(s.kind === "until" ? "policyUntil" : "policyFrom", { percent: s.percent, date: dateText(s.day!) })}</li>
                ))}
              </ul>
            ) : (
              <p>{t("policyPickDates")}</p>
            )}
          </section>
        </div>
        <aside className={css.panel} aria-labelledby="book-heading">
          <h2 id="book-heading">{p.from_price_minor != null ? t("fromPerNight", { price: formatMoney(p.from_price_minor, p.currency, locale) }) : t("yourStay")}</h2>
          <form method="get" action={`/${agency}/properties/${id}`} className={css.search}>
            <label className={css.field}>
              {t("checkIn")}
              <input type="date" name="check_in" defaultValue={stay?.checkIn ?? ""} min={today} required />
            </label>
            <label className={css.field}>
              {t("checkOut")}
              <input type="date" name="check_out" defaultValue={stay?.checkOut ?? ""} min={today} required />
            </label>
            <label className={css.field}>
              {t("adults")}
              <input type="number" name="adults" min={1} max={p.max_guests} defaultValue={adults} />
            </label>
            <button type="submit" className={css.secondary}>
              {t("showPrice")}
            </button>
          </form>
          {days.length > 0 && <StayPicker agency={agency} propertyId={id} days={days} checkIn={stay?.checkIn} checkOut={stay?.checkOut} adults={adults} locale={locale} />}
          {error && (
            <p role="alert" className={css.alert}>
              {error}
            </p>
          )}
          {quoteProblems.length > 0 && (
            <div role="alert" className={css.alert} data-testid="quote-problem">
              {quoteProblems.map((p) => (
                <p key={p.key}>{said(p)}</p>
              ))}
            </div>
          )}
          {q && (
            <section aria-labelledby="quote-heading" data-testid="quote">
              <h3 id="quote-heading">{t("quoteFor", { nights: q.nights, from: dateText(q.check_in), to: dateText(q.check_out) })}</h3>
              {q.bookable && (
              <table className={css.lines}>
                <tbody>
                  {q.lines.map((l, i) => (
                    <tr key={i}>
                      <th scope="row">{l.quantity > 1 ? `${l.label} × ${l.quantity}` : l.label}</th>
                      <td>{money(l.amount)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row">{t("total")}</th>
                    <td data-testid="quote-total">{money(q.total)}</td>
                  </tr>
                </tfoot>
              </table>
              )}
              {q.bookable && q.taxes.filter((x) => x.inclusive).map((x) => (
                <p key={x.tax_class} className={css.muted}>
                  {t("inclusiveTax", { label: x.label, amount: money(x.amount) })}
                </p>
              ))}
              {q.bookable ? (
                <form method="post" action={`/${agency}/hold`}>
                  <input type="hidden" name="property_id" value={id} />
                  <input type="hidden" name="check_in" value={q.check_in} />
                  <input type="hidden" name="check_out" value={q.check_out} />
                  <input type="hidden" name="adults" value={q.adults} />
                  <div className={css.honeypot} aria-hidden="true">
                    <label>
                      Website
                      <input type="text" name="website" tabIndex={-1} autoComplete="off" />
                    </label>
                  </div>
                  <button type="submit" className={css.button}>
                    {p.instant_book ? t("bookNow") : t("requestToBook")}
                  </button>
                </form>
              ) : (
                <ul role="alert" className={css.alert} data-testid="not-bookable">
                  {reasonProblems(q.reasons).map((r) => (
                    <li key={r.key}>{said(r)}</li>
                  ))}
                </ul>
              )}
            </section>
          )}
        </aside>
      </div>
    </article>
  );
}
