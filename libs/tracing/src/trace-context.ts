import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';

// Keel's events carry their W3C trace context in the envelope (`traceparent`), and work that leaves the
// call stack — an outbox row published later, a workflow task claimed by another worker — takes it along,
// so one trace runs from the HTTP request to the last workflow step. With no tracer provider registered
// (tracing off), the OpenTelemetry API is a no-op: these functions cost a lookup and return nothing.

const tracer = trace.getTracer('keel');

/** The active span's context as a W3C `traceparent`, or undefined outside any sampled span. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'];
}

/**
 * Runs `work` inside a new span that continues the trace a `traceparent` names (a new trace when there is
 * none), so what the work writes or calls carries this span's context. The span ends when the work does,
 * marked as an error when it throws.
 */
export async function inTraceOf<T>(
  traceparent: string | undefined,
  spanName: string,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
  kind: SpanKind = SpanKind.CONSUMER,
): Promise<T> {
  const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : context.active();
  return tracer.startActiveSpan(spanName, { kind, attributes }, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
