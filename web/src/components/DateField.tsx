"use client";
// The one date input of the app: Mantine's DateInput showing and reading dates the way the
// user's language writes them (24.12.2026 in German, 12/24/2026 in English), with a month
// picker in that language. Values are ISO dates (YYYY-MM-DD); "" is no date.
import { DateInput } from "@mantine/dates";
import "dayjs/locale/de";
import { useLocale, useTranslations } from "next-intl";
import { formatDateInput, inputPlaceholder, parseDateInput } from "@/lib/dateInput";
import type { IsoDate } from "@/lib/dates";

type Props = {
  label: string;
  value: IsoDate | "";
  onChange: (value: IsoDate | "") => void;
  error?: string;
  required?: boolean;
  clearable?: boolean;
  w?: number;
  testId?: string;
};

export function DateField({ label, value, onChange, error, required, clearable, w, testId }: Props) {
  const locale = useLocale();
  const t = useTranslations("common");
  return (
    <DateInput
      label={label}
      value={value || null}
      onChange={(v) => onChange(v ?? "")}
      valueFormat={(d) => formatDateInput(d.slice(0, 10), locale)}
      dateParser={(text) => parseDateInput(text, locale)}
      placeholder={inputPlaceholder(locale, { day: t("dateLetters.day"), month: t("dateLetters.month"), year: t("dateLetters.year") })}
      locale={locale}
      firstDayOfWeek={locale === "de" ? 1 : 0}
      error={error}
      required={required}
      clearable={clearable}
      fixOnBlur
      w={w}
      data-testid={testId}
      popoverProps={{ withinPortal: true }}
      nextLabel={t("next")}
      previousLabel={t("previous")}
    />
  );
}
