import { type ServiceMigrations, serviceSchemaMigration } from '@keel/persistence';

/** The workflow service's schema and its migrations, oldest first: run at boot and by `npm run migrate`. */
export const workflowMigrations: ServiceMigrations = {
  schema: 'workflow',
  migrations: [serviceSchemaMigration('workflow')],
};
