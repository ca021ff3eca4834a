// The migration command: `npm run migrate -- <service|all> [up|down|show]` (default `up`).
//   up    apply every pending migration of the service's schema
//   down  revert the service's most recent migration (with `all`: of each service, in reverse order)
//   show  list each migration and whether it is applied; changes nothing
// Reads DATABASE_URL like the services do. Services also migrate themselves at boot unless
// DB_RUN_MIGRATIONS=false; this command is for running them separately (deploy step, rollback, inspection).
import { commonConfigSchema, ConfigError, loadConfig } from '@keel/config';
import {
  createServiceDataSource,
  listServiceMigrations,
  revertLastServiceMigration,
  runServiceMigrations,
  type ServiceMigrations,
} from '@keel/persistence';
import { decisioningMigrations } from '../apps/decisioning/src/persistence/migrations';
import { governanceMigrations } from '../apps/governance/src/persistence/migrations';
import { ingestionMigrations } from '../apps/ingestion/src/persistence/migrations';
import { retrievalMigrations } from '../apps/retrieval/src/persistence/migrations';
import { workflowMigrations } from '../apps/workflow/src/persistence/migrations';

const services: Record<string, ServiceMigrations> = {
  ingestion: ingestionMigrations,
  retrieval: retrievalMigrations,
  decisioning: decisioningMigrations,
  workflow: workflowMigrations,
  governance: governanceMigrations,
};
const commands = ['up', 'down', 'show'] as const;
type Command = (typeof commands)[number];

const usage = `usage: npm run migrate -- <${Object.keys(services).join('|')}|all> [${commands.join('|')}]`;

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function migrate(service: string, command: Command, databaseUrl: string): Promise<void> {
  const dataSource = createServiceDataSource({
    ...services[service],
    url: databaseUrl,
    applicationName: `keel-migrate-${service}`,
    poolSize: 2,
  });
  await dataSource.initialize();
  try {
    switch (command) {
      case 'up': {
        const applied = await runServiceMigrations(dataSource);
        print(`${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
        break;
      }
      case 'down': {
        const reverted = await revertLastServiceMigration(dataSource);
        print(`${service}: ${reverted ? `reverted ${reverted}` : 'nothing to revert'}`);
        break;
      }
      case 'show':
        for (const { name, applied } of await listServiceMigrations(dataSource)) {
          print(`${service}: [${applied ? 'x' : ' '}] ${name}`);
        }
        break;
    }
  } finally {
    await dataSource.destroy();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [target, command = 'up'] = argv;
  const isCommand = (value: string): value is Command => (commands as readonly string[]).includes(value);
  if (!target || !(target === 'all' || target in services) || !isCommand(command) || argv.length > 2) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const { DATABASE_URL } = loadConfig(commonConfigSchema);
  const selected = target === 'all' ? Object.keys(services) : [target];
  // Reverting undoes in the opposite order of applying.
  for (const service of command === 'down' ? selected.reverse() : selected) {
    await migrate(service, command, DATABASE_URL);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`migrate: ${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
