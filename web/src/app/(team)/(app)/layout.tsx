"use client";
import { AppShell, Badge, Burger, Button, Center, Group, Loader, NavLink, Select, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useTranslations } from "next-intl";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { useAuth } from "@/auth/AuthProvider";
import type { Permission } from "@/auth/permissions";
import { LocaleSwitch } from "@/components/LocaleSwitch";
import { useLiveEvents } from "@/hooks/live";

const NAV: { href: string; label: string; permission: Permission }[] = [
  { href: "/calendar", label: "calendar", permission: "bookings.read" },
  { href: "/bookings", label: "bookings", permission: "bookings.read" },
  { href: "/payments", label: "payments", permission: "payments.read" },
  { href: "/properties", label: "properties", permission: "properties.read" },
  { href: "/rates", label: "rates", permission: "rates.read" },
  { href: "/guests", label: "guests", permission: "guests.read" },
  { href: "/team", label: "team", permission: "team.read" },
  { href: "/channels", label: "channels", permission: "channels.read" },
  { href: "/channel-manager", label: "channelManager", permission: "channels.read" },
];

export default function AppLayout({ children }: { children: ReactNode }) {
  const t = useTranslations("nav");
  const auth = useAuth();
  const router = useRouter();
  const pathname = usePathname();
  const [opened, { toggle, close }] = useDisclosure();
  const live = useLiveEvents(auth.agencyId, auth.status === "signed-in" && auth.can("bookings.read"));

  useEffect(() => {
    if (auth.status === "signed-out") router.replace("/login");
  }, [auth.status, router]);

  if (auth.status !== "signed-in" || !auth.me) {
    return (
      <Center mih="100vh" component="main">
        <Loader aria-label={t("loading")} />
      </Center>
    );
  }
  const memberships = auth.me.memberships;
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: "md", collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label={t("menu")} />
            <Text fw={700} c="indigo.9">PMS-Webapp</Text>
            <Badge color={live === "live" ? "teal.9" : "gray.7"} variant="filled" data-testid="live-state" visibleFrom="xs">
              {live === "live" ? t("live") : t("connecting")}
            </Badge>
          </Group>
          <Group wrap="nowrap" gap="xs">
            {memberships.length > 1 ? (
              <Select
                aria-label={t("agency")}
                data-testid="agency-switch"
                size="xs"
                w={200}
                allowDeselect={false}
                value={auth.agencyId}
                data={memberships.map((m) => ({ value: m.agency_id, label: `${m.agency_name} (${m.role})` }))}
                onChange={(v) => v && auth.switchAgency(v)}
              />
            ) : (
              <Text size="sm" visibleFrom="sm" data-testid="agency-name">{memberships[0]?.agency_name} · {auth.role}</Text>
            )}
            <LocaleSwitch />
            <Button size="xs" variant="default" onClick={() => void auth.signOut().then(() => router.replace("/login"))}>{t("signOut")}</Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t("main")} component="nav">
        {NAV.filter((n) => auth.can(n.permission)).map((n) => (
          <NavLink key={n.href} component={Link} href={n.href} label={t(n.label)} active={pathname.startsWith(n.href)} variant="filled" onClick={close} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <div key={auth.agencyId}>{children}</div>
      </AppShell.Main>
    </AppShell>
  );
}
