"use client";
// A selection of free nights becomes a booking (with a live quote) or a block.
import { Button, Group, Modal, NumberInput, SegmentedControl, Select, Stack, Text, TextInput } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import { useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { QuoteSummary } from "@/components/QuoteSummary";
import { useCreateBlock, useCreateBooking } from "@/hooks/bookings";
import { useQuote } from "@/hooks/quotes";
import type { components } from "@/api/schema";
import type { Selection } from "./CalendarGrid";
import { DateField } from "@/components/DateField";

type Source = components["schemas"]["BookingSource"];
type BlockKind = components["schemas"]["BlockKind"];

export function NewStayModal({ selection, propertyName, onClose }: { selection: Selection | null; propertyName: string; onClose: () => void }) {
  const t = useTranslations("calendar");
  const locale = useLocale();
  const { can } = useAuth();
  const mayBook = can("bookings.create");
  const mayBlock = can("blocks.write") || can("owner_blocks.write");
  const ownerOnly = !can("blocks.write");
  const [kind, setKind] = useState<"booking" | "block">(mayBook ? "booking" : "block");
  const [checkIn, setCheckIn] = useState(selection?.start ?? "");
  const [checkOut, setCheckOut] = useState(selection?.end ?? "");
  const [guest, setGuest] = useState({ first_name: "", last_name: "", email: "" });
  const [adults, setAdults] = useState<number>(2);
  const [source, setSource] = useState<Source>("manual");
  const [blockKind, setBlockKind] = useState<BlockKind>(ownerOnly ? "owner" : "manual");
  const [note, setNote] = useState("");
  const createBooking = useCreateBooking();
  const createBlock = useCreateBlock();
  const quote = useQuote(selection && kind === "booking" ? { property_id: selection.propertyId, check_in: checkIn, check_out: checkOut, adults, pets: 0 } : null);
  if (!selection) return null;
  const error = kind === "booking" ? createBooking.error : createBlock.error;
  const errors = errorsOf(error);
  const submit = () => {
    if (kind === "booking") {
      createBooking.mutate(
        {
          property_id: selection.propertyId,
          check_in: checkIn,
          check_out: checkOut,
          adults,
          source,
          guest: guest.last_name || guest.email ? { last_name: guest.last_name, first_name: guest.first_name || null, email: guest.email, language: locale } : null,
        },
        { onSuccess: onClose },
      );
    } else {
      createBlock.mutate({ property_id: selection.propertyId, start: checkIn, end: checkOut, kind: blockKind, note: note || null }, { onSuccess: onClose });
    }
  };
  const sources: Source[] = ["manual", "direct", "airbnb", "booking_com", "expedia", "fewo_direkt", "google"];
  return (
    <Modal opened onClose={onClose} title={t("newStay", { property: propertyName })} size="lg">
      <form onSubmit={(e) => { e.preventDefault(); submit(); }}>
        <Stack>
          {mayBook && mayBlock && (
            <SegmentedControl
              aria-label={t("kind")}
              value={kind}
              onChange={(v) => setKind(v as typeof kind)}
              data={[{ value: "booking", label: t("booking") }, { value: "block", label: t("block") }]}
            />
          )}
          <ProblemAlert error={error} testId="stay-problem" />
          <Group grow>
            <DateField label={kind === "booking" ? t("checkIn") : t("from")} value={checkIn} onChange={setCheckIn} error={errors.check_in ?? errors.start} required />
            <DateField label={kind === "booking" ? t("checkOut") : t("until")} value={checkOut} onChange={setCheckOut} error={errors.check_out ?? errors.end} required />
          </Group>
          {kind === "booking" ? (
            <>
              <Group grow>
                <TextInput label={t("firstName")} value={guest.first_name} onChange={(e) => setGuest({ ...guest, first_name: e.currentTarget.value })} error={errors.first_name} />
                <TextInput label={t("lastName")} value={guest.last_name} onChange={(e) => setGuest({ ...guest, last_name: e.currentTarget.value })} error={errors.last_name} required />
              </Group>
              <TextInput label={t("email")} type="email" value={guest.email} onChange={(e) => setGuest({ ...guest, email: e.currentTarget.value })} error={errors.email} required />
              <Group grow>
                <NumberInput label={t("adults")} min={1} max={100} value={adults} onChange={(v) => setAdults(Number(v) || 1)} error={errors.adults} />
                <Select label={t("sourceLabel")} allowDeselect={false} value={source} onChange={(v) => v && setSource(v as Source)} data={sources.map((s) => ({ value: s, label: t(`source.${s}`) }))} />
              </Group>
              {quote.data ? <QuoteSummary quote={quote.data} /> : quote.error ? <Text size="sm" c="gray.7">{t("noQuote")}</Text> : null}
            </>
          ) : (
            <>
              <Select
                label={t("blockKind")}
                allowDeselect={false}
                value={blockKind}
                onChange={(v) => v && setBlockKind(v as BlockKind)}
                data={(ownerOnly ? ["owner"] : ["manual", "maintenance", "owner"]).map((k) => ({ value: k, label: t(`blockKinds.${k}`) }))}
              />
              <TextInput label={t("note")} value={note} onChange={(e) => setNote(e.currentTarget.value)} error={errors.note} />
            </>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>{t("cancel")}</Button>
            <Button type="submit" loading={createBooking.isPending || createBlock.isPending} data-testid="create-stay">
              {kind === "booking" ? t("createBooking") : t("createBlock")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
