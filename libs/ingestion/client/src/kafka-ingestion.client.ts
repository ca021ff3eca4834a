import { randomUUID } from 'node:crypto';
import { buildEvent, type topics } from '@keel/contracts';
import type { EventPublisher } from '@keel/messaging';
import type { NumberedEvent } from './http-ingestion.client';
import type { SendResult } from './send-result';

export interface KafkaIngestionClientOptions {
  readonly publisher: EventPublisher;
  /** `keel.source.raw.v1` as the deployment names it (namespaced or not). */
  readonly topic: (typeof topics)['sourceRaw'];
  /** CloudEvents `source` of the producer, e.g. `urn:keel:cli`. */
  readonly source: string;
  readonly correlationId?: string;
  readonly now?: () => Date;
}

/**
 * Writes events straight to `keel.source.raw.v1`, as a source system on Kafka does. The broker's
 * acknowledgement is all a producer learns (`sent`): ingestion's verdict is on the case topic, or with its
 * reason on the raw topic's DLQ. Keyed by tenant and system, so one source's events keep their order.
 */
export class KafkaIngestionClient {
  constructor(private readonly options: KafkaIngestionClientOptions) {}

  async send(batch: readonly NumberedEvent[]): Promise<SendResult[]> {
    if (batch.length === 0) return [];
    const now = this.options.now ?? (() => new Date());
    const events = batch.map(({ event }) => {
      const { tenant, ...raw } = event;
      const id = randomUUID();
      return buildEvent(this.options.topic, {
        id,
        source: this.options.source,
        type: 'keel.source.raw',
        time: now().toISOString(),
        subject: `${tenant}/${raw.system}`,
        tenant,
        correlationid: this.options.correlationId ?? id,
        idempotencykey: id,
        data: raw,
      });
    });
    try {
      await this.options.publisher.publish(this.options.topic, events);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return batch.map(({ line }) => ({ line, outcome: 'failed', error: 'broker-unavailable', message }));
    }
    return batch.map(({ line }, index) => ({ line, outcome: 'sent', eventId: events[index]?.id }));
  }
}
