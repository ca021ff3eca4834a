import { Counter, type Registry } from 'prom-client';
import type { ItemResult } from './application/source-event.ingestor';
import type { IngestionError } from './ingestion.error';

export type Transport = 'http' | 'kafka';

/**
 * `keel_ingestion_events_total{transport, outcome, reason}`: every source event by what became of it —
 * `accepted`, `duplicate`, `rejected` (reason = the error code), or `refused` for now (store or Kafka not
 * taking events; the sender retries). Labels are bounded: two transports, four outcomes, the catalog's codes.
 */
export class IngestionMetrics {
  private readonly events: Counter<'transport' | 'outcome' | 'reason'>;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'keel_ingestion_events_total',
      help: 'Source events by transport and outcome (accepted, duplicate, rejected, refused) and reason',
      labelNames: ['transport', 'outcome', 'reason'],
      registers: [registry],
    });
  }

  answered(transport: Transport, results: readonly ItemResult[]): void {
    for (const result of results) {
      const reason = result.outcome === 'rejected' ? result.error : '';
      this.events.inc({ transport, outcome: result.outcome, reason });
    }
  }

  /** A request or record refused whole, `count` events at once. */
  failed(transport: Transport, error: IngestionError, count: number): void {
    const outcome = error.consumerHandling === 'retry' ? 'refused' : 'rejected';
    this.events.inc({ transport, outcome, reason: error.code }, count);
  }
}
