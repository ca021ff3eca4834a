export { type GovernanceConfig, governanceConfigSchema } from './governance.config';
export { GovernanceModule, type GovernanceModuleOptions } from './governance.module';
export {
  governanceHoldDeadlinesMigration,
  governanceInboxLineageMigration,
} from './persistence/governance-inbox-lineage.migration';
export { governanceTablesMigration } from './persistence/governance-tables.migration';
export {
  type GovernanceQualityConfig,
  GovernanceQualityModule,
  type GovernanceQualityModuleOptions,
  governanceQualityConfigSchema,
  governanceQualityMigration,
  replayPromotionGate,
} from './quality';
