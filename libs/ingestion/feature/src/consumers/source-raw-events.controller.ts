import type { CloudEvent, SourceRawEvent } from '@keel/contracts';
import { KafkaEventContext, KafkaEventHandlers } from '@keel/messaging';
import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { SourceEventIngestor } from '../application/source-event.ingestor';
import { forConsumer, IngestionError } from '../ingestion.error';
import { IngestionMetrics } from '../ingestion.metrics';

/**
 * Source systems that write to Kafka (`keel.source.raw.v1`) instead of calling the API: each record is
 * ingested in the consumer's transaction, so its processed-event id, idempotency key and outbox row commit
 * together. A record that can never be accepted is dead-lettered with its reason; one that cannot be
 * accepted now (Kafka not taking what was accepted) is retried.
 */
@KafkaEventHandlers()
export class SourceRawEventsController {
  constructor(
    @Inject(SourceEventIngestor) private readonly ingestor: SourceEventIngestor,
    @Inject(IngestionMetrics) private readonly metrics: IngestionMetrics,
  ) {}

  @EventPattern('sourceRaw')
  async onSourceEvent(
    @Payload() event: CloudEvent<SourceRawEvent>,
    @Ctx() context: KafkaEventContext,
  ): Promise<void> {
    const results = await this.ingestor
      .ingest(context.manager, [{ ...event.data, tenant: event.tenant }], {
        correlationId: event.correlationid,
        causationId: event.id,
      })
      .catch((error: unknown) => {
        if (!(error instanceof IngestionError)) throw error;
        this.metrics.failed('kafka', error, 1);
        throw forConsumer(error);
      });
    this.metrics.answered('kafka', results);
    const [result] = results;
    if (result?.outcome === 'rejected') {
      throw forConsumer(new IngestionError(result.error, result.message, { violations: result.violations }));
    }
  }
}
