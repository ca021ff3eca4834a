import { z } from 'zod';

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** Settings every Keel service reads: Kafka, Postgres, HTTP port, logging. */
export const commonConfigSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((value) => value.split(',').map((broker) => broker.trim()))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1)),
  /** Prefix of every topic name (`<ns>.keel.decisions.v1`), isolating environments on one broker. */
  KEEL_TOPIC_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_-]*$/, 'lower-case letters, digits, _ and - only')
    .default(''),
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/postgres'),
  DB_RUN_MIGRATIONS: booleanFlag.default(true),
  CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  CONSUMER_RETRY_INITIAL_MS: z.coerce.number().int().min(0).default(200),
  /** How long the broker waits for a silent consumer before rebalancing its partitions. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** Published outbox rows are deleted after this many hours. */
  OUTBOX_RETENTION_HOURS: z.coerce.number().min(0).default(24),
  /** The deduplication window: processed-event ids are deleted after this many hours. */
  PROCESSED_EVENTS_RETENTION_HOURS: z.coerce
    .number()
    .min(1)
    .default(24 * 7),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).default(200),
});

export type CommonConfig = z.infer<typeof commonConfigSchema>;

/** A service's schema: the common settings plus where it serves HTTP, with its own port default. */
export function serviceConfigSchema(defaultPort: number) {
  return commonConfigSchema.extend({
    /** The interface to listen on: loopback unless set (containers set 0.0.0.0). */
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
  });
}

export type ServiceConfig = z.infer<ReturnType<typeof serviceConfigSchema>>;
