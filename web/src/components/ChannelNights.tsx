"use client";
// "Why is this night closed": per night, why Core holds it (booking, block, hold) and per mapped
// platform what it should show, whether it has acknowledged that, and when it was last pushed.
import { Badge, Button, Card, Group, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useState } from "react";
import { api, unwrap } from "@/api/client";
import { ProblemAlert } from "@/components/ProblemAlert";
import { useAgency } from "@/hooks/agency";
import { key } from "@/hooks/keys";
import { closedBecause, platformsOf, readNights, type Night, type PlatformNight } from "@/lib/channelNights";
import { addDays, formatDate, today } from "@/lib/dates";
import { formatMoney } from "@/lib/money";

const DAYS = 14;

export function ChannelNights({ propertyId, currency, tz }: { propertyId: string; currency: string; tz: string }) {
  const t = useTranslations("cm");
  const locale = useLocale();
  const agency = useAgency();
  const [start, setStart] = useState(() => today(tz));
  const end = addDays(start, DAYS);
  const days = useQuery({
    queryKey: key(agency, "channel", "days", propertyId, start),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/properties/{property_id}/channel-days", { params: { path: { property_id: propertyId }, query: { start, end } }, signal })),
    enabled: !!agency,
  });
  const nights = readNights(days.data ?? []);
  const platforms = platformsOf(nights);
  const when = (s: string | null) => (s ? new Intl.DateTimeFormat(locale, { dateStyle: "short", timeStyle: "short" }).format(new Date(s)) : t("never"));
  const cell = (n: Night, p: PlatformNight) => {
    const closed = closedBecause(n, p);
    const v = p.shouldShow;
    const shows = !v ? t("nightUnknown") : closed ? `${t("nightClosed")} · ${t(`because.${closed}`)}` : [t("nightOpen"), v.price_minor != null ? formatMoney(v.price_minor, currency, locale) : null, v.min_stay ? t("minStay", { n: v.min_stay }) : null].filter(Boolean).join(" · ");
    return (
      <>
        <Text size="xs">{shows}</Text>
        <Group gap={4}>
          <Badge size="xs" color={p.state === "in_step" ? "teal.9" : p.state === "pending" ? "indigo.9" : "orange.9"}>{t(`nightState.${p.state}`)}</Badge>
          <Text size="xs" c="gray.7">{t("pushed")} {when(p.pushedAt)}</Text>
        </Group>
      </>
    );
  };
  return (
    <Card withBorder data-testid="channel-nights">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h5">{t("nightsTitle")}</Title>
        <Group gap={4}>
          <Button size="compact-xs" variant="default" onClick={() => setStart(addDays(start, -DAYS))}>{t("earlier")}</Button>
          <Button size="compact-xs" variant="default" onClick={() => setStart(addDays(start, DAYS))}>{t("later")}</Button>
        </Group>
      </Group>
      <ProblemAlert error={days.error} />
      {days.data && platforms.length === 0 ? <Text size="sm" data-testid="no-channel-nights">{t("nightsEmpty")}</Text> : (
        <Table.ScrollContainer minWidth={560}>
          <Table data-testid="channel-nights-table">
            <Table.Thead>
              <Table.Tr><Table.Th>{t("night")}</Table.Th><Table.Th>{t("inCore")}</Table.Th>{platforms.map((p) => <Table.Th key={p.mappingId}>{p.platform} · {p.listing}</Table.Th>)}</Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {nights.map((n) => (
                <Table.Tr key={n.date} data-testid="channel-night">
                  <Table.Td>{formatDate(n.date, locale, { weekday: "short", day: "numeric", month: "short" })}</Table.Td>
                  <Table.Td>{n.reason.kind === "free" ? t("free") : t.has(`reason.${n.reason.kind}`) ? t(`reason.${n.reason.kind}`) : n.reason.kind}</Table.Td>
                  {n.platforms.map((p) => <Table.Td key={p.mappingId}>{cell(n, p)}</Table.Td>)}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}
