"use client";
// One editor for the pricing lists (rate plans, seasons, fees, tax classes, visitor taxes): a
// table, a form in a dialog to create or edit a row, and delete with confirmation. The API's
// field errors are shown next to their fields.
import { Button, Card, Checkbox, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useState } from "react";
import { DateField } from "@/components/DateField";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { formatDate } from "@/lib/dates";
import { formatMoney, minorDigits } from "@/lib/money";
import { toBody, toForm, type Field, type FormValues } from "./fields";

type Row = { id: string } & Record<string, unknown>;

type Props = {
  title: string;
  testId: string;
  fields: Field[];
  items: Row[] | undefined;
  currency: string;
  canWrite: boolean;
  create: (body: Record<string, unknown>) => Promise<unknown>;
  update: (id: string, body: Record<string, unknown>) => Promise<unknown>;
  remove: (id: string) => Promise<unknown>;
  onChanged: () => void;
  /** Extra content per row (e.g. a season list under a rate plan). */
  extra?: (row: Row) => React.ReactNode;
};

export function ResourceEditor(p: Props) {
  const t = useTranslations("pricing");
  const tc = useTranslations("common");
  const locale = useLocale();
  const [editing, setEditing] = useState<{ id: string | null; form: FormValues } | null>(null);
  const [deleting, setDeleting] = useState<Row | null>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: ({ id, body }: { id: string | null; body: Record<string, unknown> }) => (id ? p.update(id, body) : p.create(body)),
    onSuccess: () => { setEditing(null); p.onChanged(); },
  });
  const del = useMutation({
    mutationFn: (id: string) => p.remove(id),
    onSuccess: () => { setDeleting(null); p.onChanged(); },
  });
  const msg = { required: t("required"), notAmount: t("notAmount"), notWhole: t("notWhole"), notNumber: t("notNumber") };
  const open = (row: Row | null) => {
    save.reset();
    setLocal({});
    setEditing({ id: row?.id ?? null, form: toForm(row, p.fields, p.currency, minorDigits) });
  };
  const submit = () => {
    if (!editing) return;
    const { body, errors } = toBody(editing.form, p.fields, p.currency, msg);
    setLocal(errors);
    if (Object.keys(errors).length === 0) save.mutate({ id: editing.id, body });
  };
  const apiErrors = errorsOf(save.error);
  const cell = (f: Field, row: Row) => {
    const v = row[f.name];
    if (v === null || v === undefined || v === "") return "—";
    if (f.type === "money") return formatMoney(Number(v), typeof row.currency === "string" ? row.currency : p.currency, locale);
    if (f.type === "bool") return v ? "✓" : "";
    if (f.type === "select") return f.options?.find((o) => o.value === v)?.label ?? String(v);
    if (f.type === "date") return formatDate(String(v), locale);
    if (f.type === "decimal") return new Intl.NumberFormat(locale, { maximumFractionDigits: 4 }).format(Number(v));
    return String(v);
  };
  const columns = p.fields.filter((f) => f.column !== false);
  const set = (name: string, value: string | boolean) => editing && setEditing({ ...editing, form: { ...editing.form, [name]: value } });
  return (
    <Card withBorder data-testid={p.testId}>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h5">{p.title}</Title>
        {p.canWrite && <Button size="xs" onClick={() => open(null)} data-testid={`${p.testId}-new`}>{t("new")}</Button>}
      </Group>
      <ProblemAlert error={del.error} />
      {p.items && p.items.length === 0 ? <Text size="sm">{t("none")}</Text> : (
        <Table.ScrollContainer minWidth={520}>
          <Table>
            <Table.Thead><Table.Tr>{columns.map((f) => <Table.Th key={f.name}>{f.label}</Table.Th>)}{p.canWrite && <Table.Th>{t("actions")}</Table.Th>}</Table.Tr></Table.Thead>
            <Table.Tbody>
              {(p.items ?? []).map((row) => (
                <Table.Tr key={row.id} data-testid={`${p.testId}-row`}>
                  {columns.map((f) => <Table.Td key={f.name}>{cell(f, row)}</Table.Td>)}
                  {p.canWrite && (
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="compact-xs" variant="default" onClick={() => open(row)}>{t("edit")}</Button>
                        <Button size="compact-xs" variant="default" color="red.9" onClick={() => setDeleting(row)}>{t("delete")}</Button>
                        {p.extra?.(row)}
                      </Group>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={!!editing} onClose={() => setEditing(null)} title={`${p.title}: ${editing?.id ? t("edit") : t("new")}`}>
        {editing && (
          <form onSubmit={(e) => { e.preventDefault(); submit(); }}>
            <Stack gap="xs">
              <ProblemAlert error={save.error} />
              {p.fields.map((f) => {
                const error = local[f.name] ?? apiErrors[f.name];
                const value = editing.form[f.name];
                if (f.type === "bool") return <Checkbox key={f.name} label={f.label} checked={value === true} onChange={(e) => set(f.name, e.currentTarget.checked)} error={error} />;
                if (f.type === "select") return <Select key={f.name} label={f.label} data={f.options ?? []} value={typeof value === "string" && value ? value : null} clearable={!!f.optional} allowDeselect={!!f.optional} onChange={(v) => set(f.name, v ?? "")} error={error} />;
                if (f.type === "date") return <DateField key={f.name} label={f.label} value={typeof value === "string" ? value : ""} onChange={(v) => set(f.name, v)} error={error} />;
                const label = f.type === "money" ? `${f.label} (${typeof editing.form.currency === "string" && editing.form.currency ? editing.form.currency : p.currency})` : f.label;
                return (
                  <TextInput key={f.name} label={label} value={typeof value === "string" ? value : ""} error={error}
                    inputMode={f.type === "money" || f.type === "decimal" ? "decimal" : f.type === "int" ? "numeric" : undefined}
                    onChange={(e) => set(f.name, e.currentTarget.value)} />
                );
              })}
              <Group justify="flex-end">
                <Button variant="default" onClick={() => setEditing(null)}>{tc("cancel")}</Button>
                <Button type="submit" loading={save.isPending} data-testid={`${p.testId}-save`}>{tc("save")}</Button>
              </Group>
            </Stack>
          </form>
        )}
      </Modal>
      <Modal opened={!!deleting} onClose={() => setDeleting(null)} title={t("delete")}>
        <Stack>
          <Text>{t("deleteConfirm")}</Text>
          <ProblemAlert error={del.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(null)}>{tc("cancel")}</Button>
            <Button color="red.9" loading={del.isPending} onClick={() => deleting && del.mutate(deleting.id)}>{t("delete")}</Button>
          </Group>
        </Stack>
      </Modal>
    </Card>
  );
}
