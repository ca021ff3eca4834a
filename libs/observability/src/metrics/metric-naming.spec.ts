import { createMetricsRegistry, metricNamingProblems } from '@keel/observability';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

describe('metricNamingProblems', () => {
  it('accepts keel_<what>_<unit> names, _total counters, base-unit histograms and bounded labels', () => {
    const registry = createMetricsRegistry({ service: 'workflow' });
    const registers = [registry];
    new Counter({
      name: 'keel_messages_consumed_total',
      help: 'h',
      labelNames: ['topic', 'outcome'],
      registers,
    });
    new Histogram({
      name: 'keel_message_handle_duration_seconds',
      help: 'h',
      labelNames: ['topic'],
      registers,
    });
    new Gauge({ name: 'keel_outbox_pending_messages', help: 'h', registers });
    new Gauge({
      name: 'kafka_consumergroup_lag',
      help: 'h',
      labelNames: ['consumergroup', 'topic', 'partition'],
      registers,
    });

    // The default process and Node.js metrics are registered too, and follow their own convention.
    expect(metricNamingProblems(registry)).toEqual([]);
  });

  it('names each broken rule', () => {
    const registry = new Registry();
    const registers = [registry];
    new Counter({ name: 'keel_messages_consumed', help: 'h', registers });
    new Gauge({ name: 'keel_backlog_total', help: 'h', registers });
    new Histogram({ name: 'keel_step_latency_ms', help: 'h', registers });
    new Counter({ name: 'messages_total', help: 'h', registers });
    new Counter({ name: 'keel_cases_total', help: 'h', labelNames: ['case_id', 'tenant'], registers });
    new Gauge({ name: 'keel_queue_depth', help: 'h', labelNames: ['queueName'], registers });

    expect(metricNamingProblems(registry)).toEqual([
      'keel_messages_consumed: a counter must end in _total',
      'keel_backlog_total: only counters end in _total',
      'keel_step_latency_ms: a histogram must end in a base unit (_seconds, _bytes, _ratio)',
      'keel_step_latency_ms: use base units (seconds, bytes)',
      'messages_total: missing the keel_ prefix',
      'keel_cases_total{case_id}: label looks unbounded (an identifier)',
      'keel_queue_depth{queueName}: label not snake_case',
    ]);
  });
});
