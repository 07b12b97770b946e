"use client";
// The pricing set-up around the rate grid: a property's rate plans and their seasons, the
// agency's tax classes, fees and visitor taxes, which of them apply to the property, and a quote
// preview for any stay.
import { Button, Card, Group, MultiSelect, NumberInput, Select, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useState } from "react";
import { DateField } from "@/components/DateField";
import { ProblemAlert } from "@/components/ProblemAlert";
import { QuoteSummary } from "@/components/QuoteSummary";
import { pricingApi, useFees, useInvalidatePricing, useSeasons, useTaxClasses, useVisitorTaxes } from "@/hooks/pricing";
import { useQuote } from "@/hooks/quotes";
import { usePolicies, usePricing, useRatePlans } from "@/hooks/rates";
import { addDays, today, type IsoDate } from "@/lib/dates";
import type { Field } from "./fields";
import { PlanPrices } from "./PlanPrices";
import { ResourceEditor } from "./ResourceEditor";

const FEE_KINDS = ["per_stay", "per_night", "per_guest_per_night", "per_extra_guest_per_night", "per_pet", "percent_of_accommodation"] as const;

type Property = { id: string; currency: string; timezone: string };

export function PlansAndSeasons({ property, canWrite }: { property: Property; canWrite: boolean }) {
  const t = useTranslations("pricing");
  const plans = useRatePlans(property.id);
  const invalidate = useInvalidatePricing();
  const [planId, setPlanId] = useState<string | null>(null);
  const plan = plans.data?.find((p) => p.id === planId) ?? plans.data?.find((p) => p.is_default) ?? plans.data?.[0];
  const seasons = useSeasons(plan?.id ?? null);
  const planFields: Field[] = [
    { name: "name", label: t("name"), type: "text" },
    { name: "is_default", label: t("default"), type: "bool" },
    { name: "base_price_minor", label: t("basePrice"), type: "money" },
    { name: "default_min_stay", label: t("minStay"), type: "int" },
    { name: "default_max_stay", label: t("maxStay"), type: "int", optional: true },
    { name: "min_lead_days", label: t("minLead"), type: "int" },
    { name: "max_advance_days", label: t("maxAdvance"), type: "int", optional: true },
  ];
  const seasonFields: Field[] = [
    { name: "name", label: t("name"), type: "text", omitBlank: true },
    { name: "start", label: t("start"), type: "date" },
    { name: "end", label: t("end"), type: "date" },
    { name: "price_minor", label: t("price"), type: "money" },
    { name: "min_stay", label: t("minStay"), type: "int", optional: true },
  ];
  return (
    <Stack>
      <ResourceEditor
        title={t("plans")} testId="plans" fields={planFields} items={plans.data} currency={property.currency} canWrite={canWrite}
        create={(b) => pricingApi.createPlan(property.id, b)} update={pricingApi.updatePlan} remove={pricingApi.deletePlan} onChanged={invalidate}
      />
      {plan && (
        <>
          {(plans.data?.length ?? 0) > 1 && (
            <Select label={t("seasonsOf")} w={280} allowDeselect={false} value={plan.id} onChange={setPlanId}
              data={(plans.data ?? []).map((p) => ({ value: p.id, label: p.name }))} />
          )}
          <ResourceEditor
            title={t("seasons", { plan: plan.name })} testId="seasons" fields={seasonFields} items={seasons.data} currency={property.currency} canWrite={canWrite}
            create={(b) => pricingApi.createSeason(plan.id, b)} update={(id, b) => pricingApi.updateSeason(plan.id, id, b)}
            remove={(id) => pricingApi.deleteSeason(plan.id, id)} onChanged={invalidate}
          />
          <PlanPrices key={plan.id} plan={plan} canWrite={canWrite} onSaved={invalidate} />
        </>
      )}
    </Stack>
  );
}

