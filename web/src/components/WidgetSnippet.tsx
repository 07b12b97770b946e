"use client";
// The property's page on the guests' booking site and the copy-paste tag of the agency widget
// (public/widget.js) for the agency's own website.
import { Anchor, Code, Paper, Stack, Text, Title } from "@mantine/core";
import { useTranslations } from "next-intl";

export function WidgetSnippet({ slug, propertyId, listed }: { slug: string; propertyId: string; listed: boolean }) {
  const t = useTranslations("properties");
  // Shown only after sign-in, in the browser: the booking site is this app's origin.
  const origin = typeof window === "undefined" ? "" : window.location.origin;
  const snippet = `<script src="${origin}/widget.js" data-agency="${slug}" data-property="${propertyId}" async></script>`;
  return (
    <Paper withBorder p="md" data-testid="widget-snippet">
      <Stack gap="xs">
        <Title order={2} size="h4">
          {t("bookingSite")}
        </Title>
        {listed ? (
          <Anchor href={`/${slug}/properties/${propertyId}`} target="_blank">
            {`${origin}/${slug}/properties/${propertyId}`}
          </Anchor>
        ) : (
          <Text size="sm">{t("notListedSite")}</Text>
        )}
        <Text size="sm">{t("widgetHelp")}</Text>
        <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
          {snippet}
        </Code>
      </Stack>
    </Paper>
  );
}
