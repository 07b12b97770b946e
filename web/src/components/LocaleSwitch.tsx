"use client";
import { SegmentedControl } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import { useRouter } from "next/navigation";

export function LocaleSwitch() {
  const locale = useLocale();
  const router = useRouter();
  const t = useTranslations("common");
  return (
    <SegmentedControl
      size="xs"
      aria-label={t("language")}
      value={locale}
      data={[{ value: "en", label: "EN" }, { value: "de", label: "DE" }]}
      onChange={(value) => {
        document.cookie = `locale=${value}; path=/; max-age=31536000; samesite=lax`;
        router.refresh();
      }}
    />
  );
}
