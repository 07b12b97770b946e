"use client";
import { Alert, Button, Code, Group, Select, Stack, Table, TextInput, Title } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import { useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { useChangeRole, useInvite, useMembers, type Role } from "@/hooks/team";

const ROLES: Role[] = ["admin", "manager", "staff", "accountant", "owner"];

export default function TeamPage() {
  const t = useTranslations("team");
  const locale = useLocale();
  const { can } = useAuth();
  const members = useMembers();
  const invite = useInvite();
  const change = useChangeRole();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("staff");
  const manage = can("team.manage");
  const roleOptions = ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }));
  const errors = errorsOf(invite.error);
  return (
    <Stack>
      <Title order={1} size="h3">{t("title")}</Title>
      {manage && (
        <form onSubmit={(e) => { e.preventDefault(); invite.mutate({ email, role }); }}>
          <Stack gap="xs" maw={640}>
            <ProblemAlert error={invite.error} />
            <Group align="flex-end">
              <TextInput label={t("email")} type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={errors.email} w={260} />
              <Select label={t("role")} allowDeselect={false} value={role} onChange={(v) => v && setRole(v as Role)} data={roleOptions} w={160} />
              <Button type="submit" loading={invite.isPending} data-testid="invite">{t("invite")}</Button>
            </Group>
            {invite.data && (
              <Alert color="teal" role="status" data-testid="invitation">
                {t("invited", { email: invite.data.email })} <Code data-testid="invitation-token">{invite.data.token}</Code>
              </Alert>
            )}
          </Stack>
        </form>
      )}
      <ProblemAlert error={members.error ?? change.error} />
      <Table.ScrollContainer minWidth={560}>
        <Table striped data-testid="members-table">
          <Table.Thead><Table.Tr><Table.Th>{t("email")}</Table.Th><Table.Th>{t("name")}</Table.Th><Table.Th>{t("role")}</Table.Th><Table.Th>{t("joined")}</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {(members.data ?? []).map((m) => (
              <Table.Tr key={m.user_id}>
                <Table.Td>{m.email}</Table.Td><Table.Td>{m.full_name}</Table.Td>
                <Table.Td>
                  {manage ? (
                    <Select aria-label={`${t("role")} ${m.email}`} size="xs" w={150} allowDeselect={false} value={m.role} data={roleOptions}
                      onChange={(v) => v && v !== m.role && change.mutate({ user_id: m.user_id, role: v as Role })} />
                  ) : t(`roles.${m.role}`)}
                </Table.Td>
                <Table.Td>{new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(new Date(m.joined_at))}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
