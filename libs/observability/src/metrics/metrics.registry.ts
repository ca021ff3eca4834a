import { collectDefaultMetrics, Registry } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Added to every series as the `service` label. */
  readonly service: string;
  /** Process and Node.js runtime metrics (`process_*`, `nodejs_*`); on unless a test turns them off. */
  readonly defaultMetrics?: boolean;
}

/**
 * A registry owned by one application instance. Never prom-client's global one: tests create the same
 * app several times in one process, and a second registration of a name would throw.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}
