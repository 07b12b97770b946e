// The guests' booking site of one agency (/{agency}/…): server-rendered pages that work
// without JavaScript. The team app's top-level names (calendar, bookings, login, api, …) are
// static routes and win over this segment; the API never gives an agency such a slug.
import { getTranslations } from "next-intl/server";
import Link from "next/link";
import type { ReactNode } from "react";
import { LocaleSwitch } from "@/components/LocaleSwitch";
import { agencyOf } from "@/site/server";
import css from "@/site/site.module.css";

export default async function SiteLayout({ children, params }: { children: ReactNode; params: Promise<{ agency: string }> }) {
  const { agency } = await params;
  const info = await agencyOf(agency);
  const t = await getTranslations("site");
  return (
    <div className={css.site}>
      <a className={css.skip} href="#main">
        {t("skip")}
      </a>
      <header className={css.header}>
        <Link href={`/${agency}`} className={css.brand}>
          {info.name}
        </Link>
        <nav aria-label={t("language")}>
          <LocaleSwitch />
        </nav>
      </header>
      <main id="main" className={css.main}>
        {children}
      </main>
      <footer className={css.footer}>{t("footer", { agency: info.name })}</footer>
    </div>
  );
}
