import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ConsumeOutcome = 'processed' | 'duplicate' | 'retried' | 'dead_lettered';

/** The messaging metrics of one service, registered on that service's registry (never the global one). */
export interface MessagingMetrics {
  readonly consumed: Counter<'topic' | 'outcome'>;
  readonly handleDuration: Histogram<'topic'>;
  readonly published: Counter<'topic'>;
  readonly deadLettered: Counter<'topic'>;
  readonly outboxPending: Gauge;
  readonly outboxPublished: Counter;
  readonly consumerLag: Gauge<'consumergroup' | 'topic' | 'partition'>;
}

export function createMessagingMetrics(registry: Registry): MessagingMetrics {
  const registers = [registry];
  return {
    consumed: new Counter({
      name: 'keel_messages_consumed_total',
      help: 'Records consumed, by outcome',
      labelNames: ['topic', 'outcome'],
      registers,
    }),
    handleDuration: new Histogram({
      name: 'keel_message_handle_duration_seconds',
      help: 'Time to decode, handle and durably record one record',
      labelNames: ['topic'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    published: new Counter({
      name: 'keel_messages_published_total',
      help: 'Records published',
      labelNames: ['topic'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'keel_dlq_messages_total',
      help: 'Records sent to a dead-letter topic, by origin topic',
      labelNames: ['topic'],
      registers,
    }),
    outboxPending: new Gauge({
      name: 'keel_outbox_pending_messages',
      help: 'Outbox rows not yet published',
      registers,
    }),
    outboxPublished: new Counter({
      name: 'keel_outbox_published_total',
      help: 'Outbox rows published by the relay',
      registers,
    }),
    // kafka_exporter's name and labels, so community lag dashboards work unchanged.
    consumerLag: new Gauge({
      name: 'kafka_consumergroup_lag',
      help: 'Records behind the high watermark, per consumer group partition',
      labelNames: ['consumergroup', 'topic', 'partition'],
      registers,
    }),
  };
}
