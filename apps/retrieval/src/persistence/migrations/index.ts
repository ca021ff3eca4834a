import { messagingDeliveryCountsMigration, messagingTablesMigration } from '@keel/messaging';
import { type ServiceMigrations, serviceSchemaMigration } from '@keel/persistence';
import { documentRegistryMigration, retrievalIndexStateMigration } from '@keel/retrieval-feature';

/** The retrieval service's schema and its migrations, oldest first: run at boot and by `npm run migrate`. */
export const retrievalMigrations: ServiceMigrations = {
  schema: 'retrieval',
  migrations: [
    serviceSchemaMigration('retrieval'),
    messagingTablesMigration('retrieval'),
    messagingDeliveryCountsMigration('retrieval'),
    documentRegistryMigration('retrieval'),
    retrievalIndexStateMigration('retrieval'),
  ],
};
