import { getTranslations } from "next-intl/server";

export default async function NotFound() {
  const t = await getTranslations("site");
  return (
    <>
      <title>{t("notFoundTitle")}</title>
      <h1>{t("notFoundTitle")}</h1>
      <p>{t("notFoundText")}</p>
    </>
  );
}
