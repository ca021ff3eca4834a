import type { CloudEvent } from '@keel/contracts';

/** The plain W3C `traceparent` header beside `ce_traceparent`, so OpenTelemetry's Kafka instrumentation links spans. */
export function traceHeaders(event: CloudEvent): Record<string, string> {
  return event.traceparent ? { traceparent: event.traceparent } : {};
}
