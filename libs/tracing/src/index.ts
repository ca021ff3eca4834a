export { startTracing, tracingConfigSchema } from './start-tracing';
export { activeTraceparent, inTraceOf, SpanKind } from './trace-context';
