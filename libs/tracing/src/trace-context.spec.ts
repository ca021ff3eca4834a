import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { activeTraceparent, inTraceOf } from './trace-context';

const traceparentOf = (traceId: string, spanId: string): string => `00-${traceId}-${spanId}-01`;

describe('trace context across the outbox and the task queue', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(() => provider.register());
  afterEach(() => exporter.reset());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('has no trace context outside a span', () => {
    expect(activeTraceparent()).toBeUndefined();
  });

  it('continues the trace a traceparent names, and hands its own span on to what the work writes', async () => {
    const incoming = traceparentOf('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7');

    const written = await inTraceOf(incoming, 'process keel.cases.events.v1', { topic: 'cases' }, () =>
      Promise.resolve(activeTraceparent()),
    );

    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('process keel.cases.events.v1');
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(written).toBe(traceparentOf('4bf92f3577b34da6a3ce929d0e0e4736', span?.spanContext().spanId ?? ''));
  });

  it('starts a new trace without a traceparent, and marks a failed work as an error', async () => {
    await expect(
      inTraceOf(undefined, 'task http', {}, () => Promise.reject(new Error('connector refused'))),
    ).rejects.toThrow('connector refused');

    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.status.code).toBe(2);
    expect(span?.events.map((event) => event.name)).toEqual(['exception']);
  });
});
