/** The retrieval service's feature: knowledge inbox, context query API, document registry, adapters wired by config. */
export { documentRegistryMigration } from './document-registry.migration';
export { EmbeddedIndexRepository, PostgresEmbeddedIndexPersistence } from './embedded-index.repository';
export { retrievalIndexStateMigration } from './retrieval-index-state.migration';
export { PostgresVersionTransitions, VersionTransitionRepository } from './version-transition.repository';
export { DocumentRegistryRepository, type RegisteredDocument } from './document-registry.repository';
export { retrievalConfigSchema, type RetrievalConfig } from './retrieval.config';
export { RetrievalFeatureModule, type RetrievalFeatureOptions } from './retrieval-feature.module';
