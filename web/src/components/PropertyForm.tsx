"use client";
import { Button, Checkbox, Group, MultiSelect, NumberInput, SegmentedControl, Select, Stack, TextInput, Textarea } from "@mantine/core";
import { useTranslations } from "next-intl";
import { useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import type { components } from "@/api/schema";
import type { Property, PropertyCreate } from "@/hooks/properties";
import { useMembers } from "@/hooks/team";

export type PropertyValues = Pick<PropertyCreate, "name" | "timezone" | "currency" | "max_guests"> & {
  bedrooms: number; city: string; country: string; description: string; is_listed: boolean; instant_book: boolean; owner_user_id: string | null;
  amenities: Amenity[];
};
type Amenity = components["schemas"]["Amenity"];
export const AMENITIES: Amenity[] = ["wifi", "kitchen", "parking", "pool", "washer", "dryer", "air_conditioning", "heating", "tv", "pets_allowed", "sauna", "balcony", "garden", "sea_view", "elevator", "wheelchair_accessible", "ev_charger", "workspace", "crib", "bbq"];

export function initialValues(p?: Property): PropertyValues {
  return {
    name: p?.name ?? "", timezone: p?.timezone ?? "Europe/Berlin", currency: p?.currency ?? "EUR", max_guests: p?.max_guests ?? 4,
    bedrooms: p?.bedrooms ?? 1, city: p?.city ?? "", country: p?.country ?? "", description: p?.description ?? "",
    is_listed: p?.is_listed ?? false, instant_book: p?.instant_book ?? true, owner_user_id: p?.owner_user_id ?? null,
    amenities: (p?.amenities ?? []) as Amenity[],
  };
}

export function toBody(v: PropertyValues) {
  return { ...v, city: v.city || null, country: v.country || null, description: v.description || null };
}

export function PropertyForm({ initial, onSubmit, error, pending, submitLabel }: { initial: PropertyValues; onSubmit: (v: PropertyValues) => void; error: unknown; pending: boolean; submitLabel: string }) {
  const t = useTranslations("properties");
  const { can } = useAuth();
  const [v, setV] = useState(initial);
  const members = useMembers(can("team.read"));
  const owners = (members.data ?? []).filter((m) => m.role === "owner");
  const errors = errorsOf(error);
  const text = (k: keyof PropertyValues) => ({ value: String(v[k] ?? ""), onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => setV({ ...v, [k]: e.currentTarget.value }), error: errors[k] });
  const readOnly = !can("properties.write");
  return (
    <form onSubmit={(e) => { e.preventDefault(); onSubmit(v); }}>
      <fieldset disabled={readOnly} style={{ border: 0, padding: 0, margin: 0 }}>
        <Stack>
          <ProblemAlert error={error} />
          <TextInput label={t("name")} required {...text("name")} />
          <Group grow>
            <TextInput label={t("timezone")} required {...text("timezone")} />
            <TextInput label={t("currency")} required maxLength={3} {...text("currency")} />
          </Group>
          <Group grow>
            <NumberInput label={t("maxGuests")} min={1} value={v.max_guests} onChange={(n) => setV({ ...v, max_guests: Number(n) || 1 })} error={errors.max_guests} />
            <NumberInput label={t("bedrooms")} min={0} value={v.bedrooms} onChange={(n) => setV({ ...v, bedrooms: Number(n) || 0 })} error={errors.bedrooms} />
          </Group>
          <Group grow>
            <TextInput label={t("city")} {...text("city")} />
            <TextInput label={t("country")} maxLength={2} {...text("country")} />
          </Group>
          <Textarea label={t("description")} {...text("description")} />
          {can("team.read") && (
            <Select label={t("owner")} clearable placeholder={t("noOwner")} value={v.owner_user_id} onChange={(o) => setV({ ...v, owner_user_id: o })}
              data={owners.map((m) => ({ value: m.user_id, label: m.full_name ? `${m.full_name} <${m.email}>` : m.email }))} error={errors.owner_user_id} />
          )}
          <MultiSelect label={t("amenities")} data={AMENITIES.map((a) => ({ value: a, label: t(`amenity.${a}`) }))} value={v.amenities}
            onChange={(a) => setV({ ...v, amenities: a as Amenity[] })} error={errors.amenities} searchable clearable data-testid="amenities" />
          <Checkbox label={t("listed")} checked={v.is_listed} onChange={(e) => setV({ ...v, is_listed: e.currentTarget.checked })} />
          <SegmentedControl aria-label={t("instantBook")} value={v.instant_book ? "instant" : "request"} onChange={(x) => setV({ ...v, instant_book: x === "instant" })}
            data={[{ value: "instant", label: t("instantBook") }, { value: "request", label: t("requestBook") }]} />
          {!readOnly && <Button type="submit" loading={pending} data-testid="save-property">{submitLabel}</Button>}
        </Stack>
      </fieldset>
    </form>
  );
}
