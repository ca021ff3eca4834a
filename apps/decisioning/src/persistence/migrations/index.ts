import {
  DecisioningDecisionQueue1764400000100,
  DecisioningTables1764100000100,
} from '@keel/decisioning-feature';
import { messagingDeliveryCountsMigration, messagingTablesMigration } from '@keel/messaging';
import { type ServiceMigrations, serviceSchemaMigration } from '@keel/persistence';
import { releasesTablesMigration } from '@keel/releases';

/** The decisioning service's schema and its migrations, oldest first: run at boot and by `npm run migrate`. */
export const decisioningMigrations: ServiceMigrations = {
  schema: 'decisioning',
  migrations: [
    serviceSchemaMigration('decisioning'),
    messagingTablesMigration('decisioning'),
    DecisioningTables1764100000100,
    messagingDeliveryCountsMigration('decisioning'),
    DecisioningDecisionQueue1764400000100,
    releasesTablesMigration('decisioning'),
  ],
};
