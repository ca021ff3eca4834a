/** Governance's releases as a service applies them: consumed, verified, persisted, in force (see README). */
export { type AppliedReleases, PostgresAppliedReleases, type ReleaseState } from './applied-releases.repository';
export { canonicalJson, contentHashOf } from './content-hash';
export { CurrentRelease, type ReleaseHealth, type ReleaseSummary } from './current-release';
export { type ArtifactSource, GovernanceArtifacts, type GovernanceArtifactsOptions } from './governance-artifacts';
export {
  type AppliedRelease,
  type ArtifactKind,
  type ReleaseApplier,
  type ReleaseArtifact,
  type ReleaseMember,
  type ReleaseStage,
  type ReleasesInForce,
  artifactOf,
  artifactsOf,
  releaseMembers,
} from './release';
export { ReleaseApplication, type ReleaseApplicationOptions } from './release-application';
export { type ReleaseStepPlan, type ReleaseStepSkip, planReleaseStep } from './release-step';
export { ReleasesError, type ReleasesErrorCode, releasesErrors } from './releases.error';
export {
  governanceClientConfigSchema,
  type ReleasesConfig,
  refineReleasesConfig,
  releasesConfigSchema,
} from './releases.config';
export { createReleasesMetrics, type ReleasesMetrics } from './releases.metrics';
export { ReleaseAppliers, ReleasesModule, type ReleasesModuleOptions } from './releases.module';
export { releasesTablesMigration } from './releases-tables.migration';
