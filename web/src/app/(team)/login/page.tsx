"use client";
import { Anchor, Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, unwrap } from "@/api/client";
import { useAuth } from "@/auth/AuthProvider";
import { AuthCard } from "@/components/AuthCard";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";

export default function LoginPage() {
  const t = useTranslations("auth");
  const { signIn } = useAuth();
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({
    mutationFn: async () => signIn(await unwrap(api.POST("/api/v1/auth/login", { body: { email, password } }))),
    onSuccess: () => router.replace("/calendar"),
  });
  const errors = errorsOf(login.error);
  return (
    <AuthCard title={t("loginTitle")}>
      <form onSubmit={(e) => { e.preventDefault(); login.mutate(); }}>
        <Stack>
          <ProblemAlert error={login.error} />
          <TextInput label={t("email")} type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={errors.email} />
          <PasswordInput label={t("password")} autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={errors.password} />
          <Button type="submit" loading={login.isPending}>{t("login")}</Button>
          <Text size="sm">{t("noAccount")} <Anchor href="/signup">{t("signup")}</Anchor></Text>
        </Stack>
      </form>
    </AuthCard>
  );
}
