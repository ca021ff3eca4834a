import { accessConfigSchema } from '@keel/access';
import { commonConfigSchema } from '@keel/config';
import { z } from 'zod';

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/** Defaults of the CLI's options, from the environment (read once; an empty variable is unset). */
export const cliConfigSchema = z.object({
  KEEL_INGESTION_URL: z.url().default('http://127.0.0.1:3001'),
  KAFKA_BROKERS: commonConfigSchema.shape.KAFKA_BROKERS,
  KEEL_TOPIC_NAMESPACE: commonConfigSchema.shape.KEEL_TOPIC_NAMESPACE,
  /** A bearer token (JWT) to send as is: from the organisation's issuer, or `keel token`. */
  KEEL_TOKEN: optional(z.string().min(1)),
  /** A governance API key (`keel_<id>_<secret>`), exchanged at governance for short-lived tokens. */
  KEEL_API_KEY: optional(z.string().min(1)),
  KEEL_GOVERNANCE_URL: z.url().default('http://127.0.0.1:3005'),
  /** Where `keel token` finds the local stack's signing key when ACCESS_SHARED_KEY is not set. */
  KEEL_SECRETS_FILE: z.string().min(1).default('tmp/stack/secrets.env'),
  ...accessConfigSchema.shape,
});
export type CliConfig = z.infer<typeof cliConfigSchema>;
