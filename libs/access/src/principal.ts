/** Keel's roles. `admin` holds every other; operators and approvers can also view. */
export const roles = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof roles)[number];

const implied: Readonly<Record<Role, readonly Role[]>> = {
  viewer: ['viewer'],
  operator: ['operator', 'viewer'],
  approver: ['approver', 'viewer'],
  admin: roles,
};

/** Who is calling: from a verified bearer token, never from anything the caller could set otherwise. */
export interface Principal {
  /** The token's `sub`: a person's id at the issuer, or `apikey:<id>` for a machine client. */
  readonly subject: string;
  /** The one tenant the caller acts in. */
  readonly tenant: string;
  readonly roles: readonly Role[];
}

/** Whether `principal` holds `role`, directly or through a role that implies it. */
export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.some((held) => implied[held].includes(role));
}
