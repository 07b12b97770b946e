"use client";
import { Button, PasswordInput, Stack, TextInput } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { api, unwrap } from "@/api/client";
import { useAuth } from "@/auth/AuthProvider";
import * as session from "@/auth/session";
import { AuthCard } from "@/components/AuthCard";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";

function AcceptForm() {
  const t = useTranslations("auth");
  const params = useSearchParams();
  const { signIn, status } = useAuth();
  const router = useRouter();
  const [token, setToken] = useState(params.get("token") ?? "");
  const [password, setPassword] = useState("");
  const [fullName, setFullName] = useState("");
  const accept = useMutation({
    mutationFn: async () => {
      const signedIn = status === "signed-in";
      const res = await unwrap(
        api.POST("/api/v1/invitations/accept", { body: { token, password: signedIn ? null : password, full_name: fullName || null } }),
      );
      session.setAgencyId(res.agency_id);
      if (res.tokens) await signIn(res.tokens);
      return signedIn || !!res.tokens;
    },
    onSuccess: (ready) => router.replace(ready ? "/calendar" : "/login"),
  });
  const errors = errorsOf(accept.error);
  return (
    <AuthCard title={t("acceptTitle")}>
      <form onSubmit={(e) => { e.preventDefault(); accept.mutate(); }}>
        <Stack>
          <ProblemAlert error={accept.error} />
          <TextInput label={t("invitationToken")} required value={token} onChange={(e) => setToken(e.currentTarget.value)} error={errors.token} />
          {status !== "signed-in" && (
            <>
              <TextInput label={t("fullName")} value={fullName} onChange={(e) => setFullName(e.currentTarget.value)} error={errors.full_name} />
              <PasswordInput label={t("password")} description={t("passwordHint")} autoComplete="new-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={errors.password} />
            </>
          )}
          <Button type="submit" loading={accept.isPending}>{t("accept")}</Button>
        </Stack>
      </form>
    </AuthCard>
  );
}

export default function AcceptPage() {
  return (
    <Suspense>
      <AcceptForm />
    </Suspense>
  );
}
