"use client";
import { Anchor, Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, unwrap } from "@/api/client";
import { useAuth } from "@/auth/AuthProvider";
import * as session from "@/auth/session";
import { AuthCard } from "@/components/AuthCard";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";

export default function SignupPage() {
  const t = useTranslations("auth");
  const { signIn } = useAuth();
  const router = useRouter();
  const [form, setForm] = useState({ agency_name: "", email: "", password: "" });
  const signup = useMutation({
    mutationFn: async () => {
      const res = await unwrap(api.POST("/api/v1/auth/signup", { body: form }));
      session.setAgencyId(res.agency_id);
      await signIn(res);
    },
    onSuccess: () => router.replace("/properties?new=1"),
  });
  const errors = errorsOf(signup.error);
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.currentTarget.value });
  return (
    <AuthCard title={t("signupTitle")}>
      <form onSubmit={(e) => { e.preventDefault(); signup.mutate(); }}>
        <Stack>
          <ProblemAlert error={signup.error} />
          <TextInput label={t("agencyName")} required value={form.agency_name} onChange={set("agency_name")} error={errors.agency_name} />
          <TextInput label={t("email")} type="email" autoComplete="email" required value={form.email} onChange={set("email")} error={errors.email} />
          <PasswordInput label={t("password")} description={t("passwordHint")} autoComplete="new-password" required value={form.password} onChange={set("password")} error={errors.password} />
          <Button type="submit" loading={signup.isPending}>{t("signup")}</Button>
          <Text size="sm">{t("haveAccount")} <Anchor href="/login">{t("login")}</Anchor></Text>
        </Stack>
      </form>
    </AuthCard>
  );
}
