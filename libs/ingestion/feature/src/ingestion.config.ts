import { accessConfigSchema, refineAccessConfig } from '@keel/access';
import { serviceConfigSchema } from '@keel/config';
import { governanceClientConfigSchema } from '@keel/releases';
import { z } from 'zod';

/** The ingestion service's settings: the common ones, access, plus its limits. */
export const ingestionConfigSchema = serviceConfigSchema(3001)
  .extend({
    ...accessConfigSchema.shape,
    /** Largest JSON body `POST /v1/events` reads; a larger one is answered 413. */
    INGESTION_MAX_BODY_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
    /**
     * Most events in one batch. A batch is one statement of five parameters an event (its outbox row) plus
     * four, so past ~13,000 it would exceed Postgres's 65,535 parameters.
     */
    INGESTION_MAX_BATCH_EVENTS: z.coerce.number().int().min(1).max(10_000).default(500),
    /** Deepest nesting a payload may have (its top level is 1). */
    INGESTION_MAX_PAYLOAD_DEPTH: z.coerce.number().int().min(1).max(64).default(12),
    /** Requests one client may make per window (per replica); more are answered 429. */
    INGESTION_RATE_LIMIT: z.coerce.number().int().min(1).default(1_200),
    INGESTION_RATE_WINDOW_MS: z.coerce.number().int().min(100).default(60_000),
    /**
     * When the oldest event waiting in the outbox is older than this, Kafka is not taking what was accepted:
     * `POST /v1/events` answers 503 instead of piling events up.
     */
    INGESTION_MAX_PUBLISH_LAG_MS: z.coerce.number().int().min(100).default(10_000),
    /** How long an idempotency key is remembered: a resend within it is answered as a duplicate. */
    INGESTION_DEDUPE_RETENTION_HOURS: z.coerce
      .number()
      .min(1)
      .default(24 * 7),
    /** A folder of extra source definitions (`*.json`) seeded beside the bundled ones on a fresh install. */
    INGESTION_SOURCES_DIR: z.string().min(1).optional(),
    /**
     * Governance, whose registry versions of kind `event-schema` ingestion adopts (both or neither): its URL
     * and a machine client's API key of the tenant whose registry governs the sources (viewer is enough).
     */
    ...governanceClientConfigSchema.shape,
    /** How often the registry and the stored schema versions are looked at. */
    INGESTION_SCHEMA_REFRESH_MS: z.coerce.number().int().min(50).default(2_000),
  })
  .superRefine(refineAccessConfig)
  .superRefine((config, context) => {
    if ((config.GOVERNANCE_URL === undefined) === (config.GOVERNANCE_API_KEY === undefined)) return;
    context.addIssue({
      code: 'custom',
      message: 'GOVERNANCE_URL and GOVERNANCE_API_KEY go together: schema versions are read from governance',
      path: [config.GOVERNANCE_URL === undefined ? 'GOVERNANCE_URL' : 'GOVERNANCE_API_KEY'],
    });
  });

export type IngestionConfig = z.infer<typeof ingestionConfigSchema>;
