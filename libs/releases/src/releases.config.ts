import { z } from 'zod';

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/**
 * How a service reaches governance's API (`GovernanceArtifacts`): its URL and a machine client's API key, both
 * optional here; the schema that needs them says when (`refineReleasesConfig`, ingestion's schema registry).
 */
export const governanceClientConfigSchema = z.object({
  GOVERNANCE_URL: optional(z.url()),
  GOVERNANCE_API_KEY: optional(z.string().min(1)),
  GOVERNANCE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
});

/**
 * How a service applies governance's releases. With `KEEL_RELEASE_TENANT` it runs that tenant's releases:
 * each promoted or rolled-back step on `keel.governance.releases.v1` is applied with the contents fetched
 * from `GOVERNANCE_URL` under a token minted from `GOVERNANCE_API_KEY` (a machine client of that tenant;
 * viewer is enough). Without it the service applies none and runs what it was installed with.
 * Merge into a service's schema with `.extend(releasesConfigSchema.shape)`; refine with `refineReleasesConfig`.
 */
export const releasesConfigSchema = z.object({
  KEEL_RELEASE_TENANT: optional(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'a tenant id')),
  ...governanceClientConfigSchema.shape,
  /** How often a replica checks whether another replica applied a release (one indexed read). */
  RELEASES_REFRESH_MS: z.coerce.number().int().min(50).default(1_000),
});

export type ReleasesConfig = z.infer<typeof releasesConfigSchema>;

/** What zod's shape cannot say: a release tenant needs governance's URL and an API key. */
export function refineReleasesConfig(
  config: Pick<ReleasesConfig, 'KEEL_RELEASE_TENANT' | 'GOVERNANCE_URL' | 'GOVERNANCE_API_KEY'>,
  context: z.RefinementCtx,
): void {
  if (config.KEEL_RELEASE_TENANT === undefined) return;
  for (const key of ['GOVERNANCE_URL', 'GOVERNANCE_API_KEY'] as const) {
    if (config[key] === undefined) {
      context.addIssue({
        code: 'custom',
        message: `required with KEEL_RELEASE_TENANT: releases are fetched from governance`,
        path: [key],
      });
    }
  }
}
