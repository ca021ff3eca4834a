import { loadConfig } from '@keel/config';
import { z } from 'zod';

/** OpenTelemetry's own variables: tracing is on when an OTLP endpoint is named. */
export const tracingConfigSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
});

/**
 * Starts OpenTelemetry tracing for a service (`startOtelSdk`: HTTP, fetch and kafkajs instrumented, spans
 * to the OTLP/HTTP endpoint in batches). It must run before the modules it instruments are loaded — each
 * service's `tracing.ts`, the first import of its `main.ts`. Off (returns false) without an endpoint.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const config = loadConfig(tracingConfigSchema, env);
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT || config.OTEL_SDK_DISABLED === 'true') return false;
  // Loaded only when tracing is on: the SDK, its exporters and instrumentations are ~500 modules and
  // 15–28 MB resident that a service without an endpoint would carry for nothing. Synchronously, so the
  // instrumentations are in place before `main.ts` goes on to load what they patch.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startOtelSdk } = require('./otel-sdk') as typeof import('./otel-sdk');
  startOtelSdk(service, config.OTEL_EXPORTER_OTLP_ENDPOINT);
  return true;
}
