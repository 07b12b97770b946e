"use client";
// A rate plan's prices by weekday (blank: the base price) and its length-of-stay discounts.
import { Button, Card, Group, NumberInput, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useState } from "react";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { addDays, formatDate } from "@/lib/dates";
import { minorDigits } from "@/lib/money";
import { fromPlan, toPlanExtras, type LosRow } from "./planExtras";

type Plan = components["schemas"]["RatePlan"];
const A_MONDAY = "2024-01-01";

export function PlanPrices({ plan, canWrite, onSaved }: { plan: Plan; canWrite: boolean; onSaved: () => void }) {
  const t = useTranslations("pricing");
  const tc = useTranslations("common");
  const locale = useLocale();
  const [weekdays, setWeekdays] = useState(() => fromPlan(plan.weekday_prices, minorDigits(plan.currency)));
  const [los, setLos] = useState<LosRow[]>(() => plan.los_discounts.map((d) => ({ min_nights: d.min_nights, percent: Number(d.percent) })));
  const [local, setLocal] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: (body: ReturnType<typeof toPlanExtras>["body"]) => unwrap(api.PATCH("/api/v1/rate-plans/{rate_plan_id}", { params: { path: { rate_plan_id: plan.id } }, body })),
    onSuccess: onSaved,
  });
  const errors = { ...errorsOf(save.error), ...local };
  const submit = () => {
    const { body, errors: found } = toPlanExtras(weekdays, los, plan.currency);
    setLocal(found);
    if (Object.keys(found).length === 0) save.mutate(body);
  };
  const setRow = (i: number, change: Partial<LosRow>) => setLos(los.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <Card withBorder data-testid="plan-prices">
      <Title order={2} size="h5" mb="xs">{t("planPrices", { plan: plan.name })}</Title>
      <form onSubmit={(e) => { e.preventDefault(); submit(); }}>
        <Stack gap="xs">
          <ProblemAlert error={save.error} />
          {save.isSuccess && <Text size="sm" c="teal.9" role="status">{tc("saved")}</Text>}
          <Text size="sm">{t("weekdayHint")}</Text>
          <SimpleGrid cols={{ base: 2, sm: 4, md: 7 }}>
            {weekdays.map((text, day) => (
              <TextInput key={day} label={formatDate(addDays(A_MONDAY, day), locale, { weekday: "long" })} placeholder={t("basePriceShort")} value={text} readOnly={!canWrite}
                error={errors[`weekday_prices.${day}`]} onChange={(e) => { const v = e.currentTarget.value; setWeekdays(weekdays.map((w, j) => (j === day ? v : w))); }} />
            ))}
          </SimpleGrid>
          <Text size="sm" fw={600} mt="xs">{t("losDiscounts")}</Text>
          {los.length === 0 && <Text size="sm">{t("noLosDiscounts")}</Text>}
          {los.map((r, i) => (
            <Group key={i} align="flex-end" gap="xs" data-testid="los-row">
              <NumberInput label={t("fromNights")} min={1} value={r.min_nights} readOnly={!canWrite} onChange={(v) => setRow(i, { min_nights: Number(v) || 1 })} w={150} error={errors[`los_discounts.${i}.min_nights`]} />
              <NumberInput label={t("discountPercent")} min={0} max={100} value={r.percent} readOnly={!canWrite} onChange={(v) => setRow(i, { percent: Number(v) || 0 })} w={130} error={errors[`los_discounts.${i}.percent`]} />
              {canWrite && <Button variant="default" size="xs" onClick={() => setLos(los.filter((_, j) => j !== i))} aria-label={t("removeDiscount", { n: i + 1 })}>×</Button>}
            </Group>
          ))}
          {canWrite && (
            <Group>
              <Button variant="default" size="xs" disabled={los.length >= 20} onClick={() => setLos([...los, { min_nights: 7, percent: 10 }])}>{t("addDiscount")}</Button>
              <Button type="submit" size="xs" loading={save.isPending} data-testid="save-plan-prices">{tc("save")}</Button>
            </Group>
          )}
        </Stack>
      </form>
    </Card>
  );
}
