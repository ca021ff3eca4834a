/** Injection token of the application's prom-client `Registry` (provided by `MetricsModule`). */
export const METRICS_REGISTRY = Symbol('keel.metrics-registry');
