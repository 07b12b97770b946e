export const LOCALES = ["en", "de"] as const;
export type Locale = (typeof LOCALES)[number];

export function pickLocale(cookie: string | undefined, acceptLanguage: string | null): Locale {
  if (cookie === "en" || cookie === "de") return cookie;
  for (const part of (acceptLanguage ?? "").split(",")) {
    const tag = part.split(";")[0]?.trim().slice(0, 2).toLowerCase();
    if (tag === "de" || tag === "en") return tag;
  }
  return "en";
}
