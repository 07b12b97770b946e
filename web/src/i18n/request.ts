// The locale comes from the `locale` cookie (set by the language switch), else the browser's
// Accept-Language; English and German.
import { cookies, headers } from "next/headers";
import { getRequestConfig } from "next-intl/server";
import { pickLocale } from "./locales";

export default getRequestConfig(async () => {
  const cookie = (await cookies()).get("locale")?.value;
  const locale = pickLocale(cookie, (await headers()).get("accept-language"));
  const messages = (await import(`../../messages/${locale}.json`)).default;
  return { locale, messages, timeZone: "UTC" };
});
