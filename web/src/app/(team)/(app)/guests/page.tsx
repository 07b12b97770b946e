"use client";
import { Anchor, Button, Group, Modal, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useTranslations } from "next-intl";
import Link from "next/link";
import { useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert } from "@/components/ProblemAlert";
import { downloadGuestExport, guestName, useEraseGuest, useGuests } from "@/hooks/guests";

export default function GuestsPage() {
  const t = useTranslations("guests");
  const tc = useTranslations("common");
  const { can } = useAuth();
  const [q, setQ] = useState("");
  const [query] = useDebouncedValue(q.trim(), 250);
  const [erasing, setErasing] = useState<string | null>(null);
  const guests = useGuests(query);
  const erase = useEraseGuest();
  const gdpr = can("guests.export_erase");
  return (
    <Stack>
      <Title order={1} size="h3">{t("title")}</Title>
      <TextInput label={t("search")} value={q} onChange={(e) => setQ(e.currentTarget.value)} maw={360} />
      <ProblemAlert error={guests.error ?? erase.error} />
      <Table.ScrollContainer minWidth={560}>
        <Table striped data-testid="guests-table">
          <Table.Thead><Table.Tr><Table.Th>{t("name")}</Table.Th><Table.Th>{t("email")}</Table.Th><Table.Th>{t("phone")}</Table.Th>{gdpr && <Table.Th>{t("gdpr")}</Table.Th>}</Table.Tr></Table.Thead>
          <Table.Tbody>
            {(guests.data?.items ?? []).map((g) => (
              <Table.Tr key={g.id} data-testid="guest-row">
                <Table.Td>
                  <Anchor component={Link} href={`/guests/${g.id}`}>{g.erased_at ? t("erased") : guestName(g) || g.email || g.id.slice(0, 8)}</Anchor>
                </Table.Td>
                <Table.Td>{g.email}</Table.Td><Table.Td>{g.phone}</Table.Td>
                {gdpr && (
                  <Table.Td>
                    {!g.erased_at && (
                      <Group gap="xs">
                        <Button size="xs" variant="default" onClick={() => void downloadGuestExport(g.id)}>{t("export")}</Button>
                        <Button size="xs" color="red.9" onClick={() => setErasing(g.id)}>{t("erase")}</Button>
                      </Group>
                    )}
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal opened={!!erasing} onClose={() => setErasing(null)} title={t("erase")}>
        <Stack>
          <Text>{t("eraseConfirm")}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setErasing(null)}>{tc("cancel")}</Button>
            <Button color="red.9" loading={erase.isPending} onClick={() => erasing && erase.mutate(erasing, { onSuccess: () => setErasing(null) })}>{t("erase")}</Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
