import { z } from 'zod';

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/**
 * How a service checks bearer tokens. An organisation's OIDC issuer plugs in with `ACCESS_JWKS_URL` (its
 * `jwks_uri`); `ACCESS_SHARED_KEY` (HS256) verifies the tokens governance mints for machine clients and the
 * ones services mint for each other. One or both: with both, a token's `alg` picks the key (HS256 the shared
 * key, an asymmetric algorithm the issuer's key set), so neither can pass as the other.
 * Merge into a service's schema with `.extend(accessConfigSchema.shape)`; refine with `accessConfigProblem`.
 */
export const accessConfigSchema = z.object({
  ACCESS_ISSUER: z.string().min(1).default('keel-governance'),
  ACCESS_AUDIENCE: z.string().min(1).default('keel'),
  ACCESS_JWKS_URL: optional(z.url()),
  /** The issuer of the tokens the JWKS signs, when it differs from `ACCESS_ISSUER` (governance's own). */
  ACCESS_JWKS_ISSUER: optional(z.string().min(1)),
  ACCESS_SHARED_KEY: optional(z.string().min(32, 'at least 32 characters')),
  /** Leeway for `exp`/`nbf` between the issuer's clock and ours. */
  ACCESS_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** Claim holding the tenant id, and the one holding the list of roles (issuers name them differently). */
  ACCESS_TENANT_CLAIM: z.string().min(1).default('tenant'),
  ACCESS_ROLES_CLAIM: z.string().min(1).default('roles'),
});

export type AccessConfig = z.infer<typeof accessConfigSchema>;

/** The one rule zod's shape cannot say: some way to get keys. Use in the service schema's superRefine. */
export function accessConfigProblem(
  config: Pick<AccessConfig, 'ACCESS_JWKS_URL' | 'ACCESS_SHARED_KEY'>,
): string | undefined {
  if (config.ACCESS_JWKS_URL === undefined && config.ACCESS_SHARED_KEY === undefined) {
    return 'set ACCESS_JWKS_URL (an OIDC issuer), ACCESS_SHARED_KEY (tokens governance and services mint), or both';
  }
  return undefined;
}

/** Adds `accessConfigProblem` to a service schema's refinements, reported on `ACCESS_SHARED_KEY`. */
export function refineAccessConfig(
  config: Pick<AccessConfig, 'ACCESS_JWKS_URL' | 'ACCESS_SHARED_KEY'>,
  context: z.RefinementCtx,
): void {
  const problem = accessConfigProblem(config);
  if (problem !== undefined)
    context.addIssue({ code: 'custom', message: problem, path: ['ACCESS_SHARED_KEY'] });
}
