import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { topics } from '@keel/contracts';
import { InProcessBus, ensureTopics, serveInProcessBus, topicSpecsWithDeadLetters } from '@keel/messaging';
import { PgliteWireServer } from './pglite-wire-server';

/** The broker address the services are configured with; this process serves the in-process bus there. */
export const inProcessBrokerAddress = 'in-process.keel-demo:9092';

/**
 * The parts a deployment gets from servers, inside this process: Postgres (PGlite behind a wire-protocol
 * server, so the services' `pg`/TypeORM code connects unchanged) and Kafka (the in-process bus behind the
 * messaging port). One PGlite holds every service's schema: it is one Postgres session that connections
 * take turns on (`PgliteWireServer`), and every statement of the services names its schema.
 */
export class EmbeddedInfrastructure {
  readonly bus = new InProcessBus({
    crashRestartMs: 200,
    onConsumerCrash: (group, error) =>
      process.stderr.write(
        `consumer ${group} crashed, restarting: ${error instanceof Error ? error.message : String(error)}\n`,
      ),
  });
  private db: PGlite | undefined;
  private server: PgliteWireServer | undefined;
  private stopServing: (() => void) | undefined;
  databaseUrl = '';

  async start(): Promise<void> {
    this.db = await openPglite();
    this.server = new PgliteWireServer(this.db);
    this.databaseUrl = `postgres://postgres@${await this.server.start()}/postgres`;
    this.stopServing = serveInProcessBus(inProcessBrokerAddress, this.bus);
    // Auto creation is off on a broker too: every registry topic and its dead-letter twin exist up front.
    await ensureTopics(this.bus.client('keel-demo'), topicSpecsWithDeadLetters(Object.values(topics)));
  }

  async stop(): Promise<void> {
    this.stopServing?.();
    await this.server?.stop();
    await this.db?.close();
  }
}

// initdb is most of PGlite's start (21.6 s against 3.6 s from a dump, measured at load average 21): the first
// run keeps a dump of the fresh cluster, later runs start from it. The file is per PGlite version; a dump that
// cannot be read is replaced.
const pgliteVersion = (
  JSON.parse(
    readFileSync(join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json'), 'utf8'),
  ) as {
    version: string;
  }
).version;
const initdbCache = join(
  __dirname,
  '../../node_modules/.cache/keel-demo',
  `pglite-${pgliteVersion}-initdb.tar.gz`,
);

async function openPglite(): Promise<PGlite> {
  if (existsSync(initdbCache)) {
    try {
      const dump = new Blob([readFileSync(initdbCache)], { type: 'application/x-gzip' });
      return await PGlite.create({ loadDataDir: dump });
    } catch {
      // Falls through to a fresh cluster, whose dump replaces the unreadable one.
    }
  }
  const db = await PGlite.create();
  const dump = await db.dumpDataDir('gzip');
  mkdirSync(dirname(initdbCache), { recursive: true });
  writeFileSync(`${initdbCache}.partial`, Buffer.from(await dump.arrayBuffer()));
  renameSync(`${initdbCache}.partial`, initdbCache);
  return db;
}
