// The agency's home page: search (dates, guests, place, bedrooms, amenities) and, with dates,
// the bookable properties with the total for the stay and a map; without dates, every listed
// property with its "from" price. A plain GET form, so it works without JavaScript.
import type { Metadata } from "next";
import { getLocale, getTranslations } from "next-intl/server";
import Image from "next/image";
import Link from "next/link";
import { formatMoney } from "@/lib/money";
import { firstProblem, type Refusal } from "@/site/problems";
import { ResultsMap, type Pin } from "@/site/ResultsMap";
import { agencyOf, orNotFound, photoPath, publicApi, type PublicProperty } from "@/site/server";
import { adultsOf, stayOf, stayQuery } from "@/site/stay";
import css from "@/site/site.module.css";

type Props = { params: Promise<{ agency: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { agency } = await params;
  const info = await agencyOf(agency);
  const t = await getTranslations("site");
  return { title: t("homeTitle", { agency: info.name }), alternates: { canonical: `/${agency}` } };
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export default async function AgencyHome({ params, searchParams }: Props) {
  const { agency } = await params;
  const sp = await searchParams;
  const t = await getTranslations("site");
  const ta = await getTranslations("properties.amenity");
  const locale = await getLocale();
  const stay = stayOf(sp);
  const adults = adultsOf(sp);
  const location = typeof sp.location === "string" ? sp.location.slice(0, 100) : "";
  const minBedrooms = typeof sp.min_bedrooms === "string" && /^\d{1,2}$/.test(sp.min_bedrooms) ? Number(sp.min_bedrooms) : undefined;
  const amenities = list(sp.amenities).slice(0, 30);
  const api = publicApi();
  const all = await orNotFound(api.GET("/api/v1/public/{agency}/properties", { params: { path: { agency } } }));
  const amenityChoices = [...new Set(all.flatMap((p) => p.amenities))].sort();

  let hits: { property: PublicProperty; price: string; total: boolean }[] = [];
  let count = 0;
  let problem: string | null = null;
  if (stay) {
    const { data, error, response } = await api.GET("/api/v1/public/{agency}/search", {
      params: {
        path: { agency },
        query: {
          check_in: stay.checkIn,
          check_out: stay.checkOut,
          adults,
          ...(location ? { location } : {}),
          ...(minBedrooms !== undefined ? { min_bedrooms: minBedrooms } : {}),
          ...(amenities.length ? { amenities } : {}),
        },
      },
    });
    if (data) {
      count = data.count;
      hits = data.results.map((h) => ({ property: h.property, price: formatMoney(h.total.amount_minor, h.total.currency, locale), total: true }));
    } else {
      // E.g. dates in the past: said in the guest's words, and the search form to try again.
      problem = t(`problems.${firstProblem(response.status, error as Refusal)}`);
    }
  } else {
    count = all.length;
    hits = all.map((p) => ({
      property: p,
      price: p.from_price_minor != null ? t("fromPerNight", { price: formatMoney(p.from_price_minor, p.currency, locale) }) : "",
      total: false,
    }));
  }
  const query = stay ? `?${stayQuery(stay)}` : "";
  const pins: Pin[] = hits
    .filter((h) => h.property.latitude != null && h.property.longitude != null)
    .map((h) => ({
      id: h.property.id,
      lat: Number(h.property.latitude),
      lng: Number(h.property.longitude),
      label: h.price || h.property.name,
      name: h.property.name,
      href: `/${agency}/properties/${h.property.id}${query}`,
    }));

  return (
    <>
      <h1>{t("searchTitle")}</h1>
      <form method="get" action={`/${agency}`} className={css.search} role="search" aria-label={t("searchTitle")}>
        <label className={css.field}>
          {t("checkIn")}
          <input type="date" name="check_in" defaultValue={stay?.checkIn ?? ""} required />
        </label>
        <label className={css.field}>
          {t("checkOut")}
          <input type="date" name="check_out" defaultValue={stay?.checkOut ?? ""} required />
        </label>
        <label className={css.field}>
          {t("adults")}
          <input type="number" name="adults" min={1} max={50} defaultValue={adults} />
        </label>
        <label className={css.field}>
          {t("location")}
          <input type="text" name="location" defaultValue={location} maxLength={100} />
        </label>
        <label className={css.field}>
          {t("minBedrooms")}
          <input type="number" name="min_bedrooms" min={0} max={20} defaultValue={minBedrooms ?? ""} />
        </label>
        {amenityChoices.length > 0 && (
          <fieldset className={css.checks}>
            <legend>{t("amenities")}</legend>
            {amenityChoices.map((a) => (
              <label key={a}>
                <input type="checkbox" name="amenities" value={a} defaultChecked={amenities.includes(a)} /> {ta.has(a) ? ta(a) : a}
              </label>
            ))}
          </fieldset>
        )}
        <button type="submit" className={css.button}>
          {t("search")}
        </button>
      </form>
      {problem ? (
        <p role="alert" className={css.alert} data-testid="search-problem">
          {problem}
        </p>
      ) : (
        <p role="status" data-testid="result-count">
          {stay ? t("resultCount", { count }) : t("listedCount", { count })}
        </p>
      )}
      <div className={css.results}>
        <ul className={css.cards} aria-label={t("results")}>
          {hits.map(({ property: p, price, total }) => (
            <li key={p.id} className={css.card} data-testid="result">
              {p.photos[0] && <Image src={photoPath(agency, p.photos[0].id)} alt={p.photos[0].caption ?? p.name} width={160} height={120} sizes="160px" />}
              <div className={css.cardBody}>
                <h2>
                  <Link href={`/${agency}/properties/${p.id}${query}`}>{p.name}</Link>
                </h2>
                <span className={css.muted}>
                  {[p.city, p.country].filter(Boolean).join(", ")} · {t("sleeps", { count: p.max_guests })} · {t("bedrooms", { count: p.bedrooms })}
                </span>
                {price && (
                  <span className={css.price} data-testid={total ? "stay-total" : "from-price"}>
                    {total ? t("totalFor", { price }) : price}
                  </span>
                )}
              </div>
            </li>
          ))}
        </ul>
        <ResultsMap pins={pins} />
      </div>
    </>
  );
}
