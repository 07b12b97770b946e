// What a role may do, from the API's own role table (role-permissions.json is generated from
// pms.core.permissions by `npm run gen:api`): the UI offers only what the API would allow.
import table from "./role-permissions.json";
import type { components } from "@/api/schema";

export type Role = components["schemas"]["Role"];
export type Permission = (typeof table)["admin"][number];

const byRole = table as Record<Role, readonly string[]>;

export function can(role: Role | null | undefined, permission: Permission): boolean {
  return !!role && byRole[role].includes(permission);
}
