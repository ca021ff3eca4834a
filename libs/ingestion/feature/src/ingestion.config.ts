import { accessConfigSchema, refineAccessConfig } from '@keel/access';
import { serviceConfigSchema } from '@keel/config';
import { z } from 'zod';

/** The ingestion service's settings: the common ones, access, plus its limits. */
export const ingestionConfigSchema = serviceConfigSchema(3001)
  .extend({
    ...accessConfigSchema.shape,
    /** Largest JSON body `POST /v1/events` reads; a larger one is answered 413. */
    INGESTION_MAX_BODY_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
    /** Most events in one batch. */
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
    /** A folder of extra source definitions (`*.json`) beside the bundled ones. */
    INGESTION_SOURCES_DIR: z.string().min(1).optional(),
  })
  .superRefine(refineAccessConfig);

export type IngestionConfig = z.infer<typeof ingestionConfigSchema>;
