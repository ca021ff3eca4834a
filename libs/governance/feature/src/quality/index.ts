/** Release quality: replay gate, shadow agreement, drift with automatic rollback. */
export { type GovernanceQualityConfig, governanceQualityConfigSchema } from './quality.config';
export {
  GovernanceQualityModule,
  type GovernanceQualityModuleOptions,
  replayPromotionGate,
} from './quality.module';
export { governanceQualityMigration } from './persistence/quality-tables.migration';
