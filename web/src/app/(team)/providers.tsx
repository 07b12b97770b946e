"use client";
import { MantineProvider, Modal, createTheme } from "@mantine/core";
import { useTranslations } from "next-intl";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useMemo, useState, type ReactNode } from "react";
import { ApiError } from "@/api/problem";
import { AuthProvider } from "@/auth/AuthProvider";

function makeTheme(close: string) {
  return createTheme({
    primaryColor: "indigo",
    // Darker shades keep text on filled buttons above 4.5:1 contrast (axe: color-contrast).
    primaryShade: 8,
    fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    components: { Modal: Modal.extend({ defaultProps: { closeButtonProps: { "aria-label": close } } }) },
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const t = useTranslations("common");
  const close = t("close");
  const theme = useMemo(() => makeTheme(close), [close]);
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 30_000,
            refetchOnWindowFocus: false,
            retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
          },
        },
      }),
  );
  return (
    <MantineProvider theme={theme}>
      <QueryClientProvider client={client}>
        <AuthProvider>{children}</AuthProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
