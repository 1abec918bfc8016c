// Roles are ordered: an agent may do all a client may, an admin all an agent may.
export const ROLES = ['client', 'agent', 'admin'] as const;
export type UserRole = (typeof ROLES)[number];

/** What a route requires: a role, or `public` for routes open to anyone. */
export type Access = UserRole | 'public';

export function allows(held: UserRole, required: UserRole): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(required);
}

export interface Principal {
  kind: 'api_key' | 'operator';
  id: string;
  name: string;
  role: UserRole;
}

/** How a principal is named in the audit log. */
export const actorOf = (p: Principal) => `${p.kind}:${p.id}`;
