import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * The OpenTelemetry SDK of a service with tracing on: incoming and outgoing HTTP (Nest's express server,
 * fetch) and kafkajs instrumented, spans sent to `<endpoint>/v1/traces` in batches, and flushed on SIGTERM
 * and SIGINT. Only `startTracing` loads this module, and only when tracing is on (see there why).
 */
export function startOtelSdk(service: string, endpoint: string): void {
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` });
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
}