export function FeesAndTaxes({ property, canWrite }: { property: Property; canWrite: boolean }) {
  const t = useTranslations("pricing");
  const taxes = useTaxClasses();
  const fees = useFees();
  const visitor = useVisitorTaxes();
  const invalidate = useInvalidatePricing();
  const taxOptions = (taxes.data ?? []).map((c) => ({ value: c.id, label: `${c.label || c.code} (${c.rate_percent} %)` }));
  const taxFields: Field[] = [
    { name: "code", label: t("code"), type: "text" },
    { name: "label", label: t("label"), type: "text", omitBlank: true },
    { name: "rate_percent", label: t("ratePercent"), type: "decimal" },
    { name: "inclusive", label: t("inclusive"), type: "bool" },
  ];
  const feeFields: Field[] = [
    { name: "code", label: t("code"), type: "text" },
    { name: "label", label: t("label"), type: "text", omitBlank: true },
    { name: "kind", label: t("kind"), type: "select", options: FEE_KINDS.map((k) => ({ value: k, label: t(`feeKind.${k}`) })) },
    { name: "currency", label: t("currency"), type: "text" },
    { name: "amount_minor", label: t("amount"), type: "money", omitBlank: true },
    { name: "percent", label: t("percent"), type: "decimal", optional: true },
    { name: "tax_class_id", label: t("taxClass"), type: "select", optional: true, options: taxOptions },
    { name: "guests_included", label: t("guestsIncluded"), type: "int", omitBlank: true, column: false },
  ];
  const visitorFields: Field[] = [
    { name: "name", label: t("name"), type: "text" },
    { name: "currency", label: t("currency"), type: "text" },
    { name: "amount_minor", label: t("perPersonNight"), type: "money" },
    { name: "child_age_limit", label: t("childAgeLimit"), type: "int" },
    { name: "max_nights", label: t("maxNights"), type: "int", optional: true },
  ];
  return (
    <Stack>
      <PropertyPricingCard property={property} canWrite={canWrite} />
      <ResourceEditor title={t("taxClasses")} testId="tax-classes" fields={taxFields} items={taxes.data} currency={property.currency} canWrite={canWrite}
        create={pricingApi.createTaxClass} update={pricingApi.updateTaxClass} remove={pricingApi.deleteTaxClass} onChanged={invalidate} />
      <ResourceEditor title={t("fees")} testId="fees" fields={feeFields} items={fees.data} currency={property.currency} canWrite={canWrite}
        create={pricingApi.createFee} update={pricingApi.updateFee} remove={pricingApi.deleteFee} onChanged={invalidate} />
      <ResourceEditor title={t("visitorTaxes")} testId="visitor-taxes" fields={visitorFields} items={visitor.data} currency={property.currency} canWrite={canWrite}
        create={pricingApi.createVisitorTax} update={pricingApi.updateVisitorTax} remove={pricingApi.deleteVisitorTax} onChanged={invalidate} />
    </Stack>
  );
}

/** Which tax class, visitor tax, fees and cancellation policy apply to this property. */
function PropertyPricingCard({ property, canWrite }: { property: Property; canWrite: boolean }) {
  const pricing = usePricing(property.id);
  // The form starts afresh from what the server holds after each save, so "Saved." is kept here.
  const [saved, setSaved] = useState(false);
  if (!pricing.data) return null;
  return (
    <PropertyPricingForm key={JSON.stringify(pricing.data)} property={property} canWrite={canWrite} current={pricing.data}
      saved={saved} onSaved={setSaved} />
  );
}

type PropertyPricing = { accommodation_tax_class_id?: string | null; visitor_tax_location_id?: string | null; fee_ids: string[]; cancellation_policy_id?: string | null };

