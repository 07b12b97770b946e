"use client";
// English / German on the booking site: remembered in the `locale` cookie (as in the team app).
import { useLocale, useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import css from "./site.module.css";

export function SiteLocaleSwitch() {
  const locale = useLocale();
  const router = useRouter();
  const t = useTranslations("site");
  return (
    <div role="group" aria-label={t("language")} className={css.langs}>
      {(["en", "de"] as const).map((l) => (
        <button
          key={l}
          type="button"
          lang={l}
          aria-pressed={locale === l}
          className={css.lang}
          onClick={() => {
            document.cookie = `locale=${l}; path=/; max-age=31536000; samesite=lax`;
            router.refresh();
          }}
        >
          {l === "en" ? "English" : "Deutsch"}
        </button>
      ))}
    </div>
  );
}
