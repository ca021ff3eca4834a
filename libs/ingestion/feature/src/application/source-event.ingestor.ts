import { buildEvent, type CloudEvent, type Violation } from '@keel/contracts';
import {
  type AdmittedRecord,
  eventIdOf,
  type SourceCatalog,
  type SourceSubmission,
} from '@keel/ingestion-domain';
import type { OutboxWriter, Topics } from '@keel/messaging';
import type { EntityManager } from 'typeorm';
import { IngestionError, type IngestionErrorCode } from '../ingestion.error';
import type { AcceptedKey, IdempotencyKeys } from '../persistence/idempotency-keys.repository';
import type { PublishBacklog } from '../persistence/publish-backlog.repository';

/** Where a submission came from, carried onto the envelope. */
export interface SubmissionContext {
  /** Correlation id of the caller's flow; defaults to the new event's id. */
  readonly correlationId?: string;
  /** The raw record a Kafka submission came in as. */
  readonly causationId?: string;
}

export type ItemResult =
  | {
      readonly outcome: 'accepted' | 'duplicate';
      readonly eventId: string;
      readonly subject: string;
      readonly topic: string;
    }
  | {
      readonly outcome: 'rejected';
      readonly error: IngestionErrorCode;
      readonly message: string;
      readonly violations: readonly Violation[];
    };

export interface SourceEventIngestorOptions {
  readonly catalog: SourceCatalog;
  readonly keys: IdempotencyKeys;
  readonly backlog: PublishBacklog;
  readonly outbox: Pick<OutboxWriter, 'enqueue'>;
  readonly topics: Pick<Topics, 'caseEvents' | 'knowledgeDocuments'>;
  readonly maxPublishLagMs: number;
  /** CloudEvents `source` of what ingestion emits. */
  readonly source: string;
  readonly now: () => Date;
}

/**
 * Takes source events in: admits each against its source schema, claims its idempotency key and writes
 * the envelope to the outbox in the caller's transaction — so an event is accepted exactly when its key
 * and its outbox row commit, and a resend is answered as a duplicate of the first.
 */
export class SourceEventIngestor {
  constructor(private readonly options: SourceEventIngestorOptions) {}

  /** One result per submission, in order. Throws `publishing-stalled` while Kafka takes nothing. */
  async ingest(
    manager: EntityManager,
    submissions: readonly SourceSubmission[],
    context: SubmissionContext = {},
  ): Promise<ItemResult[]> {
    await this.refuseWhileStalled(manager);
    const admissions = await Promise.all(
      submissions.map((submission) => this.options.catalog.admit(submission)),
    );
    const claims = admissions.flatMap((admission): AcceptedKey[] => {
      if (admission.outcome === 'rejected') return [];
      const { record } = admission;
      return [
        {
          key: record.idempotencyKey,
          eventId: eventIdOf(record.idempotencyKey),
          topic: this.options.topics[record.topic].name,
          subject: record.subject,
        },
      ];
    });
    // One round trip for the batch; an event repeated within it is a duplicate of its first occurrence.
    const heldBefore = await this.options.keys.claim(manager, claims);
    const acceptedNow = new Map<string, AcceptedKey>();
    const results: ItemResult[] = [];
    const caseEvents: Array<CloudEvent<Extract<AdmittedRecord, { topic: 'caseEvents' }>['data']>> = [];
    const documents: Array<CloudEvent<Extract<AdmittedRecord, { topic: 'knowledgeDocuments' }>['data']>> = [];
    admissions.forEach((admission, index) => {
      if (admission.outcome === 'rejected') {
        const { code, message, violations } = admission.rejection;
        results.push({ outcome: 'rejected', error: code, message, violations });
        return;
      }
      const { record } = admission;
      const first = heldBefore.get(record.idempotencyKey) ?? acceptedNow.get(record.idempotencyKey);
      if (first) {
        results.push({
          outcome: 'duplicate',
          eventId: first.eventId,
          subject: first.subject,
          topic: first.topic,
        });
        return;
      }
      const topic = this.options.topics[record.topic];
      const eventId = eventIdOf(record.idempotencyKey);
      acceptedNow.set(record.idempotencyKey, {
        key: record.idempotencyKey,
        eventId,
        topic: topic.name,
        subject: record.subject,
      });
      const attributes = {
        id: eventId,
        source: this.options.source,
        type: record.type,
        time: this.options.now().toISOString(),
        subject: record.subject,
        tenant: submissions[index]?.tenant ?? '',
        correlationid: context.correlationId ?? eventId,
        ...(context.causationId ? { causationid: context.causationId } : {}),
        idempotencykey: record.idempotencyKey,
      };
      if (record.topic === 'caseEvents') {
        caseEvents.push(buildEvent(this.options.topics.caseEvents, { ...attributes, data: record.data }));
      } else {
        documents.push(
          buildEvent(this.options.topics.knowledgeDocuments, { ...attributes, data: record.data }),
        );
      }
      results.push({ outcome: 'accepted', eventId, subject: record.subject, topic: topic.name });
    });
    await this.options.outbox.enqueue(manager, this.options.topics.caseEvents, caseEvents);
    await this.options.outbox.enqueue(manager, this.options.topics.knowledgeDocuments, documents);
    return results;
  }

  private async refuseWhileStalled(manager: EntityManager): Promise<void> {
    const lagMs = await this.options.backlog.oldestWaitMs(manager);
    if (lagMs !== undefined && lagMs > this.options.maxPublishLagMs) {
      throw new IngestionError(
        'publishing-stalled',
        `events accepted ${Math.round(lagMs / 1000)} s ago are still not on Kafka; try again later`,
      );
    }
  }
}
