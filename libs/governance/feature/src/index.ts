export { configureGovernanceHttp } from './governance-http';
export { type GovernanceConfig, governanceConfigSchema } from './governance.config';
export { GovernanceModule, type GovernanceModuleOptions } from './governance.module';
export { governanceTablesMigration } from './persistence/governance-tables.migration';
