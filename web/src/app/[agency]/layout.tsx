// The guests' booking site of one agency (/{agency}/…): its own root layout, so its pages carry
// none of the team app's client code (Mantine, TanStack Query, the session); server-rendered,
// working without JavaScript. The team app's top-level names (calendar, login, api, …) are
// static routes of the (team) group and win over this segment; the API never gives an agency
// such a slug (core.auth.RESERVED_SLUGS).
import type { Metadata, Viewport } from "next";
import { NextIntlClientProvider } from "next-intl";
import { getLocale, getMessages, getTranslations } from "next-intl/server";
import Link from "next/link";
import type { ReactNode } from "react";
import { publicApi } from "@/site/server";
import { SiteLocaleSwitch } from "@/site/SiteLocaleSwitch";
import css from "@/site/site.module.css";

export const metadata: Metadata = { title: "Booking" };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function SiteLayout({ children, params }: { children: ReactNode; params: Promise<{ agency: string }> }) {
  const { agency } = await params;
  // Pages answer 404 for an unknown agency themselves (this layout renders their not-found too).
  const { data: info } = await publicApi().GET("/api/v1/public/{agency}", { params: { path: { agency } } });
  const locale = await getLocale();
  const messages = (await getMessages()) as Record<string, unknown>;
  const t = await getTranslations("site");
  const name = info?.name ?? agency;
  return (
    <html lang={locale}>
      <body className={css.body}>
        <NextIntlClientProvider locale={locale} messages={{ site: messages.site } as never} timeZone="UTC">
          <div className={css.site}>
            <a className={css.skip} href="#main">
              {t("skip")}
            </a>
            <header className={css.header}>
              <Link href={`/${agency}`} className={css.brand}>
                {name}
              </Link>
              <SiteLocaleSwitch />
            </header>
            <main id="main" className={css.main}>
              {children}
            </main>
            <footer className={css.footer}>{t("footer", { agency: name })}</footer>
          </div>
        </NextIntlClientProvider>
      </body>
    </html>
  );
}
