"use client";
import { useAuth } from "@/auth/AuthProvider";

export function useAgency(): string | null {
  return useAuth().agencyId;
}
