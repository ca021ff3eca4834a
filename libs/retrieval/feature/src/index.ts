/** The retrieval service's feature: knowledge inbox, context query API, document registry, adapters wired by config. */
export { documentRegistryMigration } from './document-registry.migration';
export { DocumentRegistryRepository, type RegisteredDocument } from './document-registry.repository';
export { retrievalConfigSchema, type RetrievalConfig } from './retrieval.config';
export { RetrievalFeatureModule, type RetrievalFeatureOptions } from './retrieval-feature.module';
