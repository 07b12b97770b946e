"use client";
// The agency's cancellation policies: change a policy's name and refund rules, or delete it (the
// API refuses while a property uses it, and its words are shown).
import { Button, Group, NumberInput, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useState } from "react";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { useAgency } from "@/hooks/agency";
import { usePolicies } from "@/hooks/rates";

type Policy = components["schemas"]["CancellationPolicy"];
type Rule = { days_before: number; refund_percent: number };

export function PolicyEditor() {
  const t = useTranslations("rates");
  const tp = useTranslations("pricing");
  const policies = usePolicies();
  const qc = useQueryClient();
  const agency = useAgency();
  const [editing, setEditing] = useState<string | null>(null);
  const invalidate = () => qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === (agency ?? "-") && ["policies", "pricing"].includes(q.queryKey[1] as string) });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/cancellation-policies/{policy_id}", { params: { path: { policy_id: id } } })),
    onSuccess: () => void invalidate(),
  });
  if (!policies.data?.length) return null;
  return (
    <Stack gap="xs" mt="sm" data-testid="policies">
      <Text fw={600} size="sm">{t("allPolicies")}</Text>
      <ProblemAlert error={remove.error} testId="policy-problem" />
      {policies.data.map((p) =>
        editing === p.id ? (
          <PolicyForm key={p.id} policy={p} onDone={() => { setEditing(null); void invalidate(); }} onCancel={() => setEditing(null)} />
        ) : (
          <Group key={p.id} justify="space-between" data-testid="policy-row">
            <Text size="sm">{p.name} · {p.rules.map((r) => t("policyRuleShort", { percent: String(r.refund_percent), days: r.days_before })).join(", ")}</Text>
            <Group gap={4}>
              <Button size="compact-xs" variant="default" onClick={() => { remove.reset(); setEditing(p.id); }} aria-label={t("editPolicy", { name: p.name })}>{tp("edit")}</Button>
              <Button size="compact-xs" variant="default" color="red.9" loading={remove.isPending && remove.variables === p.id} aria-label={t("deletePolicy", { name: p.name })}
                onClick={() => { if (window.confirm(t("deletePolicyConfirm", { name: p.name }))) remove.mutate(p.id); }}>{tp("delete")}</Button>
            </Group>
          </Group>
        ),
      )}
    </Stack>
  );
}

function PolicyForm({ policy, onDone, onCancel }: { policy: Policy; onDone: () => void; onCancel: () => void }) {
  const t = useTranslations("rates");
  const tc = useTranslations("common");
  const [name, setName] = useState(policy.name);
  const [rules, setRules] = useState<Rule[]>(policy.rules.map((r) => ({ days_before: r.days_before, refund_percent: Number(r.refund_percent) })));
  const save = useMutation({
    mutationFn: () => unwrap(api.PATCH("/api/v1/cancellation-policies/{policy_id}", { params: { path: { policy_id: policy.id } }, body: { name, rules: rules.map((r) => ({ days_before: r.days_before, refund_percent: String(r.refund_percent) })) } })),
    onSuccess: onDone,
  });
  const errors = errorsOf(save.error);
  const setRule = (i: number, change: Partial<Rule>) => setRules(rules.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <form data-testid="policy-form" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <Stack gap="xs">
        <ProblemAlert error={save.error} />
        <TextInput label={t("policyName")} value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} w={320} />
        {rules.map((r, i) => (
          <Group key={i} align="flex-end" gap="xs">
            <NumberInput label={t("daysBefore")} min={0} value={r.days_before} onChange={(v) => setRule(i, { days_before: Number(v) || 0 })} w={170} error={errors[`rules.${i}.days_before`]} />
            <NumberInput label={t("refundPercent")} min={0} max={100} value={r.refund_percent} onChange={(v) => setRule(i, { refund_percent: Number(v) || 0 })} w={130} error={errors[`rules.${i}.refund_percent`]} />
            <Button variant="default" size="xs" disabled={rules.length === 1} onClick={() => setRules(rules.filter((_, j) => j !== i))} aria-label={t("removeRule", { n: i + 1 })}>×</Button>
          </Group>
        ))}
        {errors.rules && <Text size="xs" c="red.9">{errors.rules}</Text>}
        <Group>
          <Button variant="default" size="xs" onClick={() => setRules([...rules, { days_before: 0, refund_percent: 0 }])}>{t("addRule")}</Button>
          <Button type="submit" size="xs" loading={save.isPending} data-testid="save-policy">{tc("save")}</Button>
          <Button variant="subtle" size="xs" onClick={onCancel}>{tc("cancel")}</Button>
        </Group>
      </Stack>
    </form>
  );
}
