import { IngestionSourceSchemas1764300000000, IngestionTables1764100000000 } from '@keel/ingestion-feature';
import { messagingDeliveryCountsMigration, messagingTablesMigration } from '@keel/messaging';
import { type ServiceMigrations, serviceSchemaMigration } from '@keel/persistence';

/** The ingestion service's schema and its migrations, oldest first: run at boot and by `npm run migrate`. */
export const ingestionMigrations: ServiceMigrations = {
  schema: 'ingestion',
  migrations: [
    serviceSchemaMigration('ingestion'),
    messagingTablesMigration('ingestion'),
    IngestionTables1764100000000,
    messagingDeliveryCountsMigration('ingestion'),
    IngestionSourceSchemas1764300000000,
  ],
};
