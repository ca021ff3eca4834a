import { buildEvent, type Violation } from '@keel/contracts';
import {
  type AdmittedRecord,
  type Rejection,
  eventIdOf,
  type SourceCatalog,
  type SourceSubmission,
} from '@keel/ingestion-domain';
import type { Topics } from '@keel/messaging';
import type { EntityManager } from 'typeorm';
import type { IngestionErrorCode } from '../ingestion.error';
import type { AcceptedKey, IdempotencyKeys, KeyedEvent } from '../persistence/idempotency-keys.repository';

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

/** A submission after admission: refused, or ready with the key it is accepted under. */
type Admitted =
  | { readonly outcome: 'rejected'; readonly rejection: Rejection }
  | {
      readonly outcome: 'admitted';
      readonly submission: SourceSubmission;
      readonly record: AdmittedRecord;
      readonly key: AcceptedKey;
    };

export interface SourceEventIngestorOptions {
  /** The catalog in force (swapped when new schema versions are adopted). */
  readonly catalog: Pick<SourceCatalog, 'admit'>;
  readonly keys: IdempotencyKeys;
  readonly topics: Pick<Topics, 'caseEvents' | 'knowledgeDocuments'>;
  /** CloudEvents `source` of what ingestion emits. */
  readonly source: string;
  readonly now: () => Date;
}

/**
 * Takes source events in: admits each against its source schema, claims its idempotency key and writes
 * the envelope to the outbox in one statement (in the caller's transaction, or on its own) — so an event is
 * accepted exactly when its key and its outbox row commit, and a resend is answered as a duplicate of the
 * first.
 */
export class SourceEventIngestor {
  constructor(private readonly options: SourceEventIngestorOptions) {}

  /** One result per submission, in order. */
  async ingest(
    manager: EntityManager,
    submissions: readonly SourceSubmission[],
    context: SubmissionContext = {},
  ): Promise<ItemResult[]> {
    const admitted = await Promise.all(
      submissions.map(async (submission): Promise<Admitted> => {
        const admission = await this.options.catalog.admit(submission);
        if (admission.outcome === 'rejected') return { outcome: 'rejected', rejection: admission.rejection };
        const { record } = admission;
        const key: AcceptedKey = {
          key: record.idempotencyKey,
          eventId: eventIdOf(record.idempotencyKey),
          topic: this.options.topics[record.topic].name,
          subject: record.subject,
        };
        return { outcome: 'admitted', submission, record, key };
      }),
    );
    // Each admitted event's envelope is built before its key is claimed, so that key and outbox row go in one
    // round trip for the batch; only the envelopes of the keys claimed now are written.
    const claims = admitted.flatMap((item) =>
      item.outcome === 'admitted' ? [{ accepted: item.key, events: [this.envelope(item, context)] }] : [],
    );
    const heldBefore = await this.options.keys.claim(manager, claims);
    // An event repeated within the batch is a duplicate of its first occurrence.
    const acceptedNow = new Set<string>();
    const results: ItemResult[] = [];
    for (const item of admitted) {
      if (item.outcome === 'rejected') {
        const { code, message, violations } = item.rejection;
        results.push({ outcome: 'rejected', error: code, message, violations });
        continue;
      }
      const { key } = item;
      const first = heldBefore.get(key.key) ?? (acceptedNow.has(key.key) ? key : undefined);
      if (first) {
        const { eventId, subject, topic } = first;
        results.push({ outcome: 'duplicate', eventId, subject, topic });
        continue;
      }
      acceptedNow.add(key.key);
      results.push({ outcome: 'accepted', eventId: key.eventId, subject: key.subject, topic: key.topic });
    }
    return results;
  }

  /** The envelope an admitted event is published in. */
  private envelope(
    { submission, record, key }: Extract<Admitted, { outcome: 'admitted' }>,
    context: SubmissionContext,
  ): KeyedEvent {
    const attributes = {
      id: key.eventId,
      source: this.options.source,
      type: record.type,
      time: this.options.now().toISOString(),
      subject: record.subject,
      tenant: submission.tenant,
      correlationid: context.correlationId ?? key.eventId,
      ...(context.causationId ? { causationid: context.causationId } : {}),
      idempotencykey: record.idempotencyKey,
    };
    if (record.topic === 'caseEvents') {
      const topic = this.options.topics.caseEvents;
      return { topic, event: buildEvent(topic, { ...attributes, data: record.data }) };
    }
    const topic = this.options.topics.knowledgeDocuments;
    return { topic, event: buildEvent(topic, { ...attributes, data: record.data }) };
  }
}
