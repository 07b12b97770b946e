import type { NextConfig } from "next";
import createNextIntlPlugin from "next-intl/plugin";

const withNextIntl = createNextIntlPlugin("./src/i18n/request.ts");

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The API is reached through /api/v1 on this origin (src/app/api/v1/[...path]/route.ts), so
  // the browser needs no CORS grant and the API's address is read at run time (API_URL).
  // `make test` runs `tsc --noEmit` over the whole app (and its tests) before anything is built;
  // the build does not check the types a second time.
  typescript: { ignoreBuildErrors: true },
  experimental: { optimizePackageImports: ["@mantine/core", "@mantine/hooks"] },
  // Every page's <title> and metadata are rendered in <head> with the first bytes, for every
  // browser: streamed metadata would leave a page without a title (an accessibility failure)
  // while a refresh, e.g. after switching the language, is still arriving.
  htmlLimitedBots: /.*/,
};

export default withNextIntl(config);
