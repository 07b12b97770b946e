"use client";
import { Anchor, Badge, Button, Group, Modal, Stack, Table, Text, Title } from "@mantine/core";
import { useTranslations } from "next-intl";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert } from "@/components/ProblemAlert";
import { PropertyForm, initialValues, toBody } from "@/components/PropertyForm";
import { useCreateProperty, useProperties } from "@/hooks/properties";

function Properties() {
  const t = useTranslations("properties");
  const { can } = useAuth();
  const params = useSearchParams();
  const router = useRouter();
  const list = useProperties();
  const create = useCreateProperty();
  const [open, setOpen] = useState(params.get("new") === "1" && can("properties.write"));
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h3">{t("title")}</Title>
        {can("properties.write") && <Button onClick={() => setOpen(true)} data-testid="new-property">{t("new")}</Button>}
      </Group>
      <ProblemAlert error={list.error} />
      {list.data?.length === 0 && <Text>{t("empty")}</Text>}
      <Table.ScrollContainer minWidth={600}>
        <Table striped data-testid="properties-table">
          <Table.Thead><Table.Tr><Table.Th>{t("name")}</Table.Th><Table.Th>{t("city")}</Table.Th><Table.Th>{t("maxGuests")}</Table.Th><Table.Th>{t("currency")}</Table.Th><Table.Th>{t("listed")}</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {(list.data ?? []).map((p) => (
              <Table.Tr key={p.id} data-testid="property-row">
                <Table.Td><Anchor component={Link} href={`/properties/${p.id}`}>{p.name}</Anchor></Table.Td>
                <Table.Td>{p.city}</Table.Td><Table.Td>{p.max_guests}</Table.Td><Table.Td>{p.currency}</Table.Td>
                <Table.Td>{p.is_listed ? <Badge color="teal.9">✓</Badge> : "—"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal opened={open} onClose={() => setOpen(false)} title={t("new")} size="lg">
        <PropertyForm initial={initialValues()} error={create.error} pending={create.isPending} submitLabel={t("new")}
          onSubmit={(v) => create.mutate(toBody(v), { onSuccess: (p) => { setOpen(false); router.push(`/rates?property=${p.id}`); } })} />
      </Modal>
    </Stack>
  );
}

export default function PropertiesPage() {
  return <Suspense><Properties /></Suspense>;
}
