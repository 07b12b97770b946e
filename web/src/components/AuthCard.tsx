"use client";
import { Anchor, Center, Group, Paper, Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { LocaleSwitch } from "./LocaleSwitch";

export function AuthCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" radius="md" w={420} maw="100%">
        <Stack>
          <Group justify="space-between">
            <Anchor href="/" fw={700} c="indigo.9" underline="never">PMS-Webapp</Anchor>
            <LocaleSwitch />
          </Group>
          <Title order={1} size="h2">{title}</Title>
          {children}
        </Stack>
      </Paper>
    </Center>
  );
}
