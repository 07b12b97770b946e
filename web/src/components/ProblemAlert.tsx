"use client";
import { Alert } from "@mantine/core";
import { useTranslations } from "next-intl";
import { ApiError, fieldErrors, type Problem } from "@/api/problem";

/** The API's own words for a failed request (RFC 9457 `detail`, else `title`). */
export function ProblemAlert({ error, testId }: { error: unknown; testId?: string }) {
  const t = useTranslations("common");
  if (!error) return null;
  const text = error instanceof ApiError ? error.message : t("networkError");
  return (
    <Alert color="red" role="alert" data-testid={testId ?? "problem"} title={error instanceof ApiError ? error.problem.title : undefined}>
      {text}
    </Alert>
  );
}

/** Field errors of a failed request, keyed by field name, to show next to each field. */
export function errorsOf(error: unknown): Record<string, string> {
  return error instanceof ApiError ? fieldErrors(error.problem as Problem) : {};
}
