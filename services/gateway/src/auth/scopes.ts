import type { Role } from '@o2o/kit-grpc';

/** Every scope a credential can hold; routes name the ones they need. */
export const SCOPES = [
  'catalogue:read',
  'catalogue:write',
  'inventory:read',
  'inventory:write',
  'orders:read',
  'orders:write',
  'payments:read',
  'fulfilment:write',
  'tracking:read',
  'webhooks:manage',
  'keys:manage',
] as const;

export type Scope = (typeof SCOPES)[number];

/** What a credential of each role may do when it names no scopes of its own (it can only ever narrow these). */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  shopper: ['catalogue:read', 'inventory:read', 'orders:read', 'orders:write', 'payments:read', 'tracking:read'],
  staff: [
    'catalogue:read',
    'inventory:read',
    'orders:read',
    'orders:write',
    'payments:read',
    'fulfilment:write',
    'tracking:read',
  ],
  partner: [
    'catalogue:read',
    'inventory:read',
    'orders:read',
    'orders:write',
    'payments:read',
    'tracking:read',
    'webhooks:manage',
  ],
  admin: SCOPES,
};

/** The scopes a credential really has: those it names that its role allows, or the role's defaults. */
export function effectiveScopes(role: Role, requested: readonly string[] | undefined): string[] {
  const allowed = ROLE_SCOPES[role] as readonly string[];
  if (!requested || requested.length === 0) return [...allowed];
  return requested.filter((s) => allowed.includes(s));
}
