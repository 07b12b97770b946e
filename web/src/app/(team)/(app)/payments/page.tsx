"use client";
import { Group, MultiSelect, Pagination, Stack, Text, Title } from "@mantine/core";
import { useTranslations } from "next-intl";
import { useState } from "react";
import { ProblemAlert } from "@/components/ProblemAlert";
import { PaymentsTable } from "@/components/PaymentsTable";
import { usePayments, type Payment } from "@/hooks/payments";

const STATUSES: Payment["status"][] = ["pending", "authorized", "succeeded", "failed", "partially_refunded", "refunded", "canceled"];
const PAGE = 25;

export default function PaymentsPage() {
  const t = useTranslations("payments");
  const [status, setStatus] = useState<string[]>([]);
  const [page, setPage] = useState(1);
  const list = usePayments({ status: status.length ? (status as Payment["status"][]) : undefined, limit: PAGE, offset: (page - 1) * PAGE });
  const total = list.data?.total ?? 0;
  return (
    <Stack>
      <Title order={1} size="h3">{t("title")}</Title>
      <Group>
        <MultiSelect label={t("status")} placeholder={t("all")} clearable value={status} w={360}
          data={STATUSES.map((s) => ({ value: s, label: t(`statuses.${s}`) }))} onChange={(v) => { setStatus(v); setPage(1); }} />
      </Group>
      <ProblemAlert error={list.error} />
      <Text size="sm" data-testid="payments-count">{t("count", { count: total })}</Text>
      <PaymentsTable items={list.data?.items ?? []} withBooking />
      {total > PAGE && <Pagination total={Math.ceil(total / PAGE)} value={page} onChange={setPage} aria-label="pages" />}
    </Stack>
  );
}
