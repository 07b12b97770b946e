"use client";
import { Anchor, Group, Stack, Text, Title } from "@mantine/core";
import { useTranslations } from "next-intl";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert } from "@/components/ProblemAlert";
import { PropertyPhotos } from "@/components/PropertyPhotos";
import { ChannelNights } from "@/components/ChannelNights";
import { WidgetSnippet } from "@/components/WidgetSnippet";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { key } from "@/hooks/keys";
import { PropertyForm, initialValues, toBody } from "@/components/PropertyForm";
import { useProperty, useUpdateProperty } from "@/hooks/properties";

export default function PropertyPage() {
  const { id } = useParams<{ id: string }>();
  const t = useTranslations("properties");
  const tc = useTranslations("common");
  const { can } = useAuth();
  const property = useProperty(id);
  const update = useUpdateProperty(id);
  const [saved, setSaved] = useState(false);
  const { agencyId } = useAuth();
  const agency = useQuery({ queryKey: key(agencyId, "properties", "agency"), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/agency", { signal })), enabled: !!agencyId });
  if (property.error) return <ProblemAlert error={property.error} />;
  if (!property.data) return <Text>{tc("loading")}</Text>;
  return (
    <Stack maw={720}>
      <Group justify="space-between">
        <Title order={1} size="h3">{property.data.name}</Title>
        <Group>
          {can("rates.read") && <Anchor component={Link} href={`/rates?property=${id}`}>{t("rates")}</Anchor>}
          {can("channels.read") && <Anchor component={Link} href={`/channels?property=${id}`}>{t("ical")}</Anchor>}
        </Group>
      </Group>
      {saved && <Text c="teal.9" role="status">{tc("saved")}</Text>}
      <PropertyForm key={property.data.updated_at} initial={initialValues(property.data)} error={update.error} pending={update.isPending} submitLabel={tc("save")}
        onSubmit={(v) => update.mutate(toBody(v), { onSuccess: () => setSaved(true) })} />
      <PropertyPhotos propertyId={id} listed={property.data.is_listed} agencySlug={agency.data?.slug ?? null} canWrite={can("properties.write")} />
      {agency.data?.slug && <WidgetSnippet slug={agency.data.slug} propertyId={id} listed={property.data.is_listed} />}
      {can("channels.read") && <ChannelNights propertyId={id} currency={property.data.currency} tz={property.data.timezone} />}
    </Stack>
  );
}
