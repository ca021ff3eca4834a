import { commonConfigSchema } from '@keel/config';
import { z } from 'zod';

/** Defaults of the CLI's options, from the environment (read once; an empty variable is unset). */
export const cliConfigSchema = z.object({
  KEEL_INGESTION_URL: z.url().default('http://127.0.0.1:3001'),
  KAFKA_BROKERS: commonConfigSchema.shape.KAFKA_BROKERS,
  KEEL_TOPIC_NAMESPACE: commonConfigSchema.shape.KEEL_TOPIC_NAMESPACE,
});
export type CliConfig = z.infer<typeof cliConfigSchema>;
