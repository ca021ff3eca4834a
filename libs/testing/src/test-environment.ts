import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

// Plain settings with no @keel imports: jest's global setup and teardown load this without path aliases.

// The global setup starts (or reuses) the broker on KAFKA_PORT, so the tests default to that port too.
const defaultBrokers = `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`;
export const testKafkaBrokers = (process.env.KAFKA_BROKERS ?? defaultBrokers).split(',');
// The machine's Postgres over its Unix socket when it has one, else over TCP: in this VM a statement over
// loopback TCP costs the client ~155 µs of CPU against ~80 µs over the socket (and the server likewise), which
// is most of what a round trip costs the services under test and bench.
const postgresSocketDirectory = '/var/run/postgresql';
const localDatabaseUrl = existsSync(`${postgresSocketDirectory}/.s.PGSQL.5432`)
  ? `postgres://postgres@${encodeURIComponent(postgresSocketDirectory)}:5432/test`
  : 'postgres://postgres@127.0.0.1:5432/test';
export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? localDatabaseUrl;

/** Set by the integration tier's global setup and inherited by its workers: tags the topics of one run. */
export const testRunId = process.env.KEEL_TEST_RUN ?? 'adhoc';

/** A topic namespace (or topic suffix) no other run uses, tagged with this run for the teardown. */
export function testTopicScope(prefix: string): string {
  return `${prefix}_${testRunId}_${randomBytes(4).toString('hex')}`;
}

/** Whether a topic was created by the run `runId` (an isolated copy, its `.dlq`, or an e2e namespace's). */
export function isTopicOfRun(name: string, runId: string): boolean {
  return name.includes(`.t_${runId}_`) || name.startsWith(`e2e_${runId}_`);
}
