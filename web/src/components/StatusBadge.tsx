"use client";
import { Badge } from "@mantine/core";
import { useTranslations } from "next-intl";
import type { Booking } from "@/hooks/bookings";

const COLORS: Record<Booking["status"], string> = {
  inquiry: "gray.8", requested: "yellow.9", hold: "orange.9", confirmed: "teal.9", checked_in: "blue.9", checked_out: "gray.8",
  conflict: "red.9", cancelled: "red.9", declined: "red.9", expired: "gray.8", no_show: "red.9",
};

export function StatusBadge({ status }: { status: Booking["status"] }) {
  const t = useTranslations("calendar.status");
  return <Badge color={COLORS[status]} variant="filled" data-testid="booking-status">{t(status)}</Badge>;
}
