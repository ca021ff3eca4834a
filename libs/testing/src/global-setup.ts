import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/**
 * Jest global setup of the integration tier: makes sure a real Postgres and a real Kafka broker serve on
 * 127.0.0.1, reusing running ones and starting them otherwise (the broker keeps running for later runs;
 * `npm run kafka:stop` stops it).
 */
export default function globalSetup(): void {
  execFileSync('bash', [join(root, 'scripts/postgres.sh')], { stdio: 'inherit' });
  execFileSync('bash', [join(root, 'scripts/kafka/kafka.sh'), 'start'], { stdio: 'inherit' });
}