function PropertyPricingForm({ property, canWrite, current, saved, onSaved }: { property: Property; canWrite: boolean; current: PropertyPricing; saved: boolean; onSaved: (saved: boolean) => void }) {
  const t = useTranslations("pricing");
  const tc = useTranslations("common");
  const taxes = useTaxClasses();
  const fees = useFees();
  const visitor = useVisitorTaxes();
  const policies = usePolicies();
  const invalidate = useInvalidatePricing();
  const [form, setFormState] = useState({
    accommodation_tax_class_id: current.accommodation_tax_class_id ?? null,
    visitor_tax_location_id: current.visitor_tax_location_id ?? null,
    fee_ids: current.fee_ids,
    cancellation_policy_id: current.cancellation_policy_id ?? null,
  });
  const setForm = (next: typeof form) => { onSaved(false); setFormState(next); };
  const save = useMutation({
    mutationFn: () => pricingApi.setPropertyPricing(property.id, form),
    onMutate: () => onSaved(false),
    onSuccess: () => { onSaved(true); invalidate(); },
  });
  return (
    <Card withBorder data-testid="property-pricing">
      <Title order={2} size="h5" mb="xs">{t("appliesHere")}</Title>
      <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Stack gap="xs">
          <ProblemAlert error={save.error} />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select label={t("accommodationTax")} clearable readOnly={!canWrite} value={form.accommodation_tax_class_id}
              data={(taxes.data ?? []).map((c) => ({ value: c.id, label: `${c.label || c.code} (${c.rate_percent} %)` }))}
              onChange={(v) => setForm({ ...form, accommodation_tax_class_id: v })} />
            <Select label={t("visitorTax")} clearable readOnly={!canWrite} value={form.visitor_tax_location_id}
              data={(visitor.data ?? []).map((v) => ({ value: v.id, label: v.name }))}
              onChange={(v) => setForm({ ...form, visitor_tax_location_id: v })} />
            <MultiSelect label={t("fees")} readOnly={!canWrite} value={form.fee_ids}
              data={(fees.data ?? []).map((f) => ({ value: f.id, label: f.label || f.code }))}
              onChange={(v) => setForm({ ...form, fee_ids: v })} data-testid="property-fees" />
            <Select label={t("policy")} clearable readOnly={!canWrite} value={form.cancellation_policy_id}
              data={(policies.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
              onChange={(v) => setForm({ ...form, cancellation_policy_id: v })} />
          </SimpleGrid>
          {canWrite && (
            <Group>
              <Button type="submit" loading={save.isPending} data-testid="save-property-pricing">{tc("save")}</Button>
              {saved && <Text size="sm" role="status">{tc("saved")}</Text>}
            </Group>
          )}
        </Stack>
      </form>
    </Card>
  );
}

/** A quote for any stay, as a guest would get it (the API's own pricing). */
export function QuotePreview({ property }: { property: Property }) {
  const t = useTranslations("pricing");
  const start = addDays(today(property.timezone), 14);
  const [checkIn, setCheckIn] = useState<IsoDate | "">(start);
  const [checkOut, setCheckOut] = useState<IsoDate | "">(addDays(start, 3));
  const [adults, setAdults] = useState<number>(2);
  const [pets, setPets] = useState<number>(0);
  const quote = useQuote(checkIn && checkOut ? { property_id: property.id, check_in: checkIn, check_out: checkOut, adults, pets } : null);
  return (
    <Card withBorder maw={640} data-testid="quote-preview">
      <Title order={2} size="h5" mb="xs">{t("quotePreview")}</Title>
      <Stack gap="xs">
        <Group align="flex-end" wrap="wrap">
          <DateField label={t("checkIn")} value={checkIn} onChange={setCheckIn} w={150} />
          <DateField label={t("checkOut")} value={checkOut} onChange={setCheckOut} w={150} />
          <NumberInput label={t("adults")} min={1} max={100} value={adults} onChange={(v) => setAdults(Number(v) || 1)} w={100} />
          <NumberInput label={t("pets")} min={0} max={20} value={pets} onChange={(v) => setPets(Number(v) || 0)} w={100} />
        </Group>
        <ProblemAlert error={quote.error} />
        {quote.data && <QuoteSummary quote={quote.data} />}
      </Stack>
    </Card>
  );
}
