export { ChannelListener, type ChannelListenerOptions } from './channel-listener';
export { dataSourceReadinessCheck } from './data-source.readiness';
export { classifyPostgresFailure, type PostgresFailureKind } from './postgres-failure';
export { PersistenceModule, type PersistenceModuleOptions } from './persistence.module';
export {
  createServiceDataSource,
  type MigrationClass,
  type ServiceDataSourceOptions,
  type ServiceMigrations,
} from './service-data-source';
export {
  listServiceMigrations,
  revertLastServiceMigration,
  runServiceMigrations,
  type MigrationStatus,
} from './service-migrations';
export { assertSchemaName } from './schema-name';
export { integerLiteral } from './integer-literal';
export { SessionLeadership, type SessionLeadershipOptions } from './session-leadership';
export { ShardLeases, type ShardLeasesOptions } from './shard-leases';
export { serviceSchemaMigration } from './service-schema.migration';
