"use client";
import { Button, Group, Modal, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useState } from "react";
import { api, unwrap } from "@/api/client";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert } from "@/components/ProblemAlert";
import { key } from "@/hooks/keys";

export default function GuestsPage() {
  const t = useTranslations("guests");
  const tc = useTranslations("common");
  const { can, agencyId } = useAuth();
  const qc = useQueryClient();
  const [q, setQ] = useState("");
  const [erasing, setErasing] = useState<string | null>(null);
  const guests = useQuery({
    queryKey: key(agencyId, "guests", q),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/guests", { params: { query: { q: q || undefined, limit: 100 } }, signal })),
    placeholderData: keepPreviousData,
  });
  const erase = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/guests/{guest_id}/erase", { params: { path: { guest_id: id } } })),
    onSuccess: () => { setErasing(null); void qc.invalidateQueries({ queryKey: key(agencyId, "guests") }); },
  });
  const exportGuest = async (id: string) => {
    const data = await unwrap(api.GET("/api/v1/guests/{guest_id}/export", { params: { path: { guest_id: id } } }));
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `guest-${id}.json`;
    a.click();
    URL.revokeObjectURL(url);
  };
  const gdpr = can("guests.export_erase");
  return (
    <Stack>
      <Title order={1} size="h3">{t("title")}</Title>
      <TextInput label={t("search")} value={q} onChange={(e) => setQ(e.currentTarget.value)} maw={360} />
      <ProblemAlert error={guests.error ?? erase.error} />
      <Table.ScrollContainer minWidth={560}>
        <Table striped>
          <Table.Thead><Table.Tr><Table.Th>{t("name")}</Table.Th><Table.Th>{t("email")}</Table.Th><Table.Th>{t("phone")}</Table.Th>{gdpr && <Table.Th />}</Table.Tr></Table.Thead>
          <Table.Tbody>
            {(guests.data?.items ?? []).map((g) => (
              <Table.Tr key={g.id}>
                <Table.Td>{g.erased_at ? <Text c="gray.7" size="sm">{t("erased")}</Text> : [g.first_name, g.last_name].filter(Boolean).join(" ")}</Table.Td>
                <Table.Td>{g.email}</Table.Td><Table.Td>{g.phone}</Table.Td>
                {gdpr && (
                  <Table.Td>
                    {!g.erased_at && (
                      <Group gap="xs">
                        <Button size="xs" variant="default" onClick={() => void exportGuest(g.id)}>{t("export")}</Button>
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
            <Button color="red.9" loading={erase.isPending} onClick={() => erasing && erase.mutate(erasing)}>{t("erase")}</Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
