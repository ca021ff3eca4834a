import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '@keel/config';
import { z } from 'zod';

/** OpenTelemetry's own variables: tracing is on when an OTLP endpoint is named. */
export const tracingConfigSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
});

/**
 * Starts OpenTelemetry tracing for a service: incoming and outgoing HTTP (Nest's express server, fetch)
 * and kafkajs are instrumented, and spans go to the OTLP/HTTP endpoint in batches. It must run before
 * the modules it instruments are loaded — each service's `tracing.ts`, the first import of its `main.ts`.
 * Off (returns false) without an endpoint. Spans still buffered are flushed on SIGTERM and SIGINT.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const config = loadConfig(tracingConfigSchema, env);
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT || config.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = new OTLPTraceExporter({
    url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`,
  });
  const sdk = new NodeSDK({
    serviceName: service,
    // Short delay: a case crosses services in milliseconds, and its spans are wanted while it is looked at.
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not requests anybody traces.
        ignoreIncomingRequestHook: (request) => /^\/(health|metrics)/.test(request.url ?? ''),
      }),
      new UndiciInstrumentation(),
      new KafkaJsInstrumentation(),
    ],
  });
  sdk.start();
  const flush = (): void => void sdk.shutdown().catch(() => undefined);
  process.once('SIGTERM', flush);
  process.once('SIGINT', flush);
  return true;
}
