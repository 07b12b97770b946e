"use client";
import { Alert, Badge, Button, Card, Checkbox, Group, NumberInput, Select, Stack, Table, Tabs, Text, TextInput, Title } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { useProperties } from "@/hooks/properties";
import { PolicyEditor } from "@/rates/PolicyEditor";
import { useAri, useCreateAndAssignPolicy, useCreateRatePlan, usePolicies, usePricing, useRatePlans, useSetDays } from "@/hooks/rates";
import { weekdayRanges } from "@/lib/bulk";
import { addDays, formatDate, today } from "@/lib/dates";
import { formatMoney, parseMajor } from "@/lib/money";
import { FeesAndTaxes, PlansAndSeasons, QuotePreview } from "@/rates/PricingSetup";
import { DateField } from "@/components/DateField";

function Rates() {
  const t = useTranslations("rates");
  const tp = useTranslations("pricing");
  const { can } = useAuth();
  const params = useSearchParams();
  const router = useRouter();
  const properties = useProperties();
  const propertyId = params.get("property") ?? properties.data?.[0]?.id ?? null;
  const property = properties.data?.find((p) => p.id === propertyId);
  const plans = useRatePlans(propertyId);
  const plan = plans.data?.find((p) => p.is_default) ?? plans.data?.[0];
  const mayWrite = can("rates.write");
  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Title order={1} size="h3">{t("title")}</Title>
        <Select label={t("property")} w={260} allowDeselect={false} value={propertyId} searchable
          data={(properties.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
          onChange={(v) => v && router.replace(`/rates?property=${v}`)} />
      </Group>
      {!mayWrite && <Alert color="gray" data-testid="rates-readonly">{t("readOnly")}</Alert>}
      {property && (
        <Tabs defaultValue="grid" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="grid">{tp("tabs.grid")}</Tabs.Tab>
            <Tabs.Tab value="plans">{tp("tabs.plans")}</Tabs.Tab>
            <Tabs.Tab value="fees">{tp("tabs.fees")}</Tabs.Tab>
            <Tabs.Tab value="quote">{tp("tabs.quote")}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="grid" pt="sm">
            <Stack>
              {plans.data && !plan && (
                mayWrite ? <CreatePlan propertyId={property.id} currency={property.currency} /> : <Text>{t("noPlan")}</Text>
              )}
              {plan && <Grid propertyId={property.id} planId={plan.id} currency={property.currency} tz={property.timezone} mayWrite={mayWrite} />}
              {mayWrite && <Policy propertyId={property.id} />}
            </Stack>
          </Tabs.Panel>
          <Tabs.Panel value="plans" pt="sm"><PlansAndSeasons property={property} canWrite={mayWrite} /></Tabs.Panel>
          <Tabs.Panel value="fees" pt="sm"><FeesAndTaxes property={property} canWrite={mayWrite} /></Tabs.Panel>
          <Tabs.Panel value="quote" pt="sm"><QuotePreview property={property} /></Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  );
}

function CreatePlan({ propertyId, currency }: { propertyId: string; currency: string }) {
  const t = useTranslations("rates");
  const create = useCreateRatePlan(propertyId);
  const [price, setPrice] = useState("100");
  const [minStay, setMinStay] = useState<number>(1);
  const errors = errorsOf(create.error);
  return (
    <Card withBorder maw={520}>
      <Text mb="sm">{t("noPlan")}</Text>
      <form onSubmit={(e) => { e.preventDefault(); create.mutate({ name: "Standard", base_price_minor: parseMajor(price, currency) ?? -1, default_min_stay: minStay }); }}>
        <Stack>
          <ProblemAlert error={create.error} />
          <TextInput label={`${t("basePrice")} (${currency})`} value={price} onChange={(e) => setPrice(e.currentTarget.value)} error={errors.base_price_minor} inputMode="decimal" />
          <NumberInput label={t("minStay")} min={1} value={minStay} onChange={(v) => setMinStay(Number(v) || 1)} error={errors.default_min_stay} />
          <Button type="submit" loading={create.isPending} data-testid="create-plan">{t("createPlan")}</Button>
        </Stack>
      </form>
    </Card>
  );
}

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 0];

function Grid({ propertyId, planId, currency, tz, mayWrite }: { propertyId: string; planId: string; currency: string; tz: string; mayWrite: boolean }) {
  const t = useTranslations("rates");
  const locale = useLocale();
  const start = today(tz);
  const end = addDays(start, 42);
  const ari = useAri(propertyId, start, end);
  const set = useSetDays();
  const [from, setFrom] = useState(start);
  const [to, setTo] = useState(addDays(start, 14));
  const [days, setDays] = useState<Set<number>>(new Set(WEEKDAYS));
  const [price, setPrice] = useState("");
  const [minStay, setMinStay] = useState<number | "">("");
  const [closed, setClosed] = useState<string>("keep");
  const [done, setDone] = useState<number | null>(null);
  const planDays = ari.data?.rate_plans.find((p) => p.rate_plan_id === planId)?.days ?? [];
  const weekdayName = (d: number) => new Intl.DateTimeFormat(locale, { weekday: "short", timeZone: "UTC" }).format(new Date(Date.UTC(2024, 0, 7 + d)));
  const errors = errorsOf(set.error);
  const apply = () => {
    const priceMinor = price ? parseMajor(price, currency) : null;
    const ranges = weekdayRanges(from, to, days).map((r) => ({
      ...r,
      price_minor: priceMinor ?? undefined,
      min_stay: minStay === "" ? undefined : minStay,
      closed: closed === "keep" ? undefined : closed === "closed",
    }));
    if (ranges.length === 0) return;
    set.mutate({ planId, ranges }, { onSuccess: (r) => setDone(r.days_changed) });
  };
  return (
    <Stack>
      {mayWrite && (
        <Card withBorder>
          <Title order={2} size="h5" mb="xs">{t("bulk")}</Title>
          <form onSubmit={(e) => { e.preventDefault(); apply(); }}>
            <Stack gap="xs">
              <ProblemAlert error={set.error} />
              <Group align="flex-end" wrap="wrap">
                <DateField label={t("from")} value={from} onChange={setFrom} error={errors.start} />
                <DateField label={t("to")} value={to} onChange={setTo} error={errors.end} />
                <TextInput label={`${t("price")} (${currency})`} placeholder={t("unchanged")} value={price} onChange={(e) => setPrice(e.currentTarget.value)} error={errors.price_minor} inputMode="decimal" w={140} />
                <NumberInput label={t("minStay")} placeholder={t("unchanged")} min={1} value={minStay} onChange={(v) => setMinStay(v === "" ? "" : Number(v))} error={errors.min_stay} w={120} />
                <Select label={t("closed")} allowDeselect={false} value={closed} onChange={(v) => v && setClosed(v)} w={140}
                  data={[{ value: "keep", label: t("unchanged") }, { value: "open", label: t("open") }, { value: "closed", label: t("closed") }]} />
              </Group>
              <Checkbox.Group label={t("weekdays")} value={[...days].map(String)} onChange={(v) => setDays(new Set(v.map(Number)))}>
                <Group gap="sm" mt={4}>{WEEKDAYS.map((d) => <Checkbox key={d} value={String(d)} label={weekdayName(d)} />)}</Group>
              </Checkbox.Group>
              <Group>
                <Button type="submit" loading={set.isPending} data-testid="apply-rates">{t("apply")}</Button>
                {done !== null && <Text role="status" size="sm" data-testid="rates-applied">{t("applied", { count: done })}</Text>}
              </Group>
            </Stack>
          </form>
        </Card>
      )}
      <Table.ScrollContainer minWidth={560}>
        <Table striped data-testid="rates-grid">
          <Table.Thead><Table.Tr><Table.Th>{t("date")}</Table.Th><Table.Th>{t("price")}</Table.Th><Table.Th>{t("minStay")}</Table.Th><Table.Th>{t("maxStay")}</Table.Th><Table.Th>{t("cta")}</Table.Th><Table.Th>{t("ctd")}</Table.Th><Table.Th>{t("closed")}</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {planDays.map((d) => (
              <Table.Tr key={d.date} data-testid="rate-row" data-date={d.date}>
                <Table.Td>{formatDate(d.date, locale, { weekday: "short", day: "numeric", month: "short" })}</Table.Td>
                <Table.Td data-testid="rate-price">{formatMoney(d.price.amount_minor, d.price.currency, locale)}</Table.Td>
                <Table.Td>{d.min_stay}</Table.Td><Table.Td>{d.max_stay ?? "—"}</Table.Td>
                <Table.Td>{d.closed_to_arrival ? "✓" : ""}</Table.Td><Table.Td>{d.closed_to_departure ? "✓" : ""}</Table.Td>
                <Table.Td>{d.available ? "" : <Badge color="gray.8">{t("closed")}</Badge>}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

function Policy({ propertyId }: { propertyId: string }) {
  const t = useTranslations("rates");
  const pricing = usePricing(propertyId);
  const policies = usePolicies();
  const create = useCreateAndAssignPolicy(propertyId);
  const [days, setDays] = useState<number>(14);
  const [percent, setPercent] = useState<number>(100);
  const current = policies.data?.find((p) => p.id === pricing.data?.cancellation_policy_id);
  return (
    <Card withBorder maw={640}>
      <Title order={2} size="h5">{t("policy")}</Title>
      {current ? (
        <Stack gap={2} my="xs" data-testid="policy-current">
          <Text fw={600}>{current.name}</Text>
          {current.rules.map((r, i) => <Text size="sm" key={i}>{t("policyRule", { percent: String(r.refund_percent), days: r.days_before })}</Text>)}
        </Stack>
      ) : null}
      <form onSubmit={(e) => { e.preventDefault(); create.mutate({ name: `${percent} % until ${days} days`, rules: [{ days_before: days, refund_percent: percent }, { days_before: 0, refund_percent: 0 }] }); }}>
        <Stack gap="xs">
          <ProblemAlert error={create.error} />
          <Group align="flex-end">
            <NumberInput label={t("daysBefore")} min={0} value={days} onChange={(v) => setDays(Number(v) || 0)} w={170} />
            <NumberInput label={t("refundPercent")} min={0} max={100} value={percent} onChange={(v) => setPercent(Number(v) || 0)} w={130} />
            <Button type="submit" loading={create.isPending} data-testid="create-policy">{t("createPolicy")}</Button>
          </Group>
        </Stack>
      </form>
      <PolicyEditor />
    </Card>
  );
}

export default function RatesPage() {
  return <Suspense><Rates /></Suspense>;
}
