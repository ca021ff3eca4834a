import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/**
 * Jest global setup of the integration tier: makes sure a real Postgres and a real Kafka broker serve on
 * 127.0.0.1, reusing running ones and starting them otherwise (the broker keeps running for later runs;
 * `npm run kafka:stop` stops it).
 */
export default function globalSetup(): void {
  // Workers inherit it: the topics they create carry it, and the teardown deletes exactly those.
  process.env.KEEL_TEST_RUN = randomBytes(4).toString('hex');
  execFileSync('bash', [join(root, 'scripts/postgres.sh')], { stdio: 'inherit' });
  execFileSync('bash', [join(root, 'scripts/kafka/kafka.sh'), 'start'], { stdio: 'inherit' });
}
