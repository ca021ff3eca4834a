import {
  governanceHoldDeadlinesMigration,
  governanceInboxLineageMigration,
  governanceQualityMigration,
  governanceTablesMigration,
} from '@keel/governance-feature';
import { messagingDeliveryCountsMigration, messagingTablesMigration } from '@keel/messaging';
import { type ServiceMigrations, serviceSchemaMigration } from '@keel/persistence';

/** The governance service's schema and its migrations, oldest first: run at boot and by `npm run migrate`. */
export const governanceMigrations: ServiceMigrations = {
  schema: 'governance',
  migrations: [
    serviceSchemaMigration('governance'),
    messagingTablesMigration('governance'),
    messagingDeliveryCountsMigration('governance'),
    governanceTablesMigration('governance'),
    governanceInboxLineageMigration('governance'),
    governanceQualityMigration('governance'),
    governanceHoldDeadlinesMigration('governance'),
  ],
};
